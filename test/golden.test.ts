import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { formatDiagnostic } from '../src/model/diagnostics.js';
import { calicoVersions } from '../src/render/profiles.js';
import { checkParses } from './helpers/bird.js';
import { goldenCases, renderCase, updateGolden } from './helpers/golden.js';

const root = join('fixtures', 'bird');
const cases = goldenCases(root);

describe('golden BIRD configs (fixtures/bird)', () => {
  test('there are golden cases', () => assert.ok(cases.length >= 7, `only ${cases.length} cases`));
  // Every case is rendered as each Calico release renders it: expected/calico-<version>/<node>/.
  for (const c of cases) {
    for (const node of c.nodes) for (const calicoVersion of calicoVersions) {
      test(`${c.name} / ${node} (Calico ${calicoVersion})`, async (t) => {
        const { files, diagnostics } = await renderCase(c, node, { calicoVersion });
        assert.deepEqual(diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic), []);
        const expectedDir = join(c.dir, 'expected', `calico-${calicoVersion}`, node);
        if (updateGolden) {
          rmSync(expectedDir, { recursive: true, force: true });
          mkdirSync(expectedDir, { recursive: true });
          for (const [name, text] of files) writeFileSync(join(expectedDir, name), text);
        }
        assert.ok(existsSync(expectedDir), `no expected output; run with UPDATE_GOLDEN=1 to create ${expectedDir}`);
        assert.deepEqual([...files.keys()].sort(), readdirSync(expectedDir).sort(), 'file set differs');
        for (const [name, text] of files) {
          assert.equal(text, readFileSync(join(expectedDir, name), 'utf8'), `${c.name}/${node}/${name} differs from the golden file`);
        }
        await checkParses(t, [expectedDir], "Calico's BIRD parses the golden files");
      });
    }
  }
});

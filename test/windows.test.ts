import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { calicoVersions } from '../src/render/profiles.js';
import { psQuote } from '../src/render/view/windows-view.js';
import { goldenCases, renderCase, updateGolden } from './helpers/golden.js';

const cases = goldenCases(join('fixtures', 'windows'));

/**
 * A small PowerShell lexer for what our scripts may contain: single-quoted strings (with `''`),
 * comments, and plain tokens. Returns the text outside strings and comments, and whether every
 * string was closed.
 */
function outsideStrings(ps: string): { code: string; balanced: boolean } {
  let code = '';
  let i = 0;
  while (i < ps.length) {
    const c = ps[i]!;
    if (c === '#') {
      while (i < ps.length && ps[i] !== '\n') i++;
    } else if (c === "'") {
      i++;
      for (;;) {
        if (i >= ps.length) return { code, balanced: false };
        if (ps[i] === "'" && ps[i + 1] === "'") i += 2;
        else if (ps[i] === "'") break;
        else i++;
      }
      i++;
      code += "''";
    } else {
      code += c;
      i++;
    }
  }
  return { code, balanced: true };
}

/** The (neighbour, AS) pairs of a rendered bird.cfg. */
function birdPeers(cfg: string): Set<string> {
  return new Set([...cfg.matchAll(/^\s*neighbor (\S+)(?: port \d+)? as (\d+);/gm)].map((m) => `${m[1]} ${m[2]}`));
}

/** The (IP, AS) pairs of a rendered peerings.ps1. */
function windowsPeers(ps: string): Set<string> {
  return new Set([...ps.matchAll(/IP = '([^']*)'; AS = (\d+)/g)].map((m) => `${m[1]} ${m[2]}`));
}

describe('Windows scripts (fixtures/windows)', () => {
  test('there are Windows golden cases', () => assert.ok(cases.length >= 4));

  for (const c of cases) {
    for (const node of c.nodes) {
      for (const calicoVersion of calicoVersions) {
      test(`${c.name} / ${node}: golden peerings.ps1 and blocks.ps1 (Calico ${calicoVersion})`, async () => {
        const { files } = await renderCase(c, node, { target: 'windows', calicoVersion });
        assert.deepEqual([...files.keys()].sort(), ['blocks.ps1', 'peerings.ps1']);
        const dir = join(c.dir, 'expected', `calico-${calicoVersion}`, node);
        if (updateGolden) {
          rmSync(dir, { recursive: true, force: true });
          mkdirSync(dir, { recursive: true });
          for (const [name, text] of files) writeFileSync(join(dir, name), text);
        }
        assert.ok(existsSync(dir), `no expected output; run with UPDATE_GOLDEN=1 to create ${dir}`);
        assert.deepEqual(readdirSync(dir).sort(), [...files.keys()].sort());
        for (const [name, text] of files) {
          assert.equal(text, readFileSync(join(dir, name), 'utf8'), `${c.name}/${node}/${name} differs from the golden file`);
          assert.ok(!/[^\r]\n/.test(text), `${name} has a bare LF line ending`);
          const { code, balanced } = outsideStrings(text.replace(/\r/g, ''));
          assert.ok(balanced, `${name}: unbalanced quotes`);
          assert.doesNotMatch(code, /\$\(|`|"|;\s*[A-Za-z-]+-[A-Za-z]+/, `${name}: something executable outside single-quoted strings: ${code}`);
        }
      });
      }

      // v3.17's scripts and BIRD files follow the same peering rules (v3.32's scripts kept v3.17's mesh).
      test(`${c.name} / ${node}: Windows and BIRD agree on the peerings (Calico 3.17)`, async () => {
        const { files: bird } = await renderCase(c, node, { target: 'linux', calicoVersion: '3.17' });
        const { files: win } = await renderCase(c, node, { target: 'windows', calicoVersion: '3.17' });
        assert.deepEqual(windowsPeers(win.get('peerings.ps1')!), birdPeers(bird.get('bird.cfg')!));
      });
    }
  }

  test('PowerShell quoting: single quotes doubled, nothing expanded', () => {
    assert.equal(psQuote("it's $(whoami) `n"), "'it''s $(whoami) `n'");
    assert.equal(psQuote('\u2019'), "''''");
    assert.ok(outsideStrings(psQuote("a'b$(x)")).balanced);
    assert.equal(outsideStrings(psQuote("a'b$(x)")).code, "''");
  });

  test('a hostile label matched by a selector changes which peers exist, never the script text', async () => {
    const c = cases.find((x) => x.name === 'hostile-values')!;
    const { files } = await renderCase(c, 'win-1', { target: 'windows' });
    const ps = files.get('peerings.ps1')!;
    assert.match(ps, /Name = 'Node_10_50_0_254'/);
    assert.doesNotMatch(ps, /Remove-Item|Stop-Computer|whoami/);
  });
});

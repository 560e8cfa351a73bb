import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { parseManifestText, snapshotOf } from '../src/model/load.js';
import { renderNodeWithTemplates } from '../src/watch/template-files.js';
import { birdParseDir } from './helpers/bird.js';
import { skipWithoutCalicoBird } from './helpers/calico-bird.js';
import { y } from './helpers/snap.js';
import { filesIn, sameFiles, until } from './helpers/watch.js';

const work = mkdtempSync(join(tmpdir(), 'bird-confd-crash-'));
after(() => rmSync(work, { recursive: true, force: true }));

/** State k changes bird.cfg, bird_aggr.cfg and bird6.cfg together, so a mix of two states shows. */
function state(k: number): string {
  return (
    y.node('a', '{ipv4Address: 10.0.0.1/24, ipv6Address: "fd00::1/64"}') +
    y.node('b', `{ipv4Address: 10.0.${1 + (k % 200)}.2/16, ipv6Address: "fd00::${(k + 2).toString(16)}/64"}`) +
    y.block('blk', `{node: a, cidr: 10.244.${k % 250}.0/26, state: confirmed}`)
  );
}

function expected(k: number): Map<string, string> {
  return renderNodeWithTemplates(snapshotOf(parseManifestText(state(k), 's.yaml').resources), 'a').files!;
}

describe('crash safety', () => {
  test('SIGKILL at random moments during applies always leaves one complete, valid set', async (t) => {
    // The files in place are parsed right after each kill, before the next round changes them.
    const noParse = skipWithoutCalicoBird();
    const dir = join(work, 'manifests');
    const out = join(work, 'out');
    mkdirSync(dir);
    let k = 0;
    writeFileSync(join(dir, 'state.yaml'), state(k));
    const candidates = new Map<number, Map<string, string>>([[0, expected(0)]]);
    let kills = 0;
    const seenStates = new Set<number>();
    for (let round = 0; round < 50; round++) {
      // A state no daemon has seen yet: the new daemon's first render is sure to apply a new set.
      k++;
      candidates.set(k, expected(k));
      writeFileSync(join(dir, 'state.yaml'), state(k));
      // No check in the daemon: it would only slow the applies this test interrupts; the files in place are parsed below.
      const child = spawn(process.execPath, ['bin/bird-confd.js', 'watch', '-f', dir, '--node', 'a', '--out', out, '--debounce', '0', '--no-reload', '--no-check'], { stdio: ['ignore', 'ignore', 'pipe'] });
      let log = '';
      child.stderr!.setEncoding('utf8').on('data', (c: string) => (log += c));
      // The kill window opens once the daemon has applied its first set, not at spawn: on a loaded
      // machine starting the process alone can take seconds.
      try {
        await until(`round ${round}: the daemon's first apply`, () => /applied a new file set/.test(log), 60_000);
      } catch (err) {
        child.kill('SIGKILL');
        throw err;
      }
      const killAt = Date.now() + 20 + Math.floor(Math.random() * 700);
      while (Date.now() < killAt) {
        k++;
        candidates.set(k, expected(k));
        writeFileSync(join(dir, 'state.yaml'), state(k));
        await new Promise((r) => setTimeout(r, 5 + Math.floor(Math.random() * 20)));
      }
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      kills++;
      const files = filesIn(out);
      const match = [...candidates].find(([, c]) => sameFiles(c, files));
      assert.ok(match, `round ${round}: the files in place are not one complete rendered set`);
      seenStates.add(match[0]);
      if (noParse) continue;
      const parsed = await birdParseDir(out);
      assert.ok(parsed.ok, `round ${round}: ${parsed.output}`);
    }
    assert.equal(kills, 50);
    // Every round applied at least its first state before the kill, so the rounds end on different states.
    assert.ok(seenStates.size > 5, `applies rarely completed (${seenStates.size} states seen)`);
    if (noParse) await t.test("the files in place after each kill parse with Calico's BIRD", { skip: noParse }, () => undefined);
  });
});

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { lstatSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { parseManifestText, snapshotOf } from '../src/model/load.js';
import { renderNodeWithTemplates } from '../src/watch/template-files.js';
import { birdParseDir } from './helpers/bird.js';
import { skipWithoutCalicoBird } from './helpers/calico-bird.js';
import { y } from './helpers/snap.js';
import { filesIn, sameFiles } from './helpers/watch.js';

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

/** Whether a set was swapped into `out` after `since` (the `..data` link is replaced by each swap). */
function swappedSince(out: string, since: number): boolean {
  try {
    return lstatSync(join(out, '..data')).mtimeMs > since;
  } catch {
    return false;
  }
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
    let seenStates = new Set<number>();
    for (let round = 0; round < 50; round++) {
      // No check in the daemon: it would only slow the applies this test interrupts; the files in place are parsed below.
      const child = spawn(process.execPath, ['bin/bird-confd.js', 'watch', '-f', dir, '--node', 'a', '--out', out, '--debounce', '0', '--no-reload', '--no-check'], { stdio: 'ignore' });
      const spawned = Date.now();
      // Even rounds: a moment after the start (start-up, first apply); odd rounds: a moment after
      // this process swapped a set in, i.e. during later applies, however slow start-up is here.
      let killAt = round % 2 === 0 ? spawned + 300 + Math.floor(Math.random() * 1700) : Infinity;
      while (Date.now() < killAt) {
        k++;
        candidates.set(k, expected(k));
        writeFileSync(join(dir, 'state.yaml'), state(k));
        await new Promise((r) => setTimeout(r, 5 + Math.floor(Math.random() * 20)));
        if (killAt === Infinity && (swappedSince(out, spawned) || Date.now() - spawned > 15_000)) killAt = Date.now() + Math.floor(Math.random() * 800);
      }
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      kills++;
      const files = filesIn(out);
      if (files.size === 0) continue; // killed before the first apply ever finished
      const match = [...candidates].find(([, c]) => sameFiles(c, files));
      assert.ok(match, `round ${round}: the files in place are not one complete rendered set`);
      seenStates.add(match[0]);
      if (noParse) continue;
      const parsed = await birdParseDir(out);
      assert.ok(parsed.ok, `round ${round}: ${parsed.output}`);
    }
    assert.equal(kills, 50);
    assert.ok(seenStates.size > 5, `applies rarely completed (${seenStates.size} states seen)`);
    if (noParse) await t.test("the files in place after each kill parse with Calico's BIRD", { skip: noParse }, () => undefined);
  });
});

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { y } from './helpers/snap.js';
import { filesIn, sameFiles, startWatch, until, type WatchProcess } from './helpers/watch.js';

const work = mkdtempSync(join(tmpdir(), 'bird-confd-wtpl-'));
let w: WatchProcess | null = null;
after(async () => {
  await w?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('watch with custom templates', () => {
  test('a template that fails at render time keeps the last good files and is reported with file and line', async () => {
    const dir = join(work, 'manifests');
    const out = join(work, 'out');
    mkdirSync(dir);
    // Mesh off and no peers: the broken peer partial is never used, so the first render succeeds.
    writeFileSync(join(dir, 'cluster.yaml'), y.config('{nodeToNodeMeshEnabled: false}') + y.node('a', '{ipv4Address: 10.0.0.1/24}'));
    // --no-check: a template that fails to render never reaches the check.
    w = startWatch(['-f', dir, '--node', 'a', '--out', out, '--debounce', '20', '--no-reload', '--no-check', '--templates', join('fixtures', 'custom-templates', 'peer-typo')]);
    await until('first apply', () => filesIn(out).size === 6);
    const good = filesIn(out);
    writeFileSync(join(dir, 'peer.yaml'), y.peer('tor', '{peerIP: 192.0.2.1, asNumber: 65001}'));
    await until('the template error is reported', () => /render failed/.test(w!.output()));
    assert.match(w.output(), /peer-typo\/partials\/peer\.hbs: line 7, column \d+: \\?"neighbour\\?" is not a field of the view here/);
    assert.ok(sameFiles(filesIn(out), good), 'files changed although the render failed');
  });
});

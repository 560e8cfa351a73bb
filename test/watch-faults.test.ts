import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { y } from './helpers/snap.js';
import { expectedFiles, filesIn, sameFiles, startWatch, until, type WatchProcess } from './helpers/watch.js';

const work = mkdtempSync(join(tmpdir(), 'bird-confd-faults-'));
const running: WatchProcess[] = [];
const mounts: string[] = [];
after(async () => {
  for (const w of running) await w.stop();
  for (const m of mounts) spawnSync('umount', ['-l', m]);
  rmSync(work, { recursive: true, force: true });
});

const nodes = (ip: number) => y.node('a', '{ipv4Address: 10.0.0.1/24}') + y.node('b', `{ipv4Address: 10.0.${1 + (ip % 200)}.2/16}`);

describe('faults', () => {
  test('a reload storm: 100 relevant changes a second for 10 s give at most one reload per debounce window', async () => {
    const dir = join(work, 'storm');
    const out = join(work, 'storm-out');
    const reloads = join(work, 'storm-reloads.log');
    mkdirSync(dir);
    writeFileSync(join(dir, 'nodes.yaml'), nodes(0));
    // --no-check: this counts reloads per debounce window; the check is proved in watch-bird.test.ts.
    const w = startWatch(['-f', dir, '--node', 'a', '--out', out, '--debounce', '500', '--no-check', '--reload-cmd', `echo r >> ${reloads}`, '--reload-cmd6', 'true']);
    running.push(w);
    await until('first apply', () => existsSync(reloads));
    const start = Date.now();
    let i = 0;
    while (Date.now() - start < 10_000) {
      writeFileSync(join(dir, 'nodes.yaml'), nodes(++i));
      await new Promise((r) => setTimeout(r, 10));
    }
    const reloadLines = () => readFileSync(reloads, 'utf8').trim().split('\n').length;
    await until('the last change applied', async () => sameFiles(filesIn(out), await expectedFiles([dir], 'a')), 10_000);
    // The reload runs after the swap: wait for it rather than race it.
    await until('a reload after the first', () => reloadLines() >= 2, 10_000);
    const count = reloadLines() - 1;
    const windows = Math.ceil((Date.now() - start) / 500);
    assert.ok(i > 500, `only ${i} changes written`);
    assert.ok(count <= windows + 1, `${count} reloads for ${windows} debounce windows`);
    assert.ok(count >= 1);
  });

  test('a failed reload is retried with back-off until it succeeds, and the failure is visible', async () => {
    const dir = join(work, 'reload');
    mkdirSync(dir);
    writeFileSync(join(dir, 'nodes.yaml'), nodes(0));
    const count = join(work, 'reload-count');
    const times = join(work, 'reload-times');
    // Fails twice, then succeeds; records when each attempt ran.
    const script = `n=$(cat ${count} 2>/dev/null || echo 0); n=$((n+1)); echo $n > ${count}; date +%s%N >> ${times}; [ $n -ge 3 ]`;
    // --no-check: this is about reload retries; the check is proved in watch-bird.test.ts.
    const w = startWatch(['-f', dir, '--node', 'a', '--out', join(work, 'reload-out'), '--debounce', '0', '--no-check', '--reload-cmd', `sh -c '${script}'`, '--reload-cmd6', 'true']);
    running.push(w);
    // The script writes the count before the time: wait for both of the third attempt.
    const attempts = () => (existsSync(times) ? readFileSync(times, 'utf8').trim().split('\n').length : 0);
    await until('the third attempt succeeded', () => /"outcome"/.test(w.output()) && existsSync(count) && readFileSync(count, 'utf8').trim() === '3' && attempts() === 3, 20_000);
    assert.equal((w.output().match(/reload failed; will retry/g) ?? []).length, 2);
    const at = readFileSync(times, 'utf8').trim().split('\n').map((t) => Number(t) / 1e6);
    const gaps = [at[1]! - at[0]!, at[2]! - at[1]!];
    assert.ok(gaps[0]! >= 900 && gaps[1]! >= 1800, `retries not backed off: ${gaps.map(Math.round).join(' ms, ')} ms`);
  });

  test('a full disk: no partial files, a clear error, and a retry that succeeds once there is room', { skip: process.getuid?.() !== 0 ? 'needs root to mount a tmpfs' : false }, async () => {
    const mnt = join(work, 'tiny');
    mkdirSync(mnt);
    const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mnt], { encoding: 'utf8' });
    assert.equal(m.status, 0, m.stderr);
    mounts.push(mnt);
    const dir = join(work, 'disk');
    mkdirSync(dir);
    writeFileSync(join(dir, 'nodes.yaml'), nodes(0));
    const out = join(mnt, 'out');
    // --no-check: this is about writing to a full disk; the check is proved in watch-bird.test.ts.
    const w = startWatch(['-f', dir, '--node', 'a', '--out', out, '--debounce', '20', '--no-check', '--no-reload']);
    running.push(w);
    await until('first apply', async () => sameFiles(filesIn(out), await expectedFiles([dir], 'a')));
    const good = filesIn(out);
    // Fill the disk, then make a change: the write fails, the old set stays whole.
    spawnSync('dd', ['if=/dev/zero', `of=${join(mnt, 'filler')}`, 'bs=4k', 'count=1000'], { encoding: 'utf8' });
    writeFileSync(join(dir, 'nodes.yaml'), nodes(7));
    await until('the write failure is reported', () => /writing the files failed/.test(w.output()));
    assert.match(w.output(), /ENOSPC/);
    assert.ok(sameFiles(filesIn(out), good), 'partial or changed files after a failed write');
    assert.deepEqual(readdirSync(out).filter((e) => e.startsWith('..gen-')).length, 1, 'a partial generation was left');
    // Room again: the retry (with back-off) applies the change.
    rmSync(join(mnt, 'filler'));
    await until('applied after the disk has room', async () => sameFiles(filesIn(out), await expectedFiles([dir], 'a')), 20_000);
  });
});

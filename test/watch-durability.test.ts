import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { applySet } from '../src/watch/apply.js';
import type { OutputFs } from '../src/watch/output-dir.js';
import { filesIn } from './helpers/watch.js';

const work = mkdtempSync(join(tmpdir(), 'bird-confd-durable-'));
after(() => rmSync(work, { recursive: true, force: true }));

type Call = { readonly op: 'write' | 'fsync' | 'rename' | 'symlink' | 'link'; readonly path: string };

/** Node's fs, with the calls that matter for durability recorded in order (by path, through the fd). */
function recordingFs(calls: Call[]): OutputFs {
  const paths = new Map<number, string>();
  return {
    ...fs,
    openSync: ((path: string, flags: string, mode?: number) => {
      const fd = fs.openSync(path, flags, mode);
      paths.set(fd, path);
      return fd;
    }) as typeof fs.openSync,
    writeSync: ((fd: number, ...rest: [Buffer, number]) => {
      calls.push({ op: 'write', path: paths.get(fd)! });
      return fs.writeSync(fd, ...rest);
    }) as typeof fs.writeSync,
    fsyncSync: (fd: number) => {
      calls.push({ op: 'fsync', path: paths.get(fd)! });
      fs.fsyncSync(fd);
    },
    renameSync: (from: fs.PathLike, to: fs.PathLike) => {
      calls.push({ op: 'rename', path: String(to) });
      fs.renameSync(from, to);
    },
    symlinkSync: ((target: string, path: string) => {
      calls.push({ op: 'symlink', path });
      fs.symlinkSync(target, path);
    }) as typeof fs.symlinkSync,
    linkSync: (from: fs.PathLike, to: fs.PathLike) => {
      calls.push({ op: 'link', path: String(to) });
      fs.linkSync(from, to);
    },
  };
}

describe('apply survives a power loss: what is fsynced, and in which order', () => {
  test('every staged file and the generation folder before the swap; the output folder before and after it', async () => {
    const out = join(work, 'out');
    const first = new Map([
      ['bird.cfg', 'router id 192.0.2.1;\ninclude "bird_aggr.cfg";\n'],
      ['bird_aggr.cfg', '# blocks\n'],
      ['bird6.cfg', 'router id 192.0.2.1;\n'],
    ]);
    // The second set changes one file: the others are hard-linked from the first generation.
    const second = new Map([...first, ['bird_aggr.cfg', '# blocks\nprotocol static {}\n']]);
    for (const [round, files] of [[1, first], [2, second]] as const) {
      const calls: Call[] = [];
      await applySet(out, files, { checks: new Map(), secret: () => false, fs: recordingFs(calls) });
      assert.deepEqual(filesIn(out), files);
      const at = (op: Call['op'], path: string) => calls.findIndex((c) => c.op === op && c.path === path);
      const swap = at('rename', join(out, '..data'));
      assert.ok(swap > 0, `round ${round}: no swap of ..data`);
      const gen = fs.readlinkSync(join(out, '..data'));
      for (const name of files.keys()) {
        const path = join(out, gen, name);
        if (round === 2 && name !== 'bird_aggr.cfg') {
          // Its data is on disk (fsynced in round 1); the new entry is made durable with the folder.
          assert.ok(at('link', path) >= 0 && at('link', path) < at('fsync', join(out, gen)), `${name}: not linked before its folder is fsynced`);
          assert.equal(at('write', path), -1, `${name}: written again`);
          continue;
        }
        assert.ok(at('write', path) >= 0 && at('fsync', path) > at('write', path), `${name}: not written, then fsynced`);
        assert.ok(at('fsync', path) < at('fsync', join(out, gen)), `${name}: fsynced after its folder`);
      }
      assert.ok(at('fsync', join(out, gen)) < swap, 'the generation folder is fsynced after the swap');
      const dirSyncs = calls.flatMap((c, i) => (c.op === 'fsync' && c.path === out ? [i] : []));
      // Before: the generation's entry and the new file links are durable before ..data points there.
      const lastLink = Math.max(-1, ...[...files.keys()].map((name) => at('rename', join(out, name))));
      assert.ok(dirSyncs.some((i) => lastLink < i && i < swap), 'the output folder is not fsynced between the links and the swap');
      // After: the swap itself is durable.
      assert.ok(dirSyncs.some((i) => i > swap), 'the output folder is not fsynced after the swap');
    }
  });
});

describe('apply checks bird.cfg and bird6.cfg at once', () => {
  test('both checks run together; a failure is the first check\'s in order, whichever ends first, and nothing is swapped in', async () => {
    const out = join(work, 'checks');
    const files = new Map([
      ['bird.cfg', 'router id 192.0.2.1;\n'],
      ['bird6.cfg', 'router id 192.0.2.1;\n'],
    ]);
    const started: string[] = [];
    const check = (name: string, ms: number) => async () => {
      started.push(name);
      await new Promise((r) => setTimeout(r, ms));
      throw new Error(`${name} is broken`);
    };
    // bird6's check fails first; bird's is reported.
    const checks = new Map([['bird.cfg', check('bird', 60)], ['bird6.cfg', check('bird6', 5)]]);
    await assert.rejects(applySet(out, files, { checks, secret: () => false }), /^Error: bird is broken$/);
    assert.deepEqual(started, ['bird', 'bird6'], 'the second check waited for the first');
    assert.deepEqual(filesIn(out), new Map());
  });
});

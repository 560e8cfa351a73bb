import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

/** Calico's BIRD is built from ../shared; without it (and not under CI) the parse figure is skipped with the reason. */
const calicoBirdSource = join('..', 'shared', 'calico-bird', 'build.sh');

type Figure = { wallS: number; peakMiB: number | null };
interface Results {
  rows: { size: number; shape: string; ratio?: number; coldRatio?: number; birdParse: number | { skipped: string }; incremental: Record<string, { recomputed: number }>; daemon?: { fromListMs?: number; peakMiB?: number; skipped?: string }; etcd?: { p99?: number } }[];
  wholeProcess: { previewJson: { a: Figure; b: Figure; ratio: number }; previewYaml: { ratio: number }; version: { ratio: number }; allNodes: { nodes: number; wallS: number; exitCodes: number[]; filesWritten: number }; diff: { peakMiB: number | null; changedLines: number } };
  targets: { what: string; met: boolean }[];
}

test('the benchmark runs at the smallest size (smoke run, not a performance gate)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bird-confd-bench-smoke-'));
  try {
    const out = join(dir, 'results.json');
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--smoke', '--out', out], { encoding: 'utf8', timeout: 300_000, env: { ...process.env, PATH: `${process.env.PATH}:/usr/sbin` } });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /\d+ of \d+ targets met/);
    const results = JSON.parse(readFileSync(out, 'utf8')) as Results;
    assert.deepEqual(results.rows.map((row) => `${row.size}/${row.shape}`), ['100/mesh', '100/rr']);
    for (const row of results.rows) {
      if (typeof row.birdParse === 'number') assert.ok(row.birdParse > 0 && row.ratio! > 0 && row.coldRatio! > 0);
      else if (process.env.CI === 'true' || existsSync(calicoBirdSource)) assert.fail(`Calico's BIRD parse was skipped: ${row.birdParse.skipped}`);
      else assert.match(row.birdParse.skipped, /shared/);
      assert.equal(row.incremental['an unrelated Node annotation changes']!.recomputed, 0);
      // The daemon figures come from a real watch process that applied its files.
      if (row.daemon?.skipped === undefined) assert.ok(row.daemon!.fromListMs! > 0 && row.daemon!.peakMiB! > 0, JSON.stringify(row.daemon));
    }
    assert.ok(typeof results.rows[1]!.etcd?.p99 === 'number', 'etcd latency was measured');
    const w = results.wholeProcess;
    assert.ok(w.previewJson.a.wallS > 0 && w.previewJson.b.wallS > 0 && w.previewJson.ratio > 0 && w.previewYaml.ratio > 0 && w.version.ratio > 0);
    assert.ok(w.diff.changedLines > 0, 'the diff shows the moved nodes');
    // render --all-nodes wrote the six files of every node.
    assert.deepEqual(w.allNodes.exitCodes, [0]);
    assert.ok(w.allNodes.wallS > 0);
    assert.equal(w.allNodes.filesWritten, w.allNodes.nodes * 6);
    assert.ok(results.targets.length >= 5 && results.targets.every((t) => typeof t.met === 'boolean'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

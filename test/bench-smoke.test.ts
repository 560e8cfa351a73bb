import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { skipWithoutCalicoBird } from './helpers/calico-bird.js';

test('the benchmark runs at the smallest size (smoke run, not a performance gate)', { skip: skipWithoutCalicoBird() }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'bird-confd-bench-smoke-'));
  try {
    const out = join(dir, 'results.json');
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--smoke', '--out', out], { encoding: 'utf8', timeout: 300_000, env: { ...process.env, PATH: `${process.env.PATH}:/usr/sbin` } });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /render \/ parse: [\d.]+/);
    const results = JSON.parse(readFileSync(out, 'utf8')) as { rows: { size: number; shape: string; ratio: number; birdParse: number; incremental: Record<string, { recomputed: number }>; rssMb: number; etcd?: { p99?: number } }[] };
    assert.deepEqual(results.rows.map((r) => `${r.size}/${r.shape}`), ['100/mesh', '100/rr']);
    for (const row of results.rows) {
      assert.ok(row.birdParse > 0 && row.ratio > 0 && row.rssMb > 0);
      assert.equal(row.incremental['an unrelated Node annotation changes']!.recomputed, 0);
    }
    assert.ok(typeof results.rows[1]!.etcd?.p99 === 'number', 'etcd latency was measured');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// Benchmarks of bird-confd at cluster scale: `npm run bench` (all sizes; writes bench/results.json,
// which is committed with the machine and date) or `npm run bench -- --smoke` (the smallest size,
// as CI runs it). Prints a table per size and shape, the whole-process figures, and every target
// as met or missed by how much.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { daemonHeap } from '../src/cli/bulk-load.js';
import type { Snapshot } from '../src/model/snapshot.js';
import { snapshotOf } from '../src/model/load.js';
import { clusterFacts, computeNodeView, renderNodeFiles, RenderStore } from '../src/render/index.js';
import { affectedNodes, affects, type Change } from '../src/render/impact.js';
import { loadTemplates } from '../src/watch/template-files.js';
import { calicoBird } from './calico-bird.js';
import { daemonColdStart } from './daemon-cold.js';
import { etcdLatency } from './etcd-latency.js';
import { generateCluster, nodeName, type Shape } from './generate.js';
import { mutations } from './mutations.js';
import { printRow, printWholeProcess, rowTargets, wholeProcessTargets, type Row } from './report.js';
import { wholeProcess } from './whole-process.js';

const { values } = parseArgs({ options: { smoke: { type: 'boolean' }, sizes: { type: 'string' }, shapes: { type: 'string' }, out: { type: 'string' }, 'no-etcd': { type: 'boolean' }, 'no-whole-process': { type: 'boolean' } } });
const smoke = values.smoke ?? false;
const sizes = (values.sizes ?? (smoke ? '100' : '100,1000,5000,10000')).split(',').map(Number);
const shapes = (values.shapes ?? 'mesh,rr').split(',') as Shape[];
const work = mkdtempSync(join(tmpdir(), 'bird-confd-bench-'));

// The in-process figures stand for the daemon (one node's files, a change reaching them): they
// run with the V8 setting `watch` runs with (allocation-site pretenuring off, see daemonHeap).
daemonHeap();

/** A full collection, between phases (the flag exposes `gc` to contexts made after it is set). */
setFlagsFromString('--expose-gc');
const fullCollection = runInNewContext('gc') as () => void;

/** Changes per kind in the incremental benchmark: enough that the 99th percentile is not simply the worst run. */
const INCREMENTAL_RUNS = smoke ? 20 : 200;
/**
 * Changes per kind made before those measured: a running daemon's code for a kind of change is
 * compiled and optimized, while the first changes of a kind here run it for the first time.
 */
const INCREMENTAL_WARMUP = smoke ? 2 : 30;

/** Median and 99th percentile of a sample, in ms. */
function stats(samples: number[]): { median: number; p99: number; n: number } {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
  return { median: round(at(0.5)), p99: round(at(0.99)), n: s.length };
}
const round = (x: number) => Math.round(x * 100) / 100;

function time<T>(fn: () => T): [T, number] {
  const t = performance.now();
  const r = fn();
  return [r, performance.now() - t];
}

const templates = loadTemplates({ target: 'linux' });

/** Renders one node from a loaded snapshot (the store shared, as the daemon holds it). */
function renderOne(snapshot: Snapshot, store: RenderStore, node: string): Map<string, string> {
  const { view } = computeNodeView(snapshot, node, {}, store);
  return renderNodeFiles(view!, templates, store);
}

/** `bird -p` of the rendered bird.cfg with Calico's BIRD, on the text as rendered; the median of 5 runs. */
function birdParseMs(files: Map<string, string>): number | { skipped: string } {
  const bird = calicoBird();
  if ('missing' in bird) return { skipped: bird.missing };
  const dir = join(work, 'parse');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir);
  for (const [n, t] of files) writeFileSync(join(dir, n), t);
  const samples: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    execFileSync(bird.bird, ['-p', '-c', join(dir, 'bird.cfg')]);
    samples.push(performance.now() - t);
  }
  return stats(samples).median;
}

/** Every node's files from one snapshot; at the target sizes every node, else a sample of large meshes. */
function clusterPreview(snapshot: Snapshot, size: number, shape: Shape): Row['clusterPreview'] {
  const all = Array.from({ length: size }, (_, i) => nodeName(i));
  const sample = shape === 'mesh' && size > 1000 ? all.filter((_, i) => i % Math.ceil(size / 100) === 0) : all;
  let bytes = 0;
  const [, ms] = time(() => {
    // What render --all-nodes uses: a store that keeps what nodes share, not each node's views.
    const fresh = new RenderStore({ rendersEveryNode: true });
    for (const n of sample) for (const text of renderOne(snapshot, fresh, n).values()) bytes += text.length;
  });
  const scale = size / sample.length;
  return { ms: Math.round(ms * scale), nodes: size, estimated: sample.length < size, textMb: Math.round((bytes * scale) / 1e6) };
}

/** Incremental: apply one change, refresh the facts, find the affected views, re-render the node. */
function incremental(snapshot: Snapshot, store: RenderStore, size: number, shape: Shape): Row['incremental'] {
  const out: Row['incremental'] = {};
  // A daemon's heap holds its own state, not the garbage of the phases before this one (the
  // cluster preview's above all): collected here, not in the first changes measured.
  fullCollection();
  for (const m of mutations(size, shape)) {
    const lat: number[] = [];
    let recomputed = 0;
    for (let i = 0; i < INCREMENTAL_WARMUP + INCREMENTAL_RUNS; i++) {
      const change = m.make(snapshot, i);
      const t = performance.now();
      const changed = change.after ? snapshot.apply(change.after) : change.before ? snapshot.delete({ kind: change.before.kind, namespace: change.before.metadata.namespace ?? '', name: change.before.metadata.name }) : false;
      const measured = i >= INCREMENTAL_WARMUP;
      if (!changed) {
        // The snapshot holds only what rendering reads: an equal object is no change at all.
        if (measured) lat.push(performance.now() - t);
        recomputed = 0;
        continue;
      }
      const current = clusterFacts(snapshot, {}, store);
      const affected = affectedNodes(change as Change, current, snapshot, store);
      if (affects(affected, m.node)) renderOne(snapshot, store, m.node);
      if (measured) lat.push(performance.now() - t);
      recomputed = affected.all ? size : affected.nodes.size;
    }
    out[m.name] = { ...stats(lat), recomputed, of: size };
  }
  return out;
}

/** One size and shape: every in-process figure, the daemon's cold start and the etcd latency. */
async function measureRow(size: number, shape: Shape): Promise<Row> {
  const snapshot = snapshotOf(generateCluster(size, shape));
  const node = nodeName(size > 7 ? 7 : 0);
  const store = new RenderStore();
  const [, factsMs] = time(() => clusterFacts(snapshot, {}, store));
  const [files, firstMs] = time(() => renderOne(snapshot, store, node));
  const runs = size >= 5000 ? 30 : 100;
  const samples: number[] = [];
  // A different node each run: repeating one node would measure the caches that keep its last view.
  for (let i = 0; i < runs; i++) samples.push(time(() => renderOne(snapshot, store, nodeName((7 + (i + 1) * 37) % size)))[1]);
  const render = stats(samples);
  const renderCold = round(factsMs + firstMs);
  const parsed = birdParseMs(files);
  const birdParse = typeof parsed === 'number' ? round(parsed) : parsed;
  const ratios = typeof birdParse === 'number' ? { ratio: round(render.median / birdParse), coldRatio: round(renderCold / birdParse) } : {};
  const row: Row = { size, shape, render, renderCold, birdParse, ...ratios, clusterPreview: clusterPreview(snapshot, size, shape), incremental: incremental(snapshot, store, size, shape) };
  // A real watch process from a cold start (etcd, and the Kubernetes API for Services): at the daemon sizes.
  if (smoke || size >= 5000) row.daemon = await daemonColdStart(size, shape, !smoke && size === 5000 && shape === 'rr' ? 3 : 1, smoke ? 1000 : undefined);
  if (!values['no-etcd'] && shape === 'rr' && (size === 1000 || size === 5000 || smoke)) row.etcd = await etcdLatency(size, smoke ? 30 : 200);
  return row;
}

const rows: Row[] = [];
for (const size of sizes) {
  for (const shape of shapes) {
    const row = await measureRow(size, shape);
    rows.push(row);
    printRow(row);
  }
}
// Whole processes as users run them (the built CLI): the preview of one node of the 5,000-node
// cluster with its 10,000 Services, start-up, every node's files of the 10,000-node one, and
// diff's memory on a 5,000-node mesh.
const whole = values['no-whole-process'] ? null : wholeProcess(work, smoke ? 100 : 5000, smoke ? 1 : 5, smoke ? 100 : 5000, smoke ? 1000 : 10_000, smoke ? 100 : 10_000, smoke ? 1 : 3);
if (whole) printWholeProcess(whole);

const machine = { cpus: cpus().length, model: cpus()[0]?.model, memGb: Math.round(totalmem() / 2 ** 30), node: process.version, date: new Date().toISOString() };
const targets = [...rows.flatMap(rowTargets), ...(whole ? wholeProcessTargets(whole) : [])];
const missed = targets.filter((t) => !t.met);
console.log(`\n${targets.length - missed.length} of ${targets.length} targets met${missed.length ? `; missed: ${missed.map((t) => t.what).join('; ')}` : ''}`);
// A smoke run does not replace the committed results of the last full run.
const out = values.out ?? (smoke ? join('.tmp', 'bench-smoke.json') : join('bench', 'results.json'));
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify({ machine, smoke, rows, wholeProcess: whole, targets }, null, 2)}\n`);
console.log(`wrote ${out}`);
rmSync(work, { recursive: true, force: true });

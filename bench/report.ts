// What the benchmark prints, and the issue's targets: each checked against its figure and printed
// as met or missed by how much.
import type { ColdStart } from './daemon-cold.js';
import type { Shape } from './generate.js';
import type { WholeProcessFigures } from './whole-process.js';

/** The figures of one size and shape. */
export interface Row {
  size: number;
  shape: Shape;
  /** One node's files, a node not rendered before (caches of the snapshot warm): median and p99, ms. */
  render: { median: number; p99: number; n: number };
  /** The first render from a new snapshot (new resource objects, so every cache is cold): facts plus one node, ms. */
  renderCold: number;
  /** Calico's BIRD `bird -p` of that node's bird.cfg as rendered, ms. */
  birdParse: number | { skipped: string };
  /** render / parse, warm and cold. */
  ratio?: number;
  coldRatio?: number;
  /** Every node's files: the time, and how much text they are (MB, estimated with the time when sampled). */
  clusterPreview: { ms: number; nodes: number; estimated: boolean; textMb: number };
  incremental: Record<string, { median: number; p99: number; recomputed: number; of: number }>;
  /** A real watch process: cold start to the first apply, and its peak memory then. */
  daemon?: ColdStart;
  etcd?: { p50: number; p99: number; n: number; putP50: number; putP99: number } | { skipped: string };
}

/** A target, its figure, and whether it is met (else by how much it is missed). */
export interface Target {
  readonly what: string;
  readonly met: boolean;
  readonly value: string;
  readonly by: string;
}

const round = (x: number) => Math.round(x * 100) / 100;

function check(out: Target[], what: string, value: number, limit: number, unit: string, strict = false): void {
  out.push({ what, met: strict ? value < limit : value <= limit, value: `${value}${unit}`, by: `${round(value - limit)}${unit} (${round(value / limit)}x)` });
}

/** The targets that apply to a row. */
export function rowTargets(r: Row): Target[] {
  const out: Target[] = [];
  const shape = r.shape === 'mesh' ? 'mesh' : 'RR';
  if (r.shape === 'mesh' && r.size >= 5000 && r.ratio !== undefined) check(out, `render/parse <= 1.0 (${shape} ${r.size})`, r.ratio, 1, '');
  if (r.size !== 5000) return out;
  for (const [name, v] of Object.entries(r.incremental)) check(out, `incremental p99 <= 10 ms (${shape}: ${name})`, v.p99, 10, ' ms');
  if (r.shape === 'rr') check(out, 'all nodes\' files at 5,000 nodes < 30 s (RR)', r.clusterPreview.ms / 1000, 30, ' s', true);
  if (r.daemon && !('skipped' in r.daemon) && r.shape === 'rr') {
    check(out, 'daemon cold start, first list to files applied <= 1 s (RR 5,000 + 10,000 Services)', round(r.daemon.fromListMs / 1000), 1, ' s');
    check(out, 'daemon peak RSS <= 250 MB (watch process, RR 5,000 + 10,000 Services)', round((r.daemon.peakMiB * 2 ** 20) / 1e6), 250, ' MB');
  }
  if (r.etcd && !('skipped' in r.etcd)) check(out, 'etcd put to files p99 <= 50 ms', r.etcd.p99, 50, ' ms');
  return out;
}

/** The targets of the whole-process figures. */
export function wholeProcessTargets(w: WholeProcessFigures): Target[] {
  const out: Target[] = [];
  const n = `${w.manifest.nodes} nodes + ${w.manifest.services} Services`;
  check(out, `render --node, JSON manifest (${n}) <= 3x reading + JSON.parse of it`, w.previewJson.ratio, 3, 'x');
  check(out, 'render --node, YAML manifest <= 2x the JSON one', w.previewYaml.ratio, 2, 'x');
  if (w.previewJson.a.peakMiB !== null) check(out, 'render --node, JSON manifest, peak RSS <= 200 MiB', w.previewJson.a.peakMiB, 200, ' MiB');
  if (w.allNodes.nodes === 10_000) check(out, `render --all-nodes --out DIR, 10,000 nodes (RR + ${w.allNodes.services} Services), whole process < 10 s`, w.allNodes.wallS, 10, ' s', true);
  check(out, 'bird-confd --version <= 2x node -e 0', w.version.ratio, 2, 'x');
  check(out, 'bird-confd --help <= 2x node -e 0', w.help.ratio, 2, 'x');
  return out;
}

function printTargets(targets: readonly Target[]): void {
  for (const t of targets) console.log(`target ${t.what}: ${t.met ? 'met' : `MISSED by ${t.by}`} (${t.value})`);
}

function daemonLine(d: ColdStart): string {
  if ('skipped' in d) return `daemon cold start: skipped (${d.skipped})`;
  return `daemon cold start (watch, etcd + Kubernetes API, ${d.services} Services; median of ${d.runs}): files applied ${d.fromListMs} ms after its first list (CPU time ${d.cpuFromListMs} ms), ${d.fromStartMs} ms after the process started; peak RSS ${d.peakMiB} MiB`;
}

/** Prints one row and its targets. */
export function printRow(r: Row): void {
  console.log(`\n== ${r.size} nodes, ${r.shape === 'mesh' ? 'full mesh, dual stack' : 'route reflectors, services, passwords'} ==`);
  console.log(`one node's files (compute + render, a node not rendered before): median ${r.render.median} ms, p99 ${r.render.p99} ms (${r.render.n} runs); first render from a new snapshot (cold caches) ${r.renderCold} ms`);
  const parse = typeof r.birdParse === 'number' ? `${r.birdParse} ms   render / parse: ${r.ratio} warm, ${r.coldRatio} cold` : `skipped (${r.birdParse.skipped})`;
  console.log(`Calico's bird -p of that bird.cfg: ${parse}`);
  console.log(`all nodes' files (in memory, one thread, the store render --all-nodes uses): ${r.clusterPreview.ms} ms, ${r.clusterPreview.textMb} MB of text${r.clusterPreview.estimated ? ' (estimated from a sample)' : ''}`);
  for (const [name, v] of Object.entries(r.incremental)) console.log(`incremental, ${name}: median ${v.median} ms, p99 ${v.p99} ms, views recomputed ${v.recomputed} of ${v.of}`);
  if (r.daemon) console.log(daemonLine(r.daemon));
  if (r.etcd) console.log(`etcd put to files in place: ${'skipped' in r.etcd ? `skipped (${r.etcd.skipped})` : `p50 ${r.etcd.p50} ms, p99 ${r.etcd.p99} ms over ${r.etcd.n} changes (of which etcd acknowledging the put: p50 ${r.etcd.putP50} ms, p99 ${r.etcd.putP99} ms)`}`);
  printTargets(rowTargets(r));
}

/** Prints the whole-process figures and their targets. */
export function printWholeProcess(w: WholeProcessFigures): void {
  const peak = (p: number | null) => (p === null ? 'peak not measured (no GNU time)' : `peak ${p} MiB`);
  console.log(`\n== whole processes (the built CLI; median of ${w.previewJson.pairs} paired runs) ==`);
  console.log(`manifest: ${w.manifest.nodes} nodes, ${w.manifest.services} Services; JSON ${w.manifest.jsonMiB} MiB, YAML ${w.manifest.yamlMiB} MiB`);
  console.log(`render --node, JSON: ${w.previewJson.a.wallS} s, ${peak(w.previewJson.a.peakMiB)}; node reading + JSON.parse: ${w.previewJson.b.wallS} s, ${peak(w.previewJson.b.peakMiB)}; ratio ${w.previewJson.ratio}`);
  console.log(`render --node, YAML: ${w.previewYaml.a.wallS} s, ${peak(w.previewYaml.a.peakMiB)}; render --node, JSON, in the same pairs: ${w.previewYaml.b.wallS} s; ratio ${w.previewYaml.ratio}`);
  console.log(`--version: ${w.version.a.wallS} s, --help: ${w.help.a.wallS} s; node -e 0: ${w.version.b.wallS} s; ratios ${w.version.ratio}, ${w.help.ratio}`);
  const a = w.allNodes;
  console.log(`render --all-nodes --out DIR (${a.nodes} nodes, RR, ${a.services} Services; ${a.jobs} threads; median of ${a.runs}): ${a.wallS} s, ${peak(a.peakMiB)}; ${a.filesWritten} files, ${a.mbWritten} MB into a ${a.into}`);
  console.log(`diff, one node of a ${w.diff.nodes}-node mesh, ${w.diff.moved} nodes moved: ${w.diff.wallS} s, ${peak(w.diff.peakMiB)}, ${w.diff.changedLines} changed lines`);
  const exits = [w.previewJson.a, w.previewYaml.a, w.version.a, w.help.a, w.allNodes].flatMap((f) => f.exitCodes).filter((c) => c !== 0);
  if (exits.length) console.log(`WARNING: a measured command exited with ${exits.join(', ')}`);
  printTargets(wholeProcessTargets(w));
}

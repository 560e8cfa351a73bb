// Whole-process figures: the installed CLI (bin/bird-confd.js running dist/) as users run it,
// timed from outside, each against a yardstick process in paired runs (A B A B ...), so that the
// ratio holds while the speed of a shared machine drifts. Peak memory is the operating system's
// own accounting of the finished child (GNU time's maximum resident set size).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { jobsOf } from '../src/cli/render-all-nodes.js';
import { generateDocuments } from './generate.js';

/** GNU time, for the peak resident set size of a child process (Debian's `time` package). */
const gnuTime = '/usr/bin/time';

/** One command's runs: the median wall time and the median peak memory. */
export interface ProcessFigure {
  readonly wallS: number;
  readonly peakMiB: number | null;
  readonly exitCodes: number[];
}

/** A and B run in turn; the ratio A/B is taken pair by pair and its median reported. */
export interface PairedFigure {
  readonly a: ProcessFigure;
  readonly b: ProcessFigure;
  readonly ratio: number;
  readonly pairs: number;
}

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const round = (x: number, digits = 3) => Math.round(x * 10 ** digits) / 10 ** digits;

/** Runs a command once: wall seconds, peak MiB (null without GNU time) and exit code. Output is discarded. */
function runOnce(argv: readonly string[], scratch: string): { wallS: number; peakMiB: number | null; code: number } {
  const peakFile = join(scratch, 'peak.txt');
  const withTime = existsSync(gnuTime);
  const [cmd, ...args] = withTime ? [gnuTime, '-f', '%M', '-o', peakFile, ...argv] : argv;
  const t = performance.now();
  const r = spawnSync(cmd!, args, { stdio: ['ignore', 'ignore', 'ignore'], maxBuffer: 1 << 30 });
  const wallS = (performance.now() - t) / 1000;
  const peakKb = withTime ? Number(readFileSync(peakFile, 'utf8').trim().split('\n').pop()) : NaN;
  return { wallS, peakMiB: Number.isFinite(peakKb) ? round(peakKb / 1024, 1) : null, code: r.status ?? -1 };
}

/** Runs of one command: the median wall time and peak memory, and every exit code seen. */
function figureOf(runs: readonly ReturnType<typeof runOnce>[]): ProcessFigure {
  const peaks = runs.map((r) => r.peakMiB).filter((p): p is number => p !== null);
  return { wallS: round(median(runs.map((r) => r.wallS))), peakMiB: peaks.length ? round(median(peaks), 1) : null, exitCodes: [...new Set(runs.map((r) => r.code))] };
}

/** Paired runs of A against B after one warm-up each; the median of the per-pair ratios of wall time. */
export function paired(a: readonly string[], b: readonly string[], pairs: number, scratch: string): PairedFigure {
  mkdirSync(scratch, { recursive: true });
  runOnce(a, scratch);
  runOnce(b, scratch);
  const as: ReturnType<typeof runOnce>[] = [];
  const bs: ReturnType<typeof runOnce>[] = [];
  for (let i = 0; i < pairs; i++) {
    as.push(runOnce(a, scratch));
    bs.push(runOnce(b, scratch));
  }
  return { a: figureOf(as), b: figureOf(bs), ratio: round(median(as.map((r, i) => r.wallS / bs[i]!.wallS)), 2), pairs };
}

/** The CLI as installed: `node bin/bird-confd.js ARGS` (bin runs the built dist/). */
export const cli = (...args: string[]) => [process.execPath, 'bin/bird-confd.js', ...args];

/** What the whole-process benchmark reports. */
export interface WholeProcessFigures {
  readonly manifest: { nodes: number; services: number; jsonMiB: number; yamlMiB: number };
  /** render --node X of the JSON manifest against node reading and JSON.parse-ing that file. */
  readonly previewJson: PairedFigure;
  /** render of the YAML form against render of the JSON form. */
  readonly previewYaml: PairedFigure;
  readonly version: PairedFigure;
  readonly help: PairedFigure;
  /** render --all-nodes --out DIR of a route-reflector cluster: every node's files, written. */
  readonly allNodes: AllNodesFigure;
  /** diff of one node of a full mesh where every tenth node moved: peak memory. */
  readonly diff: { nodes: number; moved: number; wallS: number; peakMiB: number | null; changedLines: number };
}

/**
 * Writes the route-reflector cluster (with its 10,000 Services) as one JSON List, indented as
 * `kubectl get -o json` prints it (4 spaces), and as multi-document YAML; returns the two paths.
 */
function writeManifests(dir: string, size: number, services: number): { json: string; yaml: string } {
  const docs = generateDocuments(size, 'rr', 1, services);
  const json = join(dir, `cluster-${size}.json`);
  const yaml = join(dir, `cluster-${size}.yaml`);
  writeFileSync(json, JSON.stringify({ apiVersion: 'v1', kind: 'List', items: docs }, null, 4));
  writeFileSync(yaml, docs.map((d) => stringify(d)).join('---\n'));
  return { json, yaml };
}

/** `render --all-nodes --out DIR` as a whole process: the median of its runs. */
export interface AllNodesFigure extends ProcessFigure {
  readonly nodes: number;
  readonly services: number;
  readonly jobs: number;
  readonly runs: number;
  /** Where the files went: a memory file system (what is timed is the renderer, not a disk) or the temp folder. */
  readonly into: 'tmpfs' | 'temp folder';
  readonly filesWritten: number;
  readonly mbWritten: number;
}

/** A folder for output that is timed: in memory (/dev/shm) when the machine has one, so a shared disk does not set the figure. */
function outputRoot(work: string): { root: string; into: AllNodesFigure['into'] } {
  try {
    const root = mkdtempSync(join('/dev/shm', 'bird-confd-bench-'));
    return { root, into: 'tmpfs' };
  } catch {
    return { root: work, into: 'temp folder' };
  }
}

/** Every node's files of a route-reflector cluster with its Services, written by `render --all-nodes`. */
export function allNodesFigure(work: string, size: number, services: number, runs: number): AllNodesFigure {
  const dir = join(work, 'all-nodes');
  mkdirSync(dir, { recursive: true });
  const manifest = join(dir, `rr-${size}.json`);
  writeFileSync(manifest, JSON.stringify({ apiVersion: 'v1', kind: 'List', items: generateDocuments(size, 'rr', 1, services) }));
  const { root, into } = outputRoot(dir);
  const out = join(root, 'out');
  const results: ReturnType<typeof runOnce>[] = [];
  let filesWritten = 0;
  let bytes = 0;
  try {
    for (let i = 0; i < runs; i++) {
      rmSync(out, { recursive: true, force: true });
      results.push(runOnce(cli('render', '-f', manifest, '--all-nodes', '--out', out), dir));
    }
    for (const node of readdirSync(out).filter((e) => !e.startsWith('.'))) {
      for (const f of readdirSync(join(out, node))) {
        filesWritten++;
        bytes += statSync(join(out, node, f)).size;
      }
    }
  } finally {
    rmSync(into === 'tmpfs' ? root : out, { recursive: true, force: true });
  }
  // The threads the command takes without --jobs, as users run it.
  return { nodes: size, services, jobs: jobsOf(undefined), runs, ...figureOf(results), into, filesWritten, mbWritten: Math.round(bytes / 1e6) };
}

/** The preview and start-up figures, with `pairs` pairs each (a smoke run asks for fewer Services). */
export function wholeProcess(work: string, size: number, pairs: number, meshSize: number, services = 10_000, allNodesSize = 10_000, allNodesRuns = 3): WholeProcessFigures {
  const dir = join(work, 'whole-process');
  mkdirSync(dir, { recursive: true });
  const { json, yaml } = writeManifests(dir, size, services);
  const node = 'node-00007';
  const parseJson = [process.execPath, '-e', `JSON.parse(require('node:fs').readFileSync(${JSON.stringify(json)}, 'utf8'))`];
  const bare = [process.execPath, '-e', '0'];
  const mib = (f: string) => round(readFileSync(f).length / 2 ** 20, 1);
  return {
    manifest: { nodes: size, services, jsonMiB: mib(json), yamlMiB: mib(yaml) },
    previewJson: paired(cli('render', '-f', json, '--node', node), parseJson, pairs, dir),
    previewYaml: paired(cli('render', '-f', yaml, '--node', node), cli('render', '-f', json, '--node', node), pairs, dir),
    version: paired(cli('--version'), bare, pairs * 2, dir),
    help: paired(cli('--help'), bare, pairs * 2, dir),
    allNodes: allNodesFigure(work, allNodesSize, services, allNodesRuns),
    diff: diffFigure(dir, meshSize),
  };
}

/**
 * `diff` for one node of a full mesh after every tenth node moved to another address: the files
 * on disk are the node's render before the move.
 */
function diffFigure(dir: string, size: number): WholeProcessFigures['diff'] {
  const docs = generateDocuments(size, 'mesh');
  const before = join(dir, `mesh-${size}.json`);
  writeFileSync(before, JSON.stringify({ apiVersion: 'v1', kind: 'List', items: docs }));
  let seen = 0;
  let moved = 0;
  for (const d of docs) {
    const bgp = d.kind === 'Node' ? (d.spec as { bgp: { ipv4Address: string } }).bgp : null;
    if (!bgp || seen++ % 10 !== 5) continue;
    bgp.ipv4Address = bgp.ipv4Address.replace(/^10\.(\d+)/, (_m, x: string) => `10.${Number(x) + 50}`);
    moved++;
  }
  const after = join(dir, `mesh-${size}-moved.json`);
  writeFileSync(after, JSON.stringify({ apiVersion: 'v1', kind: 'List', items: docs }));
  const out = join(dir, 'mesh-out');
  rmSync(out, { recursive: true, force: true });
  spawnSync(process.execPath, ['bin/bird-confd.js', 'render', '-f', before, '--node', 'node-00007', '--out', out]);
  const run = runOnce(cli('diff', '-f', after, '--node', 'node-00007', '--out', out), dir);
  const text = spawnSync(process.execPath, ['bin/bird-confd.js', 'diff', '-f', after, '--node', 'node-00007', '--out', out], { encoding: 'utf8', maxBuffer: 1 << 30 }).stdout;
  const changedLines = text.split('\n').filter((l) => /^[-+](?![-+]{2} )/.test(l)).length;
  return { nodes: size, moved, wallS: round(run.wallS), peakMiB: run.peakMiB, changedLines };
}

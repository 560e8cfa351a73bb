// `render --all-nodes`: every Calico node's files from manifests, in worker threads. Each worker
// loads the manifests itself (loading is most of a small cluster's time, and the two loads run at
// once), then takes nodes one at a time from a shared counter, so a worker that draws the route
// reflectors (a thousand peers each) does not hold the others up.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { formatDiagnostic, type Diagnostic } from '../model/diagnostics.js';
import { maskSecrets } from '../render/mask.js';
import type { RenderSettings } from '../watch/template-files.js';
import { InputError, UsageError } from './errors.js';
import { finishOutput, prepareOutput, type AllNodesOutput } from './render-all-output.js';
import { renderShare, type ShareMessage, type ShareTask } from './render-all-share.js';

/** The most worker threads `--jobs` takes. */
const MAX_JOBS = 64;
/**
 * Threads without `--jobs`: one per CPU, at most 4. Each holds its own copy of the cluster
 * (some 300 MB at 10,000 nodes and 10,000 Services) and loads it itself, which more threads
 * only repeat.
 */
const DEFAULT_MAX_JOBS = 4;

/** `--jobs`: a whole number of threads, 1 rendering in the command's own thread. */
export function jobsOf(value: string | undefined): number {
  if (value === undefined) return Math.min(DEFAULT_MAX_JOBS, availableParallelism());
  if (!/^\d{1,3}$/.test(value) || Number(value) < 1 || Number(value) > MAX_JOBS) throw new UsageError(`--jobs must be a whole number from 1 to ${MAX_JOBS}`);
  return Number(value);
}

export interface AllNodesRequest {
  readonly files: readonly string[];
  readonly settings: RenderSettings;
  /** Write DIR/NODE/FILE here; null prints every file to stdout. */
  readonly out: string | null;
  readonly showSecrets: boolean;
  readonly jobs: number;
}

/** Renders every node; returns the exit code (problems are printed to stderr, each once). */
export async function renderAllNodes(req: AllNodesRequest): Promise<number> {
  // Interrupted, the staged files go (DIR was never touched). Listened for before the staging
  // folder is made: a signal in between would end the process at once and leave the folder.
  let output: AllNodesOutput | null = null;
  const interrupted = (signal: NodeJS.Signals) => {
    output?.abandon();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', interrupted).once('SIGTERM', interrupted);
  const counter = new Int32Array(new SharedArrayBuffer(4));
  const printer = new InOrder((node, files) => {
    for (const [name, text] of files) process.stdout.write(`==> ${node}/${name} <==\n${req.showSecrets ? text : maskSecrets(text)}\n`);
  });
  const problems = new Problems();
  let loadFailed = false;
  let rendered = 0;
  let failed = 0;
  const onMessage = (m: ShareMessage, share: number): void => {
    if (m.type === 'loaded') {
      // Every share loads the same manifests: the first share's load problems stand for all.
      if (share === 0) problems.add(m.diagnostics);
      loadFailed ||= m.failed;
    } else {
      for (const r of m.results) {
        problems.add(r.diagnostics);
        if (r.ok) rendered++;
        else failed++;
        if (output === null) printer.put(r.index, r.name, r.files ?? []);
      }
    }
  };
  try {
    output = req.out === null ? null : prepareOutput(req.out);
    const task: ShareTask = { files: req.files, settings: req.settings, staging: output?.staging ?? null, counter };
    await runShares(task, req.jobs, onMessage);
  } catch (err) {
    output?.abandon();
    throw err;
  } finally {
    process.off('SIGINT', interrupted).off('SIGTERM', interrupted);
  }
  problems.print();
  if (loadFailed || failed > 0 || problems.hasErrors) {
    output?.abandon();
    if (!loadFailed) process.stderr.write(`${failed} of ${rendered + failed} nodes not rendered; ${output ? `${req.out} left as it was` : 'nothing more printed'}\n`);
    throw new InputError('nothing rendered');
  }
  if (output) finishOutput(output);
  process.stderr.write(`rendered ${rendered} nodes${req.out === null ? '' : ` into ${req.out}`}\n`);
  return 0;
}

/** Runs the shares: in this thread for one job, else one worker thread each. */
async function runShares(task: ShareTask, jobs: number, onMessage: (m: ShareMessage, share: number) => void): Promise<void> {
  if (jobs === 1) {
    await renderShare(task, (m) => onMessage(m, 0));
    return;
  }
  const workers = Array.from({ length: jobs }, (_, share) => runWorker(task, share, onMessage));
  const results = await Promise.allSettled(workers);
  const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failure) throw failure.reason;
}

function runWorker(task: ShareTask, share: number, onMessage: (m: ShareMessage, share: number) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./render-all-worker.js', import.meta.url), { workerData: { task } });
    worker.on('message', (m: ShareMessage) => onMessage(m, share));
    worker.on('error', reject);
    worker.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`render worker ${share} exited with code ${code}`))));
  });
}

/** Results that arrive in any order, printed in node order. */
type Files = readonly (readonly [string, string])[];
class InOrder {
  private next = 0;
  private readonly waiting = new Map<number, { readonly node: string; readonly files: Files }>();
  constructor(private readonly print: (node: string, files: Files) => void) {}

  put(index: number, node: string, files: Files): void {
    this.waiting.set(index, { node, files });
    for (let w = this.waiting.get(this.next); w !== undefined; w = this.waiting.get(this.next)) {
      this.waiting.delete(this.next++);
      this.print(w.node, w.files);
    }
  }
}

/** Problems of many nodes: a cluster-wide one (a BGPPeer's) comes from every node, and is printed once. */
class Problems {
  private readonly lines = new Set<string>();
  hasErrors = false;

  add(diagnostics: readonly Diagnostic[]): void {
    for (const d of diagnostics) {
      this.lines.add(`${d.severity}: ${formatDiagnostic(d)}`);
      this.hasErrors ||= d.severity === 'error';
    }
  }

  print(): void {
    for (const line of this.lines) process.stderr.write(`${line}\n`);
  }
}

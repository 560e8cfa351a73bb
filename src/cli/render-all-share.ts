// One share of `render --all-nodes`: load the manifests, then render nodes taken one at a time from
// a counter the shares hold in common. It runs in a worker thread (render-all-worker.ts), or in
// the command's own thread with one job.
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { hasErrors, type Diagnostic } from '../model/diagnostics.js';
import { compareText } from '../model/sorted.js';
import { RenderStore, renderNodePieces, secretFileNames } from '../render/index.js';
import { renderOptions, type RenderSettings } from '../watch/template-files.js';
import { loadForRender } from './common.js';

/** What every share is given. */
export interface ShareTask {
  readonly files: readonly string[];
  readonly settings: RenderSettings;
  /** The folder to write NODE/FILE into; null sends the files back to be printed. */
  readonly staging: string | null;
  /** The index of the next node to render, shared by all shares (over a SharedArrayBuffer). */
  readonly counter: Int32Array;
}

/** One node a share rendered. */
export interface NodeResult {
  readonly index: number;
  readonly name: string;
  readonly ok: boolean;
  readonly diagnostics: readonly Diagnostic[];
  /** The files, when they are printed rather than written. */
  readonly files?: readonly (readonly [string, string])[];
}

/** What a share reports: its load, then the nodes it rendered, a batch at a time. */
export type ShareMessage =
  | { readonly type: 'loaded'; readonly diagnostics: readonly Diagnostic[]; readonly failed: boolean }
  | { readonly type: 'nodes'; readonly results: readonly NodeResult[] };

/** Nodes per message: one message per node would cost a thread more than a small node's render. */
const BATCH = 64;

/** A node name that is a plain folder name (a Kubernetes node name always is). */
const plainName = (name: string) => /^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/.test(name);

/** Loads the manifests and renders nodes until none is left. */
export async function renderShare(task: ShareTask, post: (m: ShareMessage) => void): Promise<void> {
  const { snapshot, diagnostics: loadProblems, withFile } = await loadForRender(task.files, task.settings);
  post({ type: 'loaded', diagnostics: loadProblems, failed: snapshot === null });
  if (!snapshot) return;
  const nodes = snapshot.list('Node').map((n) => n.metadata.name).sort(compareText);
  const options = renderOptions(task.settings);
  // Each node is rendered once: the store keeps what nodes share, not one node's views.
  const store = new RenderStore({ rendersEveryNode: true });
  const flush = (results: NodeResult[]): NodeResult[] => {
    if (results.length > 0) post({ type: 'nodes', results });
    return [];
  };
  let batch: NodeResult[] = [];
  for (let index = Atomics.add(task.counter, 0, 1); index < nodes.length; index = Atomics.add(task.counter, 0, 1)) {
    const name = nodes[index]!;
    const result = renderNodePieces(snapshot, name, options, store);
    const diagnostics = result.diagnostics.map(withFile);
    if (task.staging !== null && !plainName(name)) diagnostics.push({ severity: 'error', object: `Node/${name}`, field: 'metadata.name', message: 'not a plain folder name; its files cannot be written' });
    const ok = result.pieces !== null && result.view !== null && !hasErrors(diagnostics);
    if (ok && task.staging !== null) {
      const dir = join(task.staging, name);
      mkdirSync(dir);
      const secrets = secretFileNames(result.view!, result.pieces!);
      for (const [file, pieces] of result.pieces!) writePieces(join(dir, file), pieces, secrets.has(file) ? 0o600 : 0o644);
    }
    batch.push({ index, name, ok, diagnostics, ...(ok && task.staging === null ? { files: [...result.pieces!].map(([file, pieces]) => [file, pieces.join('')] as const) } : {}) });
    // Printed files go out with every node, to be printed while the rest render.
    if (batch.length >= BATCH || task.staging === null) batch = flush(batch);
  }
  flush(batch);
}

/**
 * Writes a new file piece by piece: a large file never becomes one string. Each piece goes to the
 * file as a string (no Buffer of it is made, whose memory the collector would then have to
 * account for); the rest of a short write, rare on a regular file, goes as bytes.
 */
function writePieces(path: string, pieces: readonly string[], mode: number): void {
  const fd = openSync(path, 'wx', mode);
  try {
    for (const piece of pieces) {
      const size = Buffer.byteLength(piece);
      let at = writeSync(fd, piece);
      if (at === size) continue;
      const bytes = Buffer.from(piece);
      while (at < size) at += writeSync(fd, bytes, at, size - at);
    }
  } finally {
    closeSync(fd);
  }
}

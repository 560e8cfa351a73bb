import { readdir, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import { parseEndpointStatusFile } from '../model/endpoint-status.js';
import { idOf, type ResourceId } from '../model/resources.js';
import type { Source, SourceEvent } from './source.js';

/** Calico's default prefix of the endpoint-status folder (`CALICO_ENDPOINT_STATUS_PATH_PREFIX`). */
export const defaultEndpointStatusPrefix = '/var/run/calico';

/** The folder Felix writes its workload endpoint-status files to, from calico-node's environment. */
export function endpointStatusDir(env: NodeJS.ProcessEnv): string {
  return join(env.CALICO_ENDPOINT_STATUS_PATH_PREFIX || defaultEndpointStatusPrefix, 'endpoint-status');
}

/** Options of the endpoint-status source. */
export interface EndpointStatusSourceOptions {
  /**
   * How often the folder is listed again, whatever the watcher reports (default 10 s): it finds a
   * folder that did not exist at start-up, and any event the watcher missed. Calico's watcher
   * falls back to a 30 s poll in the same cases.
   */
  readonly pollMs?: number;
}

/** What is known of one file: its size and time stamp when last read, and the resource it gives (if active). */
interface Seen {
  readonly stamp: string;
  readonly id: ResourceId | null;
}

/**
 * Felix's workload endpoint-status files (one JSON file per workload, in `dir`), as calico-node's
 * local BGP peer watcher reads them (Calico v3.32, §2.9): a file with a non-empty `bgpPeerName`
 * and usable addresses is upserted as a WorkloadEndpointStatus; a file without one, or removed,
 * is deleted. A file that does not parse (Felix writes in place, so a read can catch it half
 * written) is reported and its last good version stays. A folder that does not exist holds no
 * workloads; it is looked for again at every poll.
 */
export function createEndpointStatusSource(dir: string, options: EndpointStatusSourceOptions = {}): Source {
  const folder = resolve(dir);
  const pollMs = options.pollMs ?? 10_000;
  const seen = new Map<string, Seen>();
  let watcher: FSWatcher | null = null;
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;
  let chain = Promise.resolve();
  return {
    name: `endpoint-status:${folder}`,
    async start(emit: (e: SourceEvent) => void) {
      const queue = (fn: () => Promise<void> | void) => (chain = chain.then(fn, fn));
      const load = (file: string) => loadFile(folder, file, seen, emit);
      const drop = (file: string) => dropFile(file, seen, emit);
      const watchFolder = async () => {
        if (watcher || stopped) return;
        watcher = watch(folder, { ignoreInitial: true, depth: 0, awaitWriteFinish: { stabilityThreshold: 50, pollInterval: 10 } });
        watcher.on('add', (f) => queue(() => load(relative(folder, f))));
        watcher.on('change', (f) => queue(() => load(relative(folder, f))));
        watcher.on('unlink', (f) => queue(() => drop(relative(folder, f))));
        watcher.on('unlinkDir', (d) => {
          if (resolve(d) === folder) queue(() => unwatch());
        });
        watcher.on('error', (err) => emit({ type: 'problem', diagnostic: { severity: 'warning', file: folder, message: `watching the endpoint-status folder: ${String((err as Error).message ?? err)}; it is still listed every ${pollMs / 1000} s` } }));
        await new Promise<void>((ready) => watcher!.once('ready', () => ready()));
      };
      const unwatch = async () => {
        const w = watcher;
        watcher = null;
        await w?.close();
      };
      // A full listing: what the watcher may have missed, and a folder that appeared or went away.
      const rescan = async () => {
        const files = await listFolder(folder, emit);
        if (files === null) return;
        for (const file of [...seen.keys()]) if (!files.includes(file)) drop(file);
        for (const file of files) await load(file);
        if (files.length > 0 || (await isFolder(folder))) await watchFolder();
        else await unwatch();
      };
      emit({ type: 'reset' });
      await rescan();
      if (!watcher) emit({ type: 'status', state: 'connected', detail: `${folder} does not exist (yet): no local workload peers; looked for every ${pollMs / 1000} s` });
      else emit({ type: 'status', state: 'connected' });
      emit({ type: 'synced' });
      const poll = () => {
        timer = setTimeout(() => queue(rescan).then(() => void (stopped || poll())), pollMs);
      };
      poll();
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await chain;
      await watcher?.close();
      watcher = null;
    },
  };
}

function relative(folder: string, path: string): string {
  return resolve(path).slice(folder.length + 1);
}

async function isFolder(path: string): Promise<boolean> {
  return stat(path).then((s) => s.isDirectory(), () => false);
}

/** The plain file names in the folder (none when it does not exist), or null when it cannot be read. */
async function listFolder(folder: string, emit: (e: SourceEvent) => void): Promise<string[] | null> {
  try {
    const entries = await readdir(folder, { withFileTypes: true });
    return entries.filter((e) => e.isFile()).map((e) => e.name);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    // Unreadable for now (permissions): keep what is known rather than withdraw every peer.
    emit({ type: 'problem', diagnostic: { severity: 'warning', file: folder, message: `cannot list the endpoint-status folder (${code ?? String(err)}); its last known files stay` } });
    return null;
  }
}

/** Reads one file, unless its size and time stamp are those of the last read, and emits what changed. */
async function loadFile(folder: string, file: string, seen: Map<string, Seen>, emit: (e: SourceEvent) => void): Promise<void> {
  if (file === '' || file.includes('/')) return;
  const path = join(folder, file);
  let text: string;
  let stamp: string;
  try {
    const s = await stat(path);
    if (!s.isFile()) return;
    stamp = `${s.size}/${s.mtimeMs}`;
    if (seen.get(file)?.stamp === stamp) return;
    text = await readFile(path, 'utf8');
  } catch {
    return dropFile(file, seen, emit);
  }
  const r = parseEndpointStatusFile(file, text);
  for (const d of r.diagnostics) emit({ type: 'problem', diagnostic: { ...d, file: path } });
  const before = seen.get(file);
  if (!r.resource && r.diagnostics.some((d) => d.severity === 'error')) {
    // Keep the last good version until the file changes again (reported once, not at every poll).
    seen.set(file, { stamp, id: before?.id ?? null });
    return;
  }
  const id = r.resource ? idOf(r.resource) : null;
  if (before?.id && (!id || before.id.name !== id.name)) emit({ type: 'delete', id: before.id });
  if (r.resource) emit({ type: 'upsert', resource: r.resource });
  seen.set(file, { stamp, id });
}

function dropFile(file: string, seen: Map<string, Seen>, emit: (e: SourceEvent) => void): void {
  const before = seen.get(file);
  if (!before) return;
  seen.delete(file);
  if (before.id) emit({ type: 'delete', id: before.id });
}

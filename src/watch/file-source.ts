import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import { manifestFiles, parseManifestText } from '../model/load.js';
import { idOf, type Resource, type ResourceId } from '../model/resources.js';
import type { Source, SourceEvent } from './source.js';

const manifest = /\.(ya?ml|json)$/i;

function key(id: ResourceId): string {
  return `${id.kind}/${id.namespace}/${id.name}`;
}

/**
 * A folder (or file) of manifests, watched with chokidar. Each file's objects are tracked: a
 * changed file upserts what it holds now and deletes what it no longer holds; a removed file
 * deletes its objects. A file that does not parse (an editor's half-written save, a typo) is
 * reported and skipped, and the objects of its last good parse stay: a typo never withdraws peers.
 */
export function createFileSource(paths: readonly string[]): Source {
  let watcher: FSWatcher | null = null;
  const byFile = new Map<string, Map<string, Resource>>();
  let chain = Promise.resolve();
  return {
    name: `file:${paths.join(',')}`,
    async start(emit: (e: SourceEvent) => void) {
      const load = async (file: string) => {
        let text: string;
        try {
          text = await readFile(file, 'utf8');
        } catch {
          return drop(file);
        }
        const r = parseManifestText(text, file);
        const errors = r.diagnostics.filter((d) => d.severity === 'error');
        for (const d of r.diagnostics) emit({ type: 'problem', diagnostic: d });
        if (errors.length > 0) return; // keep the last good objects of this file
        const next = new Map(r.resources.map((res) => [key(idOf(res)), res]));
        const before = byFile.get(file) ?? new Map<string, Resource>();
        for (const [k, res] of before) if (!next.has(k)) emit({ type: 'delete', id: idOf(res) });
        for (const res of next.values()) emit({ type: 'upsert', resource: res });
        byFile.set(file, next);
      };
      const drop = (file: string) => {
        for (const res of byFile.get(file)?.values() ?? []) emit({ type: 'delete', id: idOf(res) });
        byFile.delete(file);
      };
      // Events are handled one at a time, in order, so a file's objects never interleave.
      const queue = (fn: () => Promise<void> | void) => {
        chain = chain.then(fn, fn);
      };
      emit({ type: 'reset' });
      // The watcher is ready before the first scan starts, so no edit can fall between the two:
      // an edit during the scan is seen by the watcher too and loaded again after the scan.
      watcher = watch(paths.map((p) => resolve(p)), {
        ignoreInitial: true,
        ignored: (path, stats) => Boolean(stats?.isFile() && !manifest.test(path)) || /(^|\/)\.[^/]+$/.test(path),
        // A file is read once its size has been stable for a moment: an editor's truncate-then-
        // write must not be read as an empty file (which would withdraw its objects).
        awaitWriteFinish: { stabilityThreshold: 50, pollInterval: 10 },
      });
      watcher.on('add', (f) => queue(() => load(f)));
      watcher.on('change', (f) => queue(() => load(f)));
      watcher.on('unlink', (f) => queue(() => drop(f)));
      watcher.on('error', (err) => emit({ type: 'status', state: 'disconnected', detail: String((err as Error).message ?? err) }));
      await new Promise<void>((ready) => watcher!.once('ready', () => ready()));
      // The first list is a plain scan, so that `synced` follows every file's objects for sure.
      queue(async () => {
        for (const path of paths) for (const file of await manifestFiles(resolve(path))) await load(file);
        emit({ type: 'status', state: 'connected' });
        emit({ type: 'synced' });
      });
      await chain;
    },
    async stop() {
      await watcher?.close();
      watcher = null;
    },
  };
}

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadManifestPaths, snapshotOf } from '../../src/model/load.js';
import { renderNodeWithTemplates, type RenderSettings as RenderOptions } from '../../src/watch/template-files.js';
import { cliPath } from './calico-bird.js';

/** A `bird-confd watch` process started from source, with its output collected. */
export interface WatchProcess {
  readonly child: ChildProcess;
  /** Everything it printed (stdout and stderr). */
  output(): string;
  /** Sends SIGTERM (or `signal`) and resolves with the exit code and how long it took. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; ms: number }>;
}

/** Starts `bird-confd watch ARGS` (from source, no build needed) with Calico's BIRD first on PATH, as on calico-node. */
export function startWatch(args: readonly string[], env: Record<string, string> = {}): WatchProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'watch', ...args], { env: { PATH: cliPath(), ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (c: string) => (out += c));
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (out += c));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    output: () => out,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      const t = performance.now();
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      const code = await exited;
      clearTimeout(timer);
      return { code, ms: performance.now() - t };
    },
  };
}

/** The files in place in a watch output folder (through its links). */
export function filesIn(out: string): Map<string, string> {
  const files = new Map<string, string>();
  if (!existsSync(join(out, '..data'))) return files;
  for (const name of readdirSync(join(out, '..data')).sort()) files.set(name, readFileSync(join(out, name), 'utf8'));
  return files;
}

/** What `render` gives for the manifests under `paths`. */
export async function expectedFiles(paths: readonly string[], node: string, options: RenderOptions = {}): Promise<Map<string, string>> {
  const loaded = await loadManifestPaths(paths);
  const r = renderNodeWithTemplates(snapshotOf(loaded.resources), node, options);
  if (!r.files) throw new Error(`does not render: ${JSON.stringify(r.diagnostics)}`);
  return new Map([...r.files].sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** Polls until `check` is true or the deadline passes (then throws with `what`). */
export async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Whether two file maps are equal. */
export function sameFiles(a: ReadonlyMap<string, string>, b: ReadonlyMap<string, string>): boolean {
  return a.size === b.size && [...a].every(([k, v]) => b.get(k) === v);
}

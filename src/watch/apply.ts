import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, readdirSync, readlinkSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { maskSecrets } from '../render/mask.js';

/**
 * The output folder's layout, which makes a swap atomic and crash safe while BIRD keeps reading
 * fixed paths: each file `DIR/bird.cfg` is a symlink to `..data/bird.cfg`; `DIR/..data` is a
 * symlink to the current generation folder `DIR/..gen-*`. A new set is written into a new
 * generation folder (same file system), checked there, and swapped in by renaming a new `..data`
 * link over the old one: one atomic step, so a reader sees all old or all new files.
 *
 * The file system calls are synchronous: a set is a handful of small files, and each call through
 * the thread pool would cost more than the call itself (the checks still run asynchronously).
 */
export const DATA_LINK = '..data';
const GEN_PREFIX = '..gen-';

/** A check or reload failure: the message comes from BIRD or the command, passwords masked. */
export class CommandError extends Error {
  override readonly name = 'CommandError';
}

/** Runs a shell command; rejects with its (scrubbed) output when it fails. */
export function runCommand(command: string, timeoutMs = 60_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('/bin/sh', ['-c', command], { timeout: timeoutMs }, (err, stdout, stderr) => {
      const output = maskSecrets(`${stdout}${stderr}`.trim());
      if (err) reject(new CommandError(`${command.split(' ')[0]}: ${output || err.message}`, { cause: err }));
      else resolve(output);
    });
  });
}

/** The files currently in place in `dir` (through the links), or an empty map. */
export async function readCurrentSet(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  let gen: string;
  try {
    gen = readlinkSync(join(dir, DATA_LINK));
  } catch {
    return out;
  }
  let names: string[];
  try {
    names = readdirSync(join(dir, gen));
  } catch {
    return out;
  }
  for (const name of names) out.set(name, readFileSync(join(dir, gen, name), 'utf8'));
  return out;
}

/** A short, stable hash of a file set (for metrics and logs; never of secrets in the clear). */
export function setHash(files: ReadonlyMap<string, string>): string {
  const h = createHash('sha256');
  for (const name of [...files.keys()].sort()) h.update(name).update('\0').update(files.get(name)!).update('\0');
  return h.digest('hex');
}

/** Whether two file sets are identical. */
export function sameSet(a: ReadonlyMap<string, string>, b: ReadonlyMap<string, string>): boolean {
  return a.size === b.size && [...a].every(([name, text]) => b.get(name) === text);
}

/** Options of one apply. */
export interface ApplyOptions {
  /** Check commands per main file, `{file}` replaced by the staged path (e.g. `bird -p -c {file}`). */
  readonly checks: ReadonlyMap<string, string>;
  /** Whether a file must be mode 0600 (it holds a password). */
  readonly secret: (name: string) => boolean;
}

/**
 * Writes `files` as a new generation, runs the checks on it, and swaps it in. On a failed check
 * the generation is removed and the old files stay; nothing else is touched.
 */
export async function applySet(dir: string, files: ReadonlyMap<string, string>, options: ApplyOptions): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const gen = `${GEN_PREFIX}${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
  const genDir = join(dir, gen);
  mkdirSync(genDir);
  try {
    for (const [name, text] of files) {
      const mode = options.secret(name) ? 0o600 : 0o644;
      writeFileSync(join(genDir, name), text, { mode });
      chmodSync(join(genDir, name), mode);
    }
    for (const [name, command] of options.checks) {
      if (files.has(name)) await runCommand(command.replaceAll('{file}', shellQuote(join(genDir, name))));
    }
    // Links for new files first (they dangle until the swap; no old file includes them).
    for (const name of files.keys()) ensureLink(dir, name);
    replaceLink(join(dir, DATA_LINK), gen);
  } catch (err) {
    rmSync(genDir, { recursive: true, force: true });
    throw err;
  }
  for (const entry of readdirSync(dir)) {
    if (entry.startsWith(GEN_PREFIX) && entry !== gen) rmSync(join(dir, entry), { recursive: true, force: true });
    else if (!entry.startsWith('..') && !files.has(entry) && isDataLink(dir, entry)) unlinkSync(join(dir, entry));
  }
}

/** Removes generations that `..data` does not point at (left by a crash) and stale temp links. */
export async function cleanStale(dir: string): Promise<void> {
  const current = readlinkOrNull(join(dir, DATA_LINK));
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return;
  }
  for (const entry of entries) {
    if ((entry.startsWith(GEN_PREFIX) && entry !== current) || entry.startsWith('..tmp-')) rmSync(join(dir, entry), { recursive: true, force: true });
  }
}

function readlinkOrNull(path: string): string | null {
  try {
    return readlinkSync(path);
  } catch {
    return null;
  }
}

function isDataLink(dir: string, name: string): boolean {
  return readlinkOrNull(join(dir, name)) === join(DATA_LINK, name);
}

function ensureLink(dir: string, name: string): void {
  if (isDataLink(dir, name)) return;
  replaceLink(join(dir, name), join(DATA_LINK, name));
}

/** Points `path` at `target` atomically (a new link renamed over the old path). */
function replaceLink(path: string, target: string): void {
  const tmp = join(path, '..', `..tmp-${randomBytes(6).toString('hex')}`);
  symlinkSync(target, tmp);
  renameSync(tmp, path);
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

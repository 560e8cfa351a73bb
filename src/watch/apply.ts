import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { maskSecrets } from '../render/mask.js';
import { discardStaged, isCurrent, stageSet, swapIn, type OutputFs } from './output-dir.js';

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

/** Checks one staged main file (its includes sit beside it); rejects when it must not be swapped in. */
export type StagedCheck = (file: string) => Promise<void>;

/** Options of one apply. */
export interface ApplyOptions {
  /** Checks per main file name, run on the staged copy. */
  readonly checks: ReadonlyMap<string, StagedCheck>;
  /** Whether a file must be mode 0600 (it holds a password). */
  readonly secret: (name: string) => boolean;
  /** Once aborted (the daemon stops), a set that is still being checked is not swapped in. */
  readonly signal?: AbortSignal;
  readonly fs?: OutputFs;
}

/**
 * Writes `files` as a new generation, runs the checks on it, and swaps it in. On a failed check
 * the generation is removed and the old files stay; nothing else is touched.
 */
export async function applySet(dir: string, files: ReadonlyMap<string, string>, options: ApplyOptions): Promise<void> {
  const staged = stageSet(dir, files, options.secret, options.fs);
  try {
    // bird.cfg and bird6.cfg are checked at once (two BIRDs, or two runs of `bird -p`); a failure
    // is reported in the order of the checks, whatever finished first.
    const results = await Promise.allSettled([...options.checks].filter(([name]) => files.has(name)).map(([name, check]) => check(join(staged.path, name))));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    options.signal?.throwIfAborted();
    swapIn(staged, files.keys(), options.fs);
  } catch (err) {
    // A failure after the swap (removing the previous generation) must not remove the new one.
    if (!isCurrent(staged)) discardStaged(staged, options.fs);
    throw err;
  }
}

/** A check by shell command, `{file}` replaced by the staged path (e.g. `bird -p -c {file}`). */
export function commandCheck(command: string): StagedCheck {
  return async (file) => {
    await runCommand(command.replaceAll('{file}', shellQuote(file)));
  };
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

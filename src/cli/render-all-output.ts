// The folder `render --all-nodes --out DIR` writes: DIR/NODE/FILE for every node, staged beside DIR
// and swapped in whole when every node rendered, so DIR holds one run's files or is left as it was.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { UsageError } from './errors.js';

/** The file that marks a folder as written by `render --all-nodes`, and so replaceable by the next run. */
export const ALL_NODES_MARKER = '.bird-confd-all-nodes';

export interface AllNodesOutput {
  readonly dir: string;
  /** Where the shares write; becomes `dir`. */
  readonly staging: string;
  /** Drops the staged files; `dir` stays as it was. */
  abandon(): void;
}

/**
 * Checks `dir` and makes the staging folder beside it. `dir` may be missing, empty, or one an
 * earlier run wrote (it has the marker); any other folder is refused, so that a mistyped path
 * never replaces someone's files.
 */
export function prepareOutput(dir: string): AllNodesOutput {
  const full = resolve(dir);
  if (existsSync(full)) {
    let entries: string[];
    try {
      entries = readdirSync(full);
    } catch {
      throw new UsageError(`--out ${dir} is not a folder that can be read`);
    }
    if (entries.length > 0 && !entries.includes(ALL_NODES_MARKER)) throw new UsageError(`--out ${dir} is not empty and was not written by render --all-nodes; give a new or empty folder`);
  }
  mkdirSync(dirname(full), { recursive: true });
  const staging = mkdtempSync(join(dirname(full), `.${basename(full)}.staging-`));
  writeFileSync(join(staging, ALL_NODES_MARKER), 'Written by bird-confd render --all-nodes: the next run replaces this folder whole.\n');
  return { dir: full, staging, abandon: () => rmSync(staging, { recursive: true, force: true, maxRetries: 5 }) };
}

/** Puts the staged folder in place of `dir` (the old one is moved aside first, then removed). */
export function finishOutput(out: AllNodesOutput): void {
  let old: string | null = null;
  if (existsSync(out.dir)) {
    old = `${out.staging}.old`;
    renameSync(out.dir, old);
  }
  renameSync(out.staging, out.dir);
  if (old) rmSync(old, { recursive: true, force: true });
}

import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from './output-dir.js';

/**
 * `..status.json` in the output folder: what the daemon knows about BIRD that the files alone do
 * not say, for `bird-confd status` (and for the daemon after a restart). Today: which BIRD runs
 * the previous config because the reload of the files in place was undone.
 */
export const STATUS_FILE = '..status.json';

/** An undone reload: BIRD runs the config from before the files in place. */
export const Rollback = z.object({
  /** When the reload was undone (ISO time). */
  at: z.string(),
  /** The sessions that did not come back within the grace period. */
  lost: z.array(z.string()),
  /** The hash (first 16 hex digits) of the file set whose reload was undone. */
  undone: z.string(),
});
/** An undone reload: BIRD runs the config from before the files in place. */
export type Rollback = z.infer<typeof Rollback>;

/** The status file's content. */
export const DaemonStatusFile = z.object({
  rolledBack: z.object({ bird: Rollback.optional(), bird6: Rollback.optional() }),
});
/** The status file's content. */
export type DaemonStatusFile = z.infer<typeof DaemonStatusFile>;

/** The status file of `dir`; an absent or unreadable file is "nothing to report". */
export function readStatusFile(dir: string): DaemonStatusFile {
  try {
    const parsed = DaemonStatusFile.safeParse(JSON.parse(readFileSync(join(dir, STATUS_FILE), 'utf8')));
    if (parsed.success) return parsed.data;
  } catch {
    // absent or not JSON
  }
  return { rolledBack: {} };
}

/** Writes the status file (atomically); removes it when there is nothing to report. */
export function writeStatusFile(dir: string, status: DaemonStatusFile): void {
  if (!status.rolledBack.bird && !status.rolledBack.bird6) {
    rmSync(join(dir, STATUS_FILE), { force: true });
    return;
  }
  writeFileAtomic(join(dir, STATUS_FILE), `${JSON.stringify(status, null, 2)}\n`);
}

import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { compareText } from '../model/sorted.js';

/** Where calico-node's BIRD reads its config, and where `watch` writes by default. */
export const defaultConfigDir = '/etc/calico/confd/config';

/**
 * The rendered files in a config folder (regular files, not dot files), by name; null when the
 * folder cannot be read. A missing folder is an empty set when `missingIsEmpty` is true.
 */
export async function readConfigDir(dir: string, missingIsEmpty = false): Promise<Map<string, string> | null> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    if (missingIsEmpty && (err as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
    return null;
  }
  const files = new Map<string, string>();
  for (const e of entries.filter((x) => x.isFile() && !x.name.startsWith('.')).sort((a, b) => compareText(a.name, b.name))) {
    try {
      files.set(e.name, await readFile(join(dir, e.name), 'utf8'));
    } catch {
      return null;
    }
  }
  return files;
}

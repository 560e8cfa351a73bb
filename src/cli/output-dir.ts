import { mkdir, mkdtemp, rename, rm, writeFile, chmod } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';

/**
 * Replaces folder `dir` as a whole by one holding exactly `files`: the new set is written into a
 * sibling staging folder, then swapped in by two renames, so a reader sees the old set or the new
 * one, never a mix, and a failure before the swap leaves `dir` untouched. Files for which
 * `secret(name)` is true get mode 0600.
 */
export async function replaceDir(dir: string, files: ReadonlyMap<string, string>, secret: (name: string) => boolean = () => false): Promise<void> {
  const target = resolve(dir);
  const parent = dirname(target);
  await mkdir(parent, { recursive: true });
  const staging = await mkdtemp(join(parent, `.${basename(target)}.staging-`));
  try {
    for (const [name, text] of files) {
      const path = join(staging, name);
      await writeFile(path, text, { mode: secret(name) ? 0o600 : 0o644 });
      await chmod(path, secret(name) ? 0o600 : 0o644);
    }
    const old = `${staging}.old`;
    let moved = false;
    try {
      await rename(target, old);
      moved = true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    try {
      await rename(staging, target);
    } catch (err) {
      if (moved) await rename(old, target);
      throw err;
    }
    if (moved) await rm(old, { recursive: true, force: true });
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

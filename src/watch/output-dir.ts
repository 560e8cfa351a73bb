import { randomBytes } from 'node:crypto';
import * as nodeFs from 'node:fs';
import { join } from 'node:path';

/**
 * The output folder's layout, shared by `watch` and `render --out`, and read by `diff`, `status`
 * and the daemon: each file `DIR/bird.cfg` is a symlink to `..data/bird.cfg`; `DIR/..data` is a
 * symlink to the current generation folder `DIR/..gen-*`. A new set is written into a new
 * generation folder (same file system), checked there, and swapped in by renaming a new `..data`
 * link over the old one: one atomic step, so a reader sees all old or all new files, and BIRD's
 * fixed paths keep working. (Kubernetes projects ConfigMaps the same way.)
 *
 * The file system calls are synchronous: a set is a handful of small files, and each call through
 * the thread pool would cost more than the call itself.
 */
export const DATA_LINK = '..data';
const GEN_PREFIX = '..gen-';
const TMP_PREFIX = '..tmp-';

/** Where calico-node's BIRD reads its config, and where `watch` writes by default. */
export const defaultConfigDir = '/etc/calico/confd/config';

/** The file system calls the writer makes: node's `fs`, or a wrapper in tests that records their order. */
export type OutputFs = Pick<
  typeof nodeFs,
  | 'mkdirSync'
  | 'openSync'
  | 'writeSync'
  | 'fsyncSync'
  | 'fchmodSync'
  | 'closeSync'
  | 'symlinkSync'
  | 'renameSync'
  | 'rmSync'
  | 'unlinkSync'
  | 'readlinkSync'
  | 'readdirSync'
  | 'readFileSync'
  | 'statSync'
  | 'linkSync'
>;

/** A staged generation, not yet in place. */
export interface Staged {
  readonly dir: string;
  /** The generation folder's name inside `dir`. */
  readonly gen: string;
  readonly path: string;
}

/**
 * Writes `files` into a new generation folder inside `dir` (created if needed), each file with
 * mode 0600 when `secret(name)`, else 0644. Every file and the folder are fsynced, so that after
 * the swap a power loss cannot leave `..data` pointing at empty or missing files. A file that is
 * the same as in the current generation (text and mode) is hard-linked from there instead: it is
 * on disk already, and each fsync costs a flush of the disk.
 */
export function stageSet(dir: string, files: ReadonlyMap<string, string>, secret: (name: string) => boolean, fs: OutputFs = nodeFs): Staged {
  fs.mkdirSync(dir, { recursive: true });
  const current = readlinkOrNull(fs, join(dir, DATA_LINK));
  const gen = `${GEN_PREFIX}${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
  const path = join(dir, gen);
  fs.mkdirSync(path);
  try {
    const fresh = [...files].map(([name, text]) => ({ path: join(path, name), text, mode: secret(name) ? 0o600 : 0o644, same: current === null ? null : join(dir, current, name) }));
    const changed = fresh.filter((f) => !(f.same !== null && sameFile(fs, f.same, f.text, f.mode) && tryLink(fs, f.same, f.path)));
    writeAllDurably(fs, changed);
    syncDir(fs, path);
  } catch (err) {
    fs.rmSync(path, { recursive: true, force: true });
    throw err;
  }
  return { dir, gen, path };
}

/** Removes a staged generation that will not be swapped in. */
export function discardStaged(staged: Staged, fs: OutputFs = nodeFs): void {
  fs.rmSync(staged.path, { recursive: true, force: true });
}

/**
 * Puts a staged generation in place: links for its files, then one rename of `..data`; then the
 * previous generation and links to files the new set no longer has are removed. The folder is
 * fsynced before the rename (the generation's own entry and the new links) and after it (the
 * swap itself), so the swap survives a power loss and never points at a generation that did not.
 */
export function swapIn(staged: Staged, names: Iterable<string>, fs: OutputFs = nodeFs): void {
  const { dir, gen } = staged;
  const keep = new Set(names);
  // Links for new files first: they dangle until the swap, and no old file includes them.
  for (const name of keep) if (readlinkOrNull(fs, join(dir, name)) !== join(DATA_LINK, name)) replaceLink(fs, join(dir, name), join(DATA_LINK, name));
  syncDir(fs, dir);
  replaceLink(fs, join(dir, DATA_LINK), gen);
  syncDir(fs, dir);
  for (const entry of fs.readdirSync(dir)) {
    if (entry.startsWith(GEN_PREFIX) && entry !== gen) fs.rmSync(join(dir, entry), { recursive: true, force: true });
    else if (!entry.startsWith('..') && !keep.has(entry) && readlinkOrNull(fs, join(dir, entry)) === join(DATA_LINK, entry)) fs.unlinkSync(join(dir, entry));
  }
}

/** Whether `..data` points at a staged generation now. */
export function isCurrent(staged: Staged): boolean {
  return readlinkOrNull(nodeFs, join(staged.dir, DATA_LINK)) === staged.gen;
}

/** Writes a whole set into `dir` (stage, then swap), with no check: what `render --out` does. */
export function writeSet(dir: string, files: ReadonlyMap<string, string>, secret: (name: string) => boolean = () => false): void {
  swapIn(stageSet(dir, files, secret), files.keys());
}

/**
 * The files in place in `dir`, by name: through `..data` when the folder has this layout, else
 * its regular files (not dot files), e.g. a folder calico-node's own confd wrote. A missing
 * folder is an empty set when `missingIsEmpty`, else null; an unreadable one is null.
 */
export function readOutputDir(dir: string, missingIsEmpty = false): Map<string, string> | null {
  const gen = readlinkOrNull(nodeFs, join(dir, DATA_LINK));
  const from = gen === null ? dir : join(dir, gen);
  let entries: nodeFs.Dirent[];
  try {
    entries = nodeFs.readdirSync(from, { withFileTypes: true });
  } catch (err) {
    return missingIsEmpty && (err as NodeJS.ErrnoException).code === 'ENOENT' ? new Map() : null;
  }
  const files = new Map<string, string>();
  for (const e of entries.filter((x) => x.isFile() && !x.name.startsWith('.')).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    try {
      files.set(e.name, nodeFs.readFileSync(join(from, e.name), 'utf8'));
    } catch {
      return null;
    }
  }
  return files;
}

/** When the current generation was swapped in (ms since the epoch), or null without one. */
export function swappedAt(dir: string): number | null {
  try {
    return nodeFs.lstatSync(join(dir, DATA_LINK)).mtimeMs;
  } catch {
    return null;
  }
}

/** Removes generations that `..data` does not point at and temp links (left by a crash or a stop mid-apply). */
export function cleanStale(dir: string): void {
  const current = readlinkOrNull(nodeFs, join(dir, DATA_LINK));
  let entries: string[];
  try {
    entries = nodeFs.readdirSync(dir);
  } catch {
    return;
  }
  for (const entry of entries) {
    if ((entry.startsWith(GEN_PREFIX) && entry !== current) || entry.startsWith(TMP_PREFIX)) nodeFs.rmSync(join(dir, entry), { recursive: true, force: true });
  }
}

/** Replaces `path` by a small file atomically and durably (temp file, fsync, rename, fsync of the folder). */
export function writeFileAtomic(path: string, text: string, fs: OutputFs = nodeFs): void {
  const dir = join(path, '..');
  const tmp = join(dir, `${TMP_PREFIX}${randomBytes(6).toString('hex')}`);
  writeDurably(fs, tmp, text, 0o644);
  fs.renameSync(tmp, path);
  syncDir(fs, dir);
}

function writeDurably(fs: OutputFs, path: string, text: string, mode: number): void {
  writeAllDurably(fs, [{ path, text, mode }]);
}

/**
 * Writes new files, then fsyncs them: all writes first, so that the first fsync commits them
 * together (the journal flushes the data of every file in its transaction) and the others cost
 * little, instead of one journal commit per file.
 */
function writeAllDurably(fs: OutputFs, files: readonly { path: string; text: string; mode: number }[]): void {
  const fds: number[] = [];
  try {
    for (const f of files) {
      const fd = fs.openSync(f.path, 'wx', f.mode);
      fds.push(fd);
      // The mode is set explicitly too: the umask must not widen or narrow it.
      fs.fchmodSync(fd, f.mode);
      const data = Buffer.from(f.text, 'utf8');
      for (let off = 0; off < data.length; ) off += fs.writeSync(fd, data, off);
    }
    for (const fd of fds) fs.fsyncSync(fd);
  } finally {
    for (const fd of fds) fs.closeSync(fd);
  }
}

/** Whether the file at `path` holds `text` with `mode`. */
function sameFile(fs: OutputFs, path: string, text: string, mode: number): boolean {
  try {
    return (fs.statSync(path).mode & 0o777) === mode && fs.readFileSync(path, 'utf8') === text;
  } catch {
    return false;
  }
}

function tryLink(fs: OutputFs, from: string, to: string): boolean {
  try {
    fs.linkSync(from, to);
    return true;
  } catch {
    return false; // e.g. a file system without hard links: write it
  }
}

function syncDir(fs: OutputFs, path: string): void {
  const fd = fs.openSync(path, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

function readlinkOrNull(fs: Pick<OutputFs, 'readlinkSync'>, path: string): string | null {
  try {
    return fs.readlinkSync(path);
  } catch {
    return null;
  }
}

/** Points `path` at `target` atomically (a new link renamed over the old path). */
function replaceLink(fs: OutputFs, path: string, target: string): void {
  const tmp = join(path, '..', `${TMP_PREFIX}${randomBytes(6).toString('hex')}`);
  fs.symlinkSync(target, tmp);
  fs.renameSync(tmp, path);
}

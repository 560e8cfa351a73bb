import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const birdDirs = ['/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/** The path of a BIRD binary, looked up on PATH and in the usual sbin folders. */
export function birdBinary(name: 'bird' | 'bird6' | 'birdc' | 'birdc6'): string | null {
  for (const dir of [...(process.env.PATH ?? '').split(':'), ...birdDirs]) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  return null;
}

/** Whether Debian's BIRD is installed (CI installs it; tests fail loudly without it). */
export const haveBird = birdBinary('bird') !== null && birdBinary('bird6') !== null;

const birdFiles = ['bird.cfg', 'bird6.cfg', 'bird_aggr.cfg', 'bird6_aggr.cfg', 'bird_ipam.cfg', 'bird6_ipam.cfg', 'bird_passwords.cfg', 'bird6_passwords.cfg', 'bird_loop.cfg', 'bird6_loop.cfg'];

/**
 * Stock BIRD lacks Calico's `krt_tunnel` attribute. Each assignment becomes a `print` of the
 * same string: a statement BIRD accepts wherever one may stand (deleting it would break
 * `if ... then ... else`).
 */
export function stripKrtTunnel(text: string): string {
  return text.replace(/krt_tunnel\s*=\s*("[^"\n]*")\s*;/g, 'print $1;');
}

function run(bin: string, args: string[], cwd: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(bin, args, { cwd, timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as NodeJS.ErrnoException & { code?: unknown }).code === 'number' ? ((err as unknown as { code: number }).code) : 1) : 0;
      resolve({ code, output: `${stdout}${stderr}`.trim() });
    });
  });
}

/**
 * Parses a rendered config folder with real `bird -p` (bird.cfg) and `bird6 -p` (bird6.cfg), after
 * replacing krt_tunnel assignments, in a copy so that includes resolve to the copied files.
 */
export async function birdParseDir(dir: string): Promise<{ ok: boolean; output: string }> {
  if (!haveBird) return { ok: false, output: 'BIRD is not installed: apt-get install -y bird (Debian package with bird and bird6)' };
  const work = mkdtempSync(join(tmpdir(), 'bird-parse-'));
  try {
    for (const name of birdFiles) {
      const from = join(dir, name);
      if (!existsSync(from)) continue;
      copyFileSync(from, join(work, name));
      writeFileSync(join(work, name), stripKrtTunnel(readFileSync(from, 'utf8')));
    }
    const outputs: string[] = [];
    let ok = true;
    for (const [bin, file] of [['bird', 'bird.cfg'], ['bird6', 'bird6.cfg']] as const) {
      if (!existsSync(join(work, file))) continue;
      const r = await run(birdBinary(bin)!, ['-p', '-c', file], work);
      if (r.code !== 0) ok = false;
      if (r.output) outputs.push(`${bin} -p ${file}: ${r.output}`);
    }
    return { ok, output: outputs.join('\n') };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

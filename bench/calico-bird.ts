import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** Where Calico's BIRD is built inside the checkout (not committed). */
const prefix = join('.tmp', 'calico-bird');
/** Calico's BIRD sources and build script, beside the checkout. */
const buildScript = join('..', 'shared', 'calico-bird', 'build.sh');

/**
 * Calico's BIRD (`bird` and `bird6` of the projectcalico/bird fork, which knows `krt_tunnel`),
 * built from ../shared/calico-bird on first use (about 40 s; later calls find it built), or why
 * it cannot be had. Parse checks run it on the rendered text as it is, never on a rewritten copy.
 */
export function calicoBird(): { bird: string; bird6: string } | { missing: string } {
  const bird = join(prefix, 'bird');
  const bird6 = join(prefix, 'bird6');
  if (!existsSync(bird) || !existsSync(bird6)) {
    if (!existsSync(buildScript)) return { missing: `${buildScript} (Calico's BIRD source) is not there` };
    const r = spawnSync('bash', [buildScript, prefix], { encoding: 'utf8' });
    if (r.status !== 0 || !existsSync(bird)) return { missing: `building Calico's BIRD with ${buildScript} failed: ${(r.stderr || r.stdout).trim().split('\n').pop()}` };
  }
  return { bird, bird6 };
}

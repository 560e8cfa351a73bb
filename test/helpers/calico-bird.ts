import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** Where Calico's BIRD is built: env CALICO_BIRD_DIR, else `.tmp/calico-bird` (../shared/calico-bird/build.sh builds it). */
export const calicoBirdDir = resolve(process.env.CALICO_BIRD_DIR || join('.tmp', 'calico-bird'));

/** The paths of Calico's `bird`, `bird6` and `birdcl`. */
export const calicoBird = { bird: join(calicoBirdDir, 'bird'), bird6: join(calicoBirdDir, 'bird6'), birdcl: join(calicoBirdDir, 'birdcl') };

/**
 * Why a test that needs Calico's BIRD in network namespaces cannot run here, or false when it
 * can. Under CI (`CI=true`) nothing is skipped: a missing piece fails the test instead (see
 * `requireCalicoLab`).
 */
export function calicoLabSkip(): string | false {
  if (process.env.CI === 'true') return false;
  return calicoLabMissing() ?? false;
}

/** Throws when the lab cannot run (for a `before` hook: under CI a missing piece is a failure). */
export function requireCalicoLab(): void {
  const missing = calicoLabMissing();
  if (missing) throw new Error(missing);
}

function calicoLabMissing(): string | null {
  if (process.getuid?.() !== 0) return 'needs root for network namespaces';
  const ip = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  if (ip.error || ip.status !== 0) return `ip netns is not usable: ${ip.error?.message ?? ip.stderr}`;
  for (const path of Object.values(calicoBird)) {
    if (!existsSync(path)) return `Calico's BIRD is missing at ${path}: build it with ../shared/calico-bird/build.sh ${calicoBirdDir} (or set CALICO_BIRD_DIR)`;
  }
  return null;
}

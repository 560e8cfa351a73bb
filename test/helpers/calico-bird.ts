import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { join, resolve } from 'node:path';
import { repoRoot, sharedMissing, skipUnlessCi } from './shared.js';

/**
 * Calico's BIRD (the BIRD 1.6.8 fork that calico-node runs, with the `krt_tunnel` attribute),
 * built by `../shared/calico-bird/build.sh .tmp/calico-bird`. `CALICO_BIRD_DIR` points elsewhere.
 */
const shown = process.env.CALICO_BIRD_DIR || '.tmp/calico-bird';
export const calicoBirdDir = resolve(repoRoot, shown);

/** The binaries of Calico's BIRD. */
export interface CalicoBird {
  /** The IPv4 daemon. */
  readonly bird: string;
  /** The IPv6 daemon. */
  readonly bird6: string;
  /** The control-socket client (works with either daemon). */
  readonly birdcl: string;
}

const names = ['bird', 'bird6', 'birdcl'] as const;

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Why Calico's BIRD cannot be used (the reason says where it was looked for and how to build it), or null. */
export function calicoBirdMissing(): string | null {
  const absent = names.filter((n) => !executable(join(calicoBirdDir, n)));
  if (absent.length === 0) return null;
  const source = sharedMissing('calico-bird', 'build.sh');
  return `Calico's BIRD not found at ${shown} (no ${absent.join(', ')}): run ../shared/calico-bird/build.sh ${shown}${source ? `; but ${source}` : ''}`;
}

/** The `skip` option of a test that needs Calico's BIRD: the reason outside CI, false under CI (the test then fails). */
export function skipWithoutCalicoBird(): string | false {
  return skipUnlessCi(calicoBirdMissing());
}

/** The paths of Calico's BIRD; throws with the reason when it is not built (a test failure). */
export function calicoBird(): CalicoBird {
  const missing = calicoBirdMissing();
  if (missing) throw new Error(missing);
  return { bird: join(calicoBirdDir, 'bird'), bird6: join(calicoBirdDir, 'bird6'), birdcl: join(calicoBirdDir, 'birdcl') };
}

/**
 * PATH for a CLI process run as on calico-node: Calico's BIRD first (so `watch`'s default check
 * `bird -p -c {file}` is Calico's), then the caller's PATH and the system folders with `ip` and
 * `iptables`.
 */
export function cliPath(): string {
  return [calicoBirdDir, process.env.PATH ?? '', '/usr/sbin', '/sbin'].filter(Boolean).join(':');
}

/**
 * Why a test that needs Calico's BIRD in network namespaces cannot run here, or false when it
 * can. Under CI (`CI=true`) nothing is skipped: a missing piece fails the test instead (see
 * `requireCalicoLab`).
 */
export function calicoLabSkip(): string | false {
  return skipUnlessCi(calicoLabMissing());
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
  return calicoBirdMissing();
}

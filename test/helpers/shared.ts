import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository's root folder (found from this file, so it holds whatever the current folder). */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * Whether this run is CI (`CI=true`, as `.ci/run` sets it). There, whatever a test needs and
 * does not find is a failure, never a skip: a CI run that skipped the reference suites would
 * pass without proving them.
 */
export const underCi = /^(true|1)$/i.test(process.env.CI ?? '');

/**
 * The `skip` option of a test that needs something: the reason it is missing (null when it is
 * there), except under CI, where the test runs anyway and fails on the missing piece.
 */
export function skipUnlessCi(missing: string | null): string | false {
  return missing !== null && !underCi ? missing : false;
}

/** `../shared` beside the checkout: specifications, Calico's test suites, Calico's BIRD source, tools. */
const sharedDir = resolve(repoRoot, '..', 'shared');

/** Why `../shared/<parts>` cannot be used (the reason names the path), or null when it is there. */
export function sharedMissing(...parts: string[]): string | null {
  if (existsSync(join(sharedDir, ...parts))) return null;
  return `${join('..', 'shared', ...parts)} not found: the reference suites and tools sit in ../shared beside the checkout (README, Development)`;
}

/** The absolute path of `../shared/<parts>`; throws with the reason when it is missing (a test failure). */
export function sharedPath(...parts: string[]): string {
  const missing = sharedMissing(...parts);
  if (missing) throw new Error(missing);
  return join(sharedDir, ...parts);
}

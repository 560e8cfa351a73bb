import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { calicoBird, skipWithoutCalicoBird } from './calico-bird.js';

/** Runs a command; resolves with its exit status (1 when it could not run) and its output. */
function run(bin: string, args: string[], cwd: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(bin, args, { cwd, timeout: 30_000 }, (err, stdout, stderr) => {
      const status = (err as { code?: unknown } | null)?.code;
      resolve({ code: err ? (typeof status === 'number' ? status : 1) : 0, output: `${stdout}${stderr}${err && !stderr ? err.message : ''}`.trim() });
    });
  });
}

/**
 * Parses a rendered config folder as calico-node would: Calico's `bird -p -c bird.cfg` and
 * `bird6 -p -c bird6.cfg`, run in the folder itself so that includes resolve to its own files.
 * Throws when Calico's BIRD is not built.
 */
export async function birdParseDir(dir: string): Promise<{ ok: boolean; output: string }> {
  const bird = calicoBird();
  const outputs: string[] = [];
  let ok = true;
  for (const [bin, file] of [[bird.bird, 'bird.cfg'], [bird.bird6, 'bird6.cfg']] as const) {
    if (!existsSync(join(dir, file))) continue;
    const r = await run(bin, ['-p', '-c', file], dir);
    if (r.code !== 0) ok = false;
    if (r.output) outputs.push(`${file}: ${r.output}`);
  }
  return { ok, output: outputs.join('\n') };
}

/**
 * Checks with Calico's BIRD that every folder parses, as a subtest of `t` named `what`; where
 * Calico's BIRD is not built (outside CI) that subtest is skipped with the reason, and the rest
 * of `t` still counts. `context` adds what to print for a folder that fails.
 */
export async function checkParses(t: TestContext, dirs: readonly string[], what: string, context: (dir: string) => string = () => ''): Promise<void> {
  await t.test(what, { skip: skipWithoutCalicoBird() }, async () => {
    for (const dir of dirs) {
      const parsed = await birdParseDir(dir);
      assert.ok(parsed.ok, `Calico's BIRD rejects ${dir}:\n${parsed.output}${context(dir)}`);
    }
  });
}

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { z } from 'zod';
import { checkParses } from './bird.js';
import { sharedMissing, sharedPath, skipUnlessCi } from './shared.js';

/** One step of a scenario (see the header of each scenarios.yaml). Unknown fields are errors, so a new suite cannot be half-read. */
const Step = z.strictObject({
  apply: z.array(z.string()).optional(),
  delete: z.array(z.string()).optional(),
  expect: z.string().optional(),
  expectBgpProtocols: z.number().int().optional(),
});
type Step = z.infer<typeof Step>;

/** A scenario: steps from an empty datastore, rendered for `node`. */
const Case = z.strictObject({
  name: z.string(),
  node: z.string(),
  env: z.record(z.string(), z.string()).optional(),
  sortLines: z.boolean().optional(),
  steps: z.array(Step).min(1),
});
type Case = z.infer<typeof Case>;

/** A scenarios.yaml: `args` go to every render of the file. */
const Scenarios = z.strictObject({ args: z.array(z.string()).optional(), cases: z.array(Case).min(1) });

function run(cmd: string, args: readonly string[], env: Record<string, string> = {}): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { env: { ...process.env, ...env }, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: `${stdout}${stderr}` });
    });
  });
}

/** The identity the scenarios use: kind, namespace and name. */
function identity(doc: Record<string, unknown>): string {
  const meta = (doc.metadata ?? {}) as Record<string, unknown>;
  return `${String(doc.kind)}/${String(meta.namespace ?? '')}/${String(meta.name)}`;
}

function documents(suite: string, file: string): Record<string, unknown>[] {
  return parseAllDocuments(readFileSync(join(suite, 'inputs', file), 'utf8'))
    .map((d) => d.toJS() as Record<string, unknown> | null)
    .filter((d): d is Record<string, unknown> => d !== null && typeof d === 'object');
}

/**
 * Runs a Calico confd suite from `../shared/<folder>` (its scenarios.yaml, inputs/ and expected/)
 * through the CLI as a user would run it, with the file's `args` on every render; compares each
 * step with Calico's expected files (`../shared/tools/bird-equiv.mjs`) and has Calico's BIRD
 * parse both. `steps` is how many steps the file holds, so a truncated file cannot pass.
 * Without ../shared the suite is one test skipped with the missing path (a failure under CI).
 */
export function compatSuite(folder: string, steps: number): void {
  const title = `Calico confd compatibility (../shared/${folder}/scenarios.yaml)`;
  const missing = sharedMissing(folder, 'scenarios.yaml') ?? sharedMissing('tools', 'bird-equiv.mjs');
  if (missing) {
    test(title, { skip: skipUnlessCi(missing) }, () => assert.fail(missing));
    return;
  }
  const suite = sharedPath(folder);
  const equiv = sharedPath('tools', 'bird-equiv.mjs');
  const scenarios = Scenarios.parse(parse(readFileSync(join(suite, 'scenarios.yaml'), 'utf8')));
  const work = mkdtempSync(join(tmpdir(), 'bird-confd-compat-'));
  let ran = 0;
  describe(title, () => {
    after(() => rmSync(work, { recursive: true, force: true }));
    for (const c of scenarios.cases) {
      const state = new Map<string, Record<string, unknown>>();
      c.steps.forEach((step, i) => {
        test(`${c.name} step ${i + 1}${step.expect ? ` (${step.expect})` : ''}`, async (t) => {
          for (const f of step.apply ?? []) for (const d of documents(suite, f)) state.set(identity(d), d);
          for (const f of step.delete ?? []) for (const d of documents(suite, f)) state.delete(identity(d));
          const dir = join(work, `${c.name.replace(/\//g, '_')}-${i + 1}`);
          const out = await renderStep(dir, state, c, scenarios.args ?? []);
          await compareStep(out, suite, equiv, c, step);
          const expected = step.expect ? join(suite, 'expected', step.expect) : null;
          const dirs = expected && existsSync(join(expected, 'bird.cfg')) ? [out, expected] : [out];
          await checkParses(t, dirs, `Calico's BIRD parses ${dirs.length === 2 ? 'our files and the expected ones' : 'our files'}`);
          ran++;
        });
      });
    }
    test(`all ${steps} steps ran`, () => assert.equal(ran, steps));
  });
}

/** Writes the datastore state of a step as one manifest file and renders it with the CLI; returns the output folder. */
async function renderStep(dir: string, state: ReadonlyMap<string, Record<string, unknown>>, c: Case, args: readonly string[]): Promise<string> {
  mkdirSync(dir, { recursive: true });
  const stateFile = join(dir, 'STATE.yaml');
  writeFileSync(stateFile, [...state.values()].map((d) => stringify(d)).join('---\n'));
  const out = join(dir, 'out');
  const r = await run('npx', ['bird-confd', 'render', '--node', c.node, '--out', out, '-f', stateFile, ...args], c.env ?? {});
  assert.equal(r.code, 0, `render failed:\n${r.out}`);
  return out;
}

/** The step's expectations: the expected files (compared as tokens) and the number of BGP sessions. */
async function compareStep(out: string, suite: string, equiv: string, c: Case, step: Step): Promise<void> {
  if (step.expect) {
    const cmp = await run(process.execPath, [equiv, '--dir', join(suite, 'expected', step.expect), out, ...(c.sortLines ? ['--sort-lines'] : [])]);
    assert.equal(cmp.code, 0, cmp.out);
  }
  if (step.expectBgpProtocols !== undefined) {
    const count = (readFileSync(join(out, 'bird.cfg'), 'utf8').match(/protocol bgp/g) ?? []).length;
    assert.equal(count, step.expectBgpProtocols);
  }
}

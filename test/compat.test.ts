import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { birdParseDir } from './helpers/bird.js';

/** Calico confd v3.17's own template cases, beside the repository. */
const suite = join('..', 'shared', 'calico-confd-v3.17');
const equiv = join('..', 'shared', 'tools', 'bird-equiv.mjs');

interface Step { apply?: string[]; delete?: string[]; expect?: string; expectBgpProtocols?: number }
interface Case { name: string; node: string; env?: Record<string, string>; sortLines?: boolean; steps: Step[] }

const scenarios = parse(readFileSync(join(suite, 'scenarios.yaml'), 'utf8')) as { cases: Case[] };
const work = mkdtempSync(join(tmpdir(), 'bird-confd-compat-'));
after(() => rmSync(work, { recursive: true, force: true }));

function run(cmd: string, args: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string }> {
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

function documents(file: string): Record<string, unknown>[] {
  return parseAllDocuments(readFileSync(join(suite, 'inputs', file), 'utf8'))
    .map((d) => d.toJS() as Record<string, unknown> | null)
    .filter((d): d is Record<string, unknown> => d !== null && typeof d === 'object');
}

let steps = 0;
describe('Calico confd v3.17 compatibility (../shared/calico-confd-v3.17/scenarios.yaml)', () => {
  for (const c of scenarios.cases) {
    const state = new Map<string, Record<string, unknown>>();
    c.steps.forEach((step, i) => {
      test(`${c.name} step ${i + 1}${step.expect ? ` (${step.expect})` : ''}`, async () => {
        for (const f of step.apply ?? []) for (const d of documents(f)) state.set(identity(d), d);
        for (const f of step.delete ?? []) for (const d of documents(f)) state.delete(identity(d));
        const dir = join(work, `${c.name.replace(/\//g, '_')}-${i + 1}`);
        mkdirSync(dir, { recursive: true });
        const stateFile = join(dir, 'STATE.yaml');
        writeFileSync(stateFile, [...state.values()].map((d) => stringify(d)).join('---\n'));
        const out = join(dir, 'out');
        const r = await run('npx', ['bird-confd', 'render', '--node', c.node, '--out', out, '-f', stateFile], c.env ?? {});
        assert.equal(r.code, 0, `render failed:\n${r.out}`);
        if (step.expect) {
          const cmp = await run(process.execPath, [equiv, '--dir', join(suite, 'expected', step.expect), out, ...(c.sortLines ? ['--sort-lines'] : [])]);
          assert.equal(cmp.code, 0, cmp.out);
        }
        if (step.expectBgpProtocols !== undefined) {
          const count = (readFileSync(join(out, 'bird.cfg'), 'utf8').match(/protocol bgp/g) ?? []).length;
          assert.equal(count, step.expectBgpProtocols);
        }
        const parsed = await birdParseDir(out);
        assert.ok(parsed.ok, parsed.output);
        steps++;
      });
    });
  }
  test('all 21 steps ran', () => assert.equal(steps, 21));
});

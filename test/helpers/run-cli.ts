import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseManifestText, snapshotOf } from '../../src/model/load.js';
import { renderNodeWithTemplates, type RenderSettings as RenderOptions } from '../../src/watch/template-files.js';
import { cliPath } from './calico-bird.js';

/** The result of one CLI run. */
export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the CLI from source (no build needed), asynchronously so the test's event loop keeps going; Calico's BIRD is first on PATH. */
export function runCli(args: readonly string[], env: Record<string, string> = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { env: { PATH: cliPath(), ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Renders `node` from inline YAML; throws when it does not render. */
export function renderYaml(yaml: string, node: string, options: RenderOptions = {}): Map<string, string> {
  const loaded = parseManifestText(yaml, 'inline.yaml');
  const r = renderNodeWithTemplates(snapshotOf(loaded.resources), node, options);
  if (!r.files) throw new Error(`${node} did not render: ${JSON.stringify([...loaded.diagnostics, ...r.diagnostics])}`);
  return r.files;
}

/** Writes a file set into `dir` (created if needed), leaving other files alone. */
export function writeFiles(dir: string, files: ReadonlyMap<string, string>): void {
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of files) writeFileSync(join(dir, name), text);
}

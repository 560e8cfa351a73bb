import { parseArgs } from 'node:util';
import { hasErrors } from '../model/diagnostics.js';
import { maskSecrets } from '../render/mask.js';
import { reloadImpact, type ReloadImpact } from '../inspect/reload-impact.js';
import { unifiedDiff } from '../inspect/unified-diff.js';
import { table } from '../inspect/format.js';
import { defaultConfigDir, readOutputDir } from '../watch/output-dir.js';
import { loadAndRender, renderFlags, renderFlagsHelp, renderOptionsFrom } from './common.js';
import { UsageError } from './errors.js';
import { troubleIsTwo } from './trouble.js';

/** Help text of `bird-confd diff`. */
export const diffUsage = `Usage: bird-confd diff -f PATH [-f PATH ...] [--node NAME] [--out DIR] [--output text|json]

Previews what applying the manifests would do: per file, a unified diff of the files in DIR
against a fresh render (passwords shown as "***"), and per BGP protocol what a BIRD reload does
to its session: added, removed, restarted (an option of the protocol or of its template changed,
or the router id), or unaffected (a filter change re-announces routes without a restart).

${renderFlagsHelp}
  -o, --out DIR         the files BIRD runs now (default ${defaultConfigDir}); a missing folder
                        counts as empty
      --output FORMAT   text (default) or json
  -h, --help            this help

Exit status, as diff(1): 0 no change; 1 changes; 2 trouble (bad input, unreadable files, usage).`;

/** One file's change. Its diff has passwords masked. */
interface FileChange {
  readonly name: string;
  readonly change: 'added' | 'removed' | 'changed';
  readonly diff: string;
}

/** `bird-confd diff`: returns the exit code. */
export async function diffCommand(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return troubleIsTwo('diff', () => runDiff(argv, env));
}

async function runDiff(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { ...renderFlags, out: { type: 'string', short: 'o' }, output: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    process.stdout.write(`${diffUsage}\n`);
    return 0;
  }
  const output = values.output ?? 'text';
  if (output !== 'text' && output !== 'json') throw new UsageError(`--output must be text or json, not ${JSON.stringify(output)}`);
  const { node, files, options } = renderOptionsFrom(values, env, 'diff');
  const out = values.out ?? defaultConfigDir;
  const { result, diagnostics } = await loadAndRender(files, node, options);
  if (!result?.files || hasErrors(diagnostics)) {
    process.stderr.write('bird-confd diff: nothing rendered\n');
    return 2;
  }
  const onDisk = readOutputDir(out, true);
  if (!onDisk) {
    process.stderr.write(`bird-confd diff: cannot read ${out}\n`);
    return 2;
  }
  const changes = fileChanges(onDisk, result.files, out);
  const impact = reloadImpact(onDisk, result.files);
  if (output === 'json') {
    process.stdout.write(`${JSON.stringify({ node, out, changed: changes.length > 0, files: changes, ...impact }, null, 2)}\n`);
  } else {
    process.stdout.write(formatDiff(changes, impact));
  }
  return changes.length > 0 ? 1 : 0;
}

function fileChanges(onDisk: ReadonlyMap<string, string>, rendered: ReadonlyMap<string, string>, out: string): FileChange[] {
  const names = [...new Set([...onDisk.keys(), ...rendered.keys()])].sort();
  const changes: FileChange[] = [];
  for (const name of names) {
    const before = onDisk.get(name);
    const after = rendered.get(name);
    if (before === after) continue;
    const labels = { old: before === undefined ? '/dev/null' : `${out}/${name}`, new: after === undefined ? '/dev/null' : `rendered/${name}` };
    // The diff compares real text (a changed password shows as a changed line) but prints masked lines.
    const diff = unifiedDiff(before ?? '', after ?? '', labels, 3, maskSecrets);
    changes.push({ name, change: before === undefined ? 'added' : after === undefined ? 'removed' : 'changed', diff });
  }
  return changes;
}

function formatDiff(changes: readonly FileChange[], impact: ReloadImpact): string {
  if (changes.length === 0) return 'No change: the files on disk are what the manifests render.\n';
  const parts = changes.map((c) => c.diff);
  const rows = [['DAEMON', 'PROTOCOL', 'NEIGHBOR', 'IMPACT', 'WHY']];
  for (const p of impact.protocols) rows.push([p.daemon, p.protocol, p.neighbor || '-', p.impact, p.reasons.join('; ') || (p.impact === 'unaffected' ? 'no change' : '')]);
  parts.push(`Reload impact on BGP sessions:\n${impact.protocols.length ? table(rows).replace(/^/gm, '  ') : '  no BGP protocols'}\n`);
  if (impact.notes.length) parts.push(`Notes:\n${impact.notes.map((n) => `  ${n}`).join('\n')}\n`);
  const count = (i: string) => impact.protocols.filter((p) => p.impact === i).length;
  parts.push(`${changes.length} file(s) change; sessions: ${count('added')} added, ${count('removed')} removed, ${count('restarted')} restarted, ${count('unaffected')} unaffected\n`);
  return parts.join('\n');
}

import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { hasErrors } from '../model/diagnostics.js';
import { compareDaemon, compareFiles, renderedDaemon, statusReport, type DaemonReport, type RunningDaemon } from '../inspect/compare.js';
import { formatStatus } from '../inspect/format.js';
import { withBirdControl } from '../watch/bird-control.js';
import { defaultConfigDir, readOutputDir } from '../watch/output-dir.js';
import { readStatusFile, type DaemonStatusFile } from '../watch/status-file.js';
import { loadAndRender, renderFlags, renderFlagsHelp, renderOptionsFrom } from './common.js';
import { UsageError } from './errors.js';
import { troubleIsTwo } from './trouble.js';

/** Help text of `bird-confd status`. */
export const statusUsage = `Usage: bird-confd status [--out DIR] [--socket PATH] [--socket6 PATH] [-f PATH ...] [--node NAME]
                         [--output table|json]

Asks BIRD over its control socket which BGP sessions it runs (show protocols all) and compares
them with the files in DIR: sessions rendered but not running, running but not rendered (drift),
running with another neighbor or router id (drift), and sessions not Established (with their
state and since when). With -f, also checks that the files in DIR are what rendering the
manifests gives now.

      --out DIR         the rendered files (default ${defaultConfigDir})
      --socket PATH     bird's control socket (default /var/run/calico/bird.ctl)
      --socket6 PATH    bird6's control socket (default /var/run/calico/bird6.ctl); a daemon
                        whose socket is absent is skipped when its file has no BGP session
      --output FORMAT   table (default) or json
      --timeout MS      time allowed for each BIRD reply (default 5000)
${renderFlagsHelp}
  -h, --help            this help

When the watch daemon had to undo a reload (sessions did not come back), BIRD runs the previous
config, not the files in DIR: status says so first, with the sessions that did not come back.

Exit status: 0 every rendered session runs and is Established (and the files are up to date);
1 drift, a session down, an undone reload, or files out of date; 2 a daemon could not be asked,
bad input or usage.`;

/** `bird-confd status`: returns the exit code. */
export async function statusCommand(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return troubleIsTwo('status', () => runStatus(argv, env));
}

async function runStatus(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      ...renderFlags,
      out: { type: 'string', short: 'o' },
      socket: { type: 'string' },
      socket6: { type: 'string' },
      output: { type: 'string' },
      timeout: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    process.stdout.write(`${statusUsage}\n`);
    return 0;
  }
  const output = values.output ?? 'table';
  if (output !== 'table' && output !== 'json') throw new UsageError(`--output must be table or json, not ${JSON.stringify(output)}`);
  const timeoutMs = values.timeout === undefined ? 5000 : Number(values.timeout);
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) throw new UsageError('--timeout must be a positive number of milliseconds');
  const out = values.out ?? defaultConfigDir;
  const onDisk = readOutputDir(out);
  if (!onDisk) {
    process.stderr.write(`bird-confd status: cannot read the rendered files in ${out}\n`);
    return 2;
  }
  let files = null;
  let node = values.node ?? env.NODENAME ?? null;
  if (values.file?.length) {
    const opts = renderOptionsFrom(values, env, 'status');
    node = opts.node;
    const { result, diagnostics } = await loadAndRender(opts.files, opts.node, opts.options);
    if (!result?.files || hasErrors(diagnostics)) {
      process.stderr.write('bird-confd status: the manifests do not render\n');
      return 2;
    }
    files = compareFiles(onDisk, result.files);
  }
  const daemons: DaemonReport[] = [];
  for (const [daemon, main, socket] of [
    ['bird', 'bird.cfg', values.socket ?? '/var/run/calico/bird.ctl'],
    ['bird6', 'bird6.cfg', values.socket6 ?? '/var/run/calico/bird6.ctl'],
  ] as const) {
    const rendered = renderedDaemon(onDisk, main);
    if (!rendered && !existsSync(socket)) continue;
    daemons.push(compareDaemon(daemon, socket, rendered, await askBird(socket, timeoutMs)));
  }
  const base = statusReport(node, out, daemons, files);
  // The daemon records an undone reload: BIRD runs the previous config, not these files.
  const rolledBack = readStatusFile(out).rolledBack;
  const report = { ...base, ok: base.ok && !rolledBack.bird && !rolledBack.bird6, rolledBack };
  process.stdout.write(output === 'json' ? `${JSON.stringify(report, null, 2)}\n` : `${undoneLines(out, rolledBack)}${formatStatus(report)}`);
  if (report.summary.unreachable > 0) return 2;
  return report.ok ? 0 : 1;
}

function undoneLines(out: string, rolledBack: DaemonStatusFile['rolledBack']): string {
  return (['bird', 'bird6'] as const)
    .flatMap((daemon) => {
      const r = rolledBack[daemon];
      return r ? [`${daemon} RUNS THE PREVIOUS CONFIG: the reload of the files in ${out} (set ${r.undone}) was undone at ${r.at}, because ${r.lost.join(', ')} did not come back; bird-confd waits for the next change\n`] : [];
    })
    .join('');
}

async function askBird(socket: string, timeoutMs: number): Promise<RunningDaemon> {
  try {
    return await withBirdControl(socket, async (c) => ({ reachable: true as const, status: await c.status(), protocols: await c.protocols() }), { timeoutMs });
  } catch (err) {
    return { reachable: false, error: (err as Error).message };
  }
}

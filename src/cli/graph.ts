import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { formatDiagnostic, hasErrors } from '../model/diagnostics.js';
import { loadManifestPaths, snapshotOf } from '../model/load.js';
import { loadingInBulk } from './bulk-load.js';
import { topologyDot } from '../inspect/dot.js';
import { clusterTopology, type SessionStates } from '../inspect/topology.js';
import { calicoVersions, defaultCalicoVersion, isCalicoVersion } from '../render/profiles.js';
import { InputError, UsageError } from './errors.js';
import { manifestPathsFrom } from './flags.js';

/** Help text of `bird-confd graph`. */
export const graphUsage = `Usage: bird-confd graph -f PATH [-f PATH ...] [--status FILE.json ...] [--format dot|svg] [--out FILE]

Draws the BGP peering topology of the whole cluster: Calico nodes (route reflectors with their
cluster id), external peers, and one edge per session (solid: mesh, dashed: global peer, bold:
node-specific peer; orange: configured on one side only). With --status (the JSON of
"bird-confd status --output json" on some nodes), sessions are green when Established and red
when not.

  -f, --file PATH       manifests, as for render (repeatable)
      --status FILE     a status report of one node (repeatable)
      --format FORMAT   dot (default; svg when --out ends in .svg) or svg (runs Graphviz dot)
  -o, --out FILE        write to FILE instead of standard output
      --secret-namespace NS
                        namespace of BGP password Secrets (default: env NAMESPACE)
      --calico-version V
                        the sessions as this Calico release renders them (see render --help)
  -h, --help            this help

Exit status: 0 drawn; 1 bad input or Graphviz failed; 2 bad usage.`;

/** `bird-confd graph`: returns the exit code. */
export async function graphCommand(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      file: { type: 'string', short: 'f', multiple: true },
      status: { type: 'string', multiple: true },
      format: { type: 'string' },
      out: { type: 'string', short: 'o' },
      'secret-namespace': { type: 'string' },
      'calico-version': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    process.stdout.write(`${graphUsage}\n`);
    return 0;
  }
  const files = manifestPathsFrom(values, 'graph');
  const format = values.format ?? (values.out?.endsWith('.svg') ? 'svg' : 'dot');
  if (format !== 'dot' && format !== 'svg') throw new UsageError(`--format must be dot or svg, not ${JSON.stringify(format)}`);
  const states = await readStatuses(values.status ?? []);
  const loaded = await loadingInBulk(() => loadManifestPaths(files));
  for (const d of loaded.diagnostics) process.stderr.write(`${d.severity}: ${formatDiagnostic(d)}\n`);
  if (hasErrors(loaded.diagnostics)) throw new InputError('nothing drawn');
  const calicoVersion = values['calico-version'] ?? (env.BIRD_CONFD_CALICO_VERSION || defaultCalicoVersion);
  if (!isCalicoVersion(calicoVersion)) throw new UsageError(`--calico-version must be ${calicoVersions.join(' or ')}, not ${JSON.stringify(calicoVersion)}`);
  const topology = clusterTopology(snapshotOf(loaded.resources), { secretNamespace: values['secret-namespace'] ?? env.NAMESPACE, calicoVersion }, states);
  for (const d of topology.diagnostics) process.stderr.write(`${d.severity}: ${formatDiagnostic(d)}\n`);
  const dot = topologyDot(topology);
  const text = format === 'svg' ? await dotToSvg(dot) : dot;
  if (values.out) await writeFile(values.out, text);
  else process.stdout.write(text);
  return 0;
}

/** Session states from status reports (`status --output json`), by node and protocol. */
async function readStatuses(paths: readonly string[]): Promise<SessionStates> {
  const states = new Map<string, Map<string, boolean>>();
  for (const path of paths) {
    let report: { node?: unknown; daemons?: { sessions?: { name?: unknown; state?: unknown }[] }[] };
    try {
      report = JSON.parse(await readFile(path, 'utf8'));
    } catch (err) {
      throw new InputError(`--status ${path}: ${(err as Error).message}`);
    }
    if (typeof report.node !== 'string' || !Array.isArray(report.daemons)) throw new InputError(`--status ${path}: not a "bird-confd status --output json" report with a node name`);
    const mine = states.get(report.node) ?? new Map<string, boolean>();
    for (const d of report.daemons) for (const s of d.sessions ?? []) if (typeof s.name === 'string') mine.set(s.name, s.state === 'established');
    states.set(report.node, mine);
  }
  return states;
}

/** Runs Graphviz `dot -Tsvg`; a missing `dot` is a clear error. */
function dotToSvg(dot: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('dot', ['-Tsvg'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
    child.on('error', (e: NodeJS.ErrnoException) => {
      reject(new InputError(e.code === 'ENOENT' ? 'Graphviz "dot" is not on PATH: install graphviz (Debian: apt-get install graphviz), or use --format dot' : `cannot run Graphviz dot: ${e.message}`));
    });
    child.on('close', (code) => {
      if (code === 0) resolve(out);
      else reject(new InputError(`Graphviz dot failed (exit ${code}): ${err.trim()}`));
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(dot);
  });
}

import { parseArgs } from 'node:util';
import { hasErrors } from '../model/diagnostics.js';
import { secretFileNames } from '../render/index.js';
import { maskSecrets } from '../render/mask.js';
import { loadAndRender, renderFlags, renderOptionsFrom, renderOptionsOf } from './common.js';
import { manifestPathsFrom } from './flags.js';
import { InputError, UsageError } from './errors.js';
import { writeSet } from '../watch/output-dir.js';
import { renderUsage } from './usage.js';

export { renderUsage };

/** `bird-confd render`: returns the exit code. */
export async function renderCommand(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { ...renderFlags, out: { type: 'string', short: 'o' }, 'show-secrets': { type: 'boolean' }, 'all-nodes': { type: 'boolean' }, jobs: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    process.stdout.write(`${renderUsage}\n`);
    return 0;
  }
  if (values['all-nodes']) {
    if (values.node !== undefined) throw new UsageError('render takes --node NAME or --all-nodes, not both');
    const files = manifestPathsFrom(values, 'render');
    const { jobsOf, renderAllNodes } = await import('./render-all-nodes.js');
    return renderAllNodes({ files, settings: renderOptionsOf(values, env), out: values.out ?? null, showSecrets: values['show-secrets'] ?? false, jobs: jobsOf(values.jobs) });
  }
  if (values.jobs !== undefined) throw new UsageError('--jobs goes with --all-nodes');
  const { node, files, options } = renderOptionsFrom(values, env, 'render');
  const { result, diagnostics } = await loadAndRender(files, node, options);
  if (!result?.files || !result.view || hasErrors(diagnostics)) throw new InputError('nothing rendered');
  const view = result.view;
  for (const f of [view.ipv4, view.ipv6]) {
    const lp = f.loopPrevention;
    if (lp.enabled) process.stderr.write(`note: service loop prevention needs this policy rule (the watch daemon keeps it): ip -${f.family === 'ipv4' ? 4 : 6} rule add not iif lo lookup ${lp.kernelTable} priority 1000\n`);
  }
  if (values.out) {
    const secrets = secretFileNames(view, result.files);
    writeSet(values.out, result.files, (name) => secrets.has(name));
  } else {
    // A preview on a terminal or in a CI log must not leak passwords: masked unless asked for.
    for (const [name, text] of result.files) process.stdout.write(`==> ${name} <==\n${values['show-secrets'] ? text : maskSecrets(text)}\n`);
  }
  return 0;
}

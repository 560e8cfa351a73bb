import { parseArgs } from 'node:util';
import { hasErrors } from '../model/diagnostics.js';
import { holdsSecret } from '../render/index.js';
import { maskPasswords } from '../render/mask.js';
import { loadAndRender, renderFlags, renderFlagsHelp, renderOptionsFrom } from './common.js';
import { InputError } from './errors.js';
import { writeSet } from '../watch/output-dir.js';

/** Help text of `bird-confd render`. */
export const renderUsage = `Usage: bird-confd render -f PATH [-f PATH ...] [--node NAME] [--out DIR] [options]

Renders one node's BIRD configuration from manifests, with no cluster.

${renderFlagsHelp}
  -o, --out DIR         write the files into DIR (created if needed) as "watch" does: each file
                        a symlink into the current generation, all swapped at once; without it,
                        every file is printed under a "==> name <==" header line, with
                        passwords shown as "***"
      --show-secrets    print passwords in the preview as they are
  -h, --help            this help

Environment: NODENAME, CALICO_ROUTER_ID, NAMESPACE, CALICO_K8S_NODE_REF (the node name used by
Endpoints), CALICO_ADVERTISE_CLUSTER_IPS (comma-separated CIDRs, overrides serviceClusterIPs).

Exit status: 0 rendered; 1 bad input (one line per problem: file, object, field); 2 bad usage.`;

/** `bird-confd render`: returns the exit code. */
export async function renderCommand(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { ...renderFlags, out: { type: 'string', short: 'o' }, 'show-secrets': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    process.stdout.write(`${renderUsage}\n`);
    return 0;
  }
  const { node, files, options } = renderOptionsFrom(values, env, 'render');
  const { result, diagnostics } = await loadAndRender(files, node, options);
  if (!result?.files || !result.view || hasErrors(diagnostics)) throw new InputError('nothing rendered');
  const view = result.view;
  for (const f of [view.ipv4, view.ipv6]) {
    const lp = f.loopPrevention;
    if (lp.enabled) process.stderr.write(`note: service loop prevention needs this policy rule (the watch daemon keeps it): ip -${f.family === 'ipv4' ? 4 : 6} rule add not iif lo lookup ${lp.kernelTable} priority 1000\n`);
  }
  if (values.out) {
    writeSet(values.out, result.files, (name) => holdsSecret(view, name));
  } else {
    // A preview on a terminal or in a CI log must not leak passwords: masked unless asked for.
    for (const [name, text] of result.files) process.stdout.write(`==> ${name} <==\n${values['show-secrets'] ? text : maskPasswords(text)}\n`);
  }
  return 0;
}

import { parseArgs } from 'node:util';
import { formatDiagnostic, hasErrors } from '../model/diagnostics.js';
import { loadManifestPaths, originOf, snapshotOf } from '../model/load.js';
import { describeId, idOf } from '../model/resources.js';
import { holdsSecret, renderNode, type Target } from '../render/index.js';
import { InputError, UsageError } from './errors.js';
import { replaceDir } from './output-dir.js';

/** Help text of `bird-confd render`. */
export const renderUsage = `Usage: bird-confd render -f PATH [-f PATH ...] [--node NAME] [--out DIR] [options]

Renders one node's BIRD configuration from manifests, with no cluster.

  -f, --file PATH       a manifest file (YAML or JSON, multi-document, List kinds) or a folder
                        of them (*.yaml, *.yml, *.json); repeatable. Later documents with the same
                        kind/namespace/name replace earlier ones, as kubectl apply would.
  -n, --node NAME       the node to render (default: env NODENAME)
  -o, --out DIR         write the files into DIR, replacing it as a whole (created if needed);
                        without it, every file is printed under a "==> name <==" header line
  -t, --target T        linux (the six BIRD files, default), windows (peerings.ps1, blocks.ps1)
                        or all
      --router-id ID    an IPv4 router id, or "hash" (default: env CALICO_ROUTER_ID, else the
                        node's IPv4 address)
      --secret-namespace NS
                        namespace of BGP password Secrets (default: env NAMESPACE, else kube-system)
      --passwords MODE  inline (default, as Calico: password "..." in bird.cfg) or separate-file
                        (each password once as a string constant in bird_passwords.cfg /
                        bird6_passwords.cfg, mode 0600, included from bird.cfg / bird6.cfg, so the
                        main files, previews and diffs hold no secret)
  -h, --help            this help

Environment: NODENAME, CALICO_ROUTER_ID, NAMESPACE, CALICO_K8S_NODE_REF (the node name used by
Endpoints), CALICO_ADVERTISE_CLUSTER_IPS (comma-separated CIDRs, overrides serviceClusterIPs).

Exit status: 0 rendered; 1 bad input (one line per problem: file, object, field); 2 bad usage.`;

/** `bird-confd render`: returns the exit code. */
export async function renderCommand(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      file: { type: 'string', short: 'f', multiple: true },
      node: { type: 'string', short: 'n' },
      out: { type: 'string', short: 'o' },
      target: { type: 'string', short: 't' },
      'router-id': { type: 'string' },
      'secret-namespace': { type: 'string' },
      passwords: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    process.stdout.write(`${renderUsage}\n`);
    return 0;
  }
  const node = values.node ?? env.NODENAME;
  if (!values.file?.length) throw new UsageError('render needs at least one -f PATH');
  if (!node) throw new UsageError('render needs --node NAME (or env NODENAME)');
  const target = (values.target ?? 'linux') as Target;
  if (!['linux', 'windows', 'all'].includes(target)) throw new UsageError(`--target must be linux, windows or all, not ${JSON.stringify(target)}`);

  const passwords = values.passwords ?? 'inline';
  if (passwords !== 'inline' && passwords !== 'separate-file') throw new UsageError(`--passwords must be inline or separate-file, not ${JSON.stringify(passwords)}`);

  const loaded = await loadManifestPaths(values.file);
  const result = hasErrors(loaded.diagnostics)
    ? null
    : renderNode(snapshotOf(loaded.resources), node, {
        target,
        routerId: values['router-id'] ?? env.CALICO_ROUTER_ID,
        secretNamespace: values['secret-namespace'] ?? env.NAMESPACE,
        k8sNodeRef: env.CALICO_K8S_NODE_REF,
        advertiseClusterIps: env.CALICO_ADVERTISE_CLUSTER_IPS,
        passwords,
      });
  // Render-time problems name the object; add the file it came from.
  const fileOf = new Map(loaded.resources.map((r) => [describeId(idOf(r)), originOf(r)]));
  const diagnostics = [...loaded.diagnostics, ...(result?.diagnostics ?? []).map((d) => (d.file || !d.object ? d : { ...d, file: fileOf.get(d.object) }))];
  for (const d of diagnostics) process.stderr.write(`${d.severity}: ${formatDiagnostic(d)}\n`);
  if (!result?.files || !result.view || hasErrors(diagnostics)) throw new InputError('nothing rendered');
  const view = result.view;
  if (values.out) {
    await replaceDir(values.out, result.files, (name) => holdsSecret(view, name));
  } else {
    for (const [name, text] of result.files) process.stdout.write(`==> ${name} <==\n${text}\n`);
  }
  return 0;
}

// Loaded by every command and by `--help`: the model and render modules (zod, Handlebars) are
// imported only when a command loads manifests, so help and usage errors start quickly.
import { loadingInBulk } from './bulk-load.js';
import { formatDiagnostic, hasErrors, type Diagnostic } from '../model/diagnostics.js';
import type { Snapshot } from '../model/snapshot.js';
import type { NodeRender, Target } from '../render/index.js';
import type { RenderSettings } from '../watch/template-files.js';
import { calicoVersions, defaultCalicoVersion, isCalicoVersion, kindUnread } from '../render/profiles.js';
import { UsageError } from './errors.js';
import { manifestPathsFrom } from './flags.js';

/** The flags every command that renders from manifests accepts (node's util.parseArgs form). */
export const renderFlags = {
  file: { type: 'string', short: 'f', multiple: true },
  node: { type: 'string', short: 'n' },
  target: { type: 'string', short: 't' },
  'router-id': { type: 'string' },
  'secret-namespace': { type: 'string' },
  passwords: { type: 'string' },
  templates: { type: 'string' },
  'loop-prevention': { type: 'string' },
  'loop-prevention-table': { type: 'string' },
  'service-routes': { type: 'string' },
  'calico-version': { type: 'string' },
} as const;

/** Help lines for `renderFlags`. */
export const renderFlagsHelp = `  -f, --file PATH       a manifest file (YAML or JSON, multi-document, List kinds) or a folder
                        of them (*.yaml, *.yml, *.json); repeatable. Later documents with the same
                        kind/namespace/name replace earlier ones, as kubectl apply would.
  -n, --node NAME       the node to render (default: env NODENAME)
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
      --templates DIR   user templates layered over the shipped ones (default: env
                        BIRD_CONFD_TEMPLATES); see "Custom templates" in the README
      --loop-prevention MODE
                        Drop, Reject or Disabled: blackholes for unused service IPs in their own
                        kernel table (default: FelixConfiguration default serviceLoopPrevention,
                        else Disabled); see "Service loop prevention" in the README
      --loop-prevention-table N
                        the kernel table for those routes (default 250)
      --service-routes WHICH
                        all (default, as Calico) or own: pass on to BGP peers only the service
                        routes this node originates, never one learned from another node (so a
                        Local service's /32 comes only from nodes with an endpoint) (default: env
                        BIRD_CONFD_SERVICE_ROUTES)
      --calico-version V
                        render as this Calico release renders: ${calicoVersions.join(' or ')}
                        (default: env BIRD_CONFD_CALICO_VERSION, else ${defaultCalicoVersion}, the
                        newest supported)`;

/** The parsed values of `renderFlags`. */
export interface RenderFlagValues {
  file?: string[];
  node?: string;
  target?: string;
  'router-id'?: string;
  'secret-namespace'?: string;
  passwords?: string;
  templates?: string;
  'loop-prevention'?: string;
  'loop-prevention-table'?: string;
  'service-routes'?: string;
  'calico-version'?: string;
}

/** Render options from flags, falling back to calico-node's environment variables; validates them. */
export function renderOptionsOf(values: RenderFlagValues, env: NodeJS.ProcessEnv): RenderSettings & { target: Target } {
  const target = (values.target ?? 'linux') as Target;
  if (!['linux', 'windows', 'all'].includes(target)) throw new UsageError(`--target must be linux, windows or all, not ${JSON.stringify(target)}`);
  const passwords = values.passwords ?? 'inline';
  if (passwords !== 'inline' && passwords !== 'separate-file') throw new UsageError(`--passwords must be inline or separate-file, not ${JSON.stringify(passwords)}`);
  const loop = values['loop-prevention'];
  if (loop !== undefined && !['Drop', 'Reject', 'Disabled'].includes(loop)) throw new UsageError(`--loop-prevention must be Drop, Reject or Disabled, not ${JSON.stringify(loop)}`);
  const table = values['loop-prevention-table'];
  if (table !== undefined && !/^\d{1,10}$/.test(table)) throw new UsageError('--loop-prevention-table must be a number');
  const serviceRoutes = values['service-routes'] ?? (env.BIRD_CONFD_SERVICE_ROUTES || 'all');
  if (serviceRoutes !== 'all' && serviceRoutes !== 'own') throw new UsageError(`--service-routes must be all or own, not ${JSON.stringify(serviceRoutes)}`);
  const calicoVersion = values['calico-version'] ?? (env.BIRD_CONFD_CALICO_VERSION || defaultCalicoVersion);
  if (!isCalicoVersion(calicoVersion)) throw new UsageError(`--calico-version must be ${calicoVersions.join(' or ')}, not ${JSON.stringify(calicoVersion)}`);
  return {
    target,
    calicoVersion,
    routerId: values['router-id'] ?? env.CALICO_ROUTER_ID,
    secretNamespace: values['secret-namespace'] ?? env.NAMESPACE,
    k8sNodeRef: env.CALICO_K8S_NODE_REF,
    advertiseClusterIps: env.CALICO_ADVERTISE_CLUSTER_IPS,
    passwords,
    templateDir: values.templates ?? (env.BIRD_CONFD_TEMPLATES || undefined),
    loopPrevention: loop as 'Drop' | 'Reject' | 'Disabled' | undefined,
    loopPreventionTable: table === undefined ? undefined : Number(table),
    serviceRoutes,
  };
}

/** The node, the manifest paths and the render options of a command that renders from manifests. */
export function renderOptionsFrom(values: RenderFlagValues, env: NodeJS.ProcessEnv, command: string): { node: string; files: string[]; options: RenderSettings } {
  const node = values.node ?? env.NODENAME;
  const files = manifestPathsFrom(values, command);
  if (!node) throw new UsageError(`${command} needs --node NAME (or env NODENAME)`);
  return { node, files, options: renderOptionsOf(values, env) };
}

/** Manifests loaded for rendering: the snapshot (null when loading failed), the load problems, and how to name a render problem's file. */
export interface LoadedForRender {
  readonly snapshot: Snapshot | null;
  readonly diagnostics: Diagnostic[];
  /** A render-time problem names the object; this adds the file it came from. */
  readonly withFile: (d: Diagnostic) => Diagnostic;
}

/** Loads manifests as every command that renders from them does (objects the profile never reads, such as v1 Endpoints under 3.32, are left out before validation). */
export async function loadForRender(files: readonly string[], options: RenderSettings): Promise<LoadedForRender> {
  const [{ loadManifestPaths, snapshotOf }, { describeId, idOf }] = await Promise.all([import('../model/load.js'), import('../model/resources.js')]);
  const version = options.calicoVersion ?? defaultCalicoVersion;
  const loaded = await loadingInBulk(() => loadManifestPaths(files, { skip: (kind, apiVersion) => kindUnread(version, kind, apiVersion) }));
  const snapshot = hasErrors(loaded.diagnostics) ? null : snapshotOf(loaded.resources);
  // The index of every object's file is built only when some problem needs it.
  let fileOf: Map<string, string | undefined> | undefined;
  const withFile = (d: Diagnostic): Diagnostic => (d.file || !d.object ? d : { ...d, file: (fileOf ??= new Map(loaded.resources.map((r, i) => [describeId(idOf(r)), loaded.origins[i]]))).get(d.object) });
  return { snapshot, diagnostics: loaded.diagnostics, withFile };
}

/** Loads manifests and renders one node; every problem is printed to stderr with its file. */
export async function loadAndRender(files: readonly string[], node: string, options: RenderSettings): Promise<{ result: NodeRender | null; snapshot: Snapshot | null; diagnostics: Diagnostic[] }> {
  const [{ snapshot, diagnostics: loadProblems, withFile }, { renderNodeWithTemplates }] = await Promise.all([loadForRender(files, options), import('../watch/template-files.js')]);
  const result = snapshot ? renderNodeWithTemplates(snapshot, node, options) : null;
  const diagnostics = [...loadProblems, ...(result?.diagnostics ?? []).map(withFile)];
  for (const d of diagnostics) process.stderr.write(`${d.severity}: ${formatDiagnostic(d)}\n`);
  return { result, snapshot, diagnostics };
}

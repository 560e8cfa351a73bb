import fetch from 'node-fetch';
import { KubeConfig, makeInformer, type Informer, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';
import { textOfBytes } from '../model/manifest-text.js';
import { listOf } from '../model/json-list.js';
import { documentToResource } from '../model/load.js';
import { namespaceOf, type ResourceId, type ResourceKind } from '../model/resources.js';
import { defaultBackoff, type Backoff, type Source, type SourceEvent } from './source.js';

/** Kubernetes API settings. */
export interface KubeSourceConfig {
  /** A kubeconfig file; without it, the in-cluster service account. */
  readonly kubeconfig?: string;
  /** The namespace whose Secrets hold BGP passwords (only that namespace is read). */
  readonly namespace: string;
  readonly nodeName: string;
  /** Also watch Calico's CRDs (the Kubernetes datastore); false beside etcd. */
  readonly calicoResources: boolean;
  /**
   * Which endpoint objects to follow: v1 Endpoints (what Calico v3.17 reads), EndpointSlices
   * (v3.32), or both (default). A profile follows only what it renders: on a large cluster each
   * kind is tens of thousands of objects.
   */
  readonly endpoints?: 'Endpoints' | 'EndpointSlice' | 'both';
  readonly backoff?: Backoff;
}

/** The identity of an object by kind and metadata alone (whatever its content), or null without a name. */
function identityOf(w: Watched, obj: KubernetesObject): ResourceId | null {
  const name = obj.metadata?.name;
  return name ? { kind: w.stored, namespace: namespaceOf(w.stored, obj.metadata?.namespace), name } : null;
}

const calicoPlurals: [plural: string, kind: ResourceKind][] = [
  ['bgpconfigurations', 'BGPConfiguration'],
  ['bgppeers', 'BGPPeer'],
  ['ippools', 'IPPool'],
  ['blockaffinities', 'BlockAffinity'],
  ['felixconfigurations', 'FelixConfiguration'],
  ['bgpfilters', 'BGPFilter'],
];

interface Watched {
  readonly path: string;
  readonly kind: string;
  /** The kind the snapshot stores it as (a core Node is a `KubeNode`). */
  readonly stored: ResourceKind;
  readonly apiVersion: string;
  readonly list: () => Promise<KubernetesListObject<KubernetesObject>>;
}

/** A collection the source follows: its path, the kind it holds, and how the snapshot stores it. */
export type Collection = Omit<Watched, 'list'>;

/** The collections to follow, with the kinds they hold. */
function watchedCollections(kc: KubeConfig, config: KubeSourceConfig): Watched[] {
  return followedCollections(config).map((c) => {
    const w: Watched = { ...c, list: () => listRaw(kc, w) };
    return w;
  });
}

/** The collections a source of this configuration lists and watches. */
export function followedCollections(config: Pick<KubeSourceConfig, 'namespace' | 'calicoResources' | 'endpoints'>): Collection[] {
  const collection = (path: string, kind: string, stored: ResourceKind, apiVersion: string): Collection => ({ path, kind, stored, apiVersion });
  const endpoints = config.endpoints ?? 'both';
  const calico = calicoPlurals.map(([plural, kind]) => collection(`/apis/crd.projectcalico.org/v1/${plural}`, kind, kind, 'crd.projectcalico.org/v1'));
  return [
    ...(config.calicoResources ? calico : []),
    // Kubernetes Nodes stand for Calico Nodes in the Kubernetes datastore only; beside etcd, the
    // Calico Nodes (with their labels) are in etcd.
    ...(config.calicoResources ? [collection('/api/v1/nodes', 'Node', 'KubeNode', 'v1')] : []),
    collection('/api/v1/services', 'Service', 'Service', 'v1'),
    ...(endpoints !== 'EndpointSlice' ? [collection('/api/v1/endpoints', 'Endpoints', 'Endpoints', 'v1')] : []),
    // Calico v3.32 reads EndpointSlices for service advertisement (v3.17 read the Endpoints above).
    ...(endpoints !== 'Endpoints' ? [collection('/apis/discovery.k8s.io/v1/endpointslices', 'EndpointSlice', 'EndpointSlice', 'discovery.k8s.io/v1')] : []),
    collection(`/api/v1/namespaces/${config.namespace}/secrets`, 'Secret', 'Secret', 'v1'),
  ];
}

/** An object of a collection validated into a resource (or its problems). */
type Validated = ReturnType<typeof documentToResource>;

/** Validates an object of a collection as the kind it holds. */
function validate(w: Watched, obj: KubernetesObject): Validated {
  return documentToResource({ ...obj, kind: w.kind, apiVersion: w.apiVersion } as Record<string, unknown>, `${w.path}/${obj.metadata?.name ?? '?'}`);
}

/**
 * The informer's cache entry of a listed object: its identity and version (all the cache compares),
 * and the object already validated until the informer hands it on (then dropped). The raw object
 * is dropped as soon as it is validated, so that a large list is held once, as resources, not also
 * as the API's full objects.
 */
interface ListedEntry extends KubernetesObject {
  validated: Validated | undefined;
}

/**
 * Lists a collection as plain JSON, with the client's own connection settings (server, TLS,
 * credentials): the typed API clients turn every object into class instances first, which for
 * the tens of thousands of Services and EndpointSlices of a large cluster costs seconds at start.
 * The items are parsed one at a time (see json-list.ts) and validated at once.
 */
async function listRaw(kc: KubeConfig, w: Watched): Promise<KubernetesListObject<KubernetesObject>> {
  const server = kc.getCurrentCluster()!.server;
  const response = await fetch(`${server}${w.path}`, await kc.applyToFetchOptions({ method: 'GET' }));
  if (!response.ok) throw new Error(`${w.path}: HTTP ${response.status} ${response.statusText}`);
  const list = listOf(textOfBytes(await response.buffer()));
  const items: KubernetesObject[] = [];
  for (let i = 0; i < list.count; i++) {
    // A list's items carry no kind: each freshly parsed item gets it in place (no copy, as `validate` makes of a watched object).
    const item = list.item(i);
    const obj = (typeof item === 'object' && item !== null && !Array.isArray(item) ? item : {}) as KubernetesObject & Record<string, unknown>;
    obj.kind = w.kind;
    obj.apiVersion = w.apiVersion;
    const { name, namespace, resourceVersion } = obj.metadata ?? {};
    const entry: ListedEntry = { metadata: { name, namespace, resourceVersion }, validated: documentToResource(obj, `${w.path}/${name ?? '?'}`) };
    items.push(entry);
  }
  return { ...(list.outer as unknown as KubernetesListObject<KubernetesObject>), items };
}

/**
 * The Kubernetes API: Calico's `crd.projectcalico.org/v1` resources (optionally), core Nodes,
 * Services, Endpoints and EndpointSlices, and Secrets in one namespace, each through the client's informer
 * (list, then watch from the list's resourceVersion; on `410 Gone` it lists again and reports
 * what vanished). A failed informer is restarted with back-off.
 */
export function createKubernetesSource(config: KubeSourceConfig): Source {
  const kc = new KubeConfig();
  if (config.kubeconfig) kc.loadFromFile(config.kubeconfig);
  else kc.loadFromCluster();
  if (!kc.getCurrentCluster()) throw new Error('no Kubernetes API: set KUBECONFIG or run in a cluster');
  return new KubernetesSource(kc, watchedCollections(kc, config), config.backoff ?? defaultBackoff);
}

class KubernetesSource implements Source {
  readonly name = 'kubernetes';
  private readonly informers: Informer<KubernetesObject>[] = [];
  /** Collections whose watch is down now: the source is connected again only once none is. */
  private readonly down = new Set<string>();
  private emit: (e: SourceEvent) => void = () => undefined;
  private stopped = false;

  constructor(
    private readonly kc: KubeConfig,
    private readonly watched: readonly Watched[],
    private readonly backoff: Backoff,
  ) {}

  async start(emit: (e: SourceEvent) => void): Promise<void> {
    this.emit = emit;
    emit({ type: 'reset' });
    await Promise.all(this.watched.map((w) => this.follow(w)));
    if (this.stopped) return;
    this.down.clear();
    emit({ type: 'status', state: 'connected' });
    emit({ type: 'synced' });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    // Watch streams are abandoned, not awaited: with the API away a stop may hang.
    for (const i of this.informers) void i.stop().catch(() => undefined);
  }

  /** Follows one collection; resolves once its first list is in (or the source stopped). */
  private async follow(w: Watched): Promise<void> {
    const informer = this.informer(w);
    let attempt = 0;
    let listed = false;
    let retrying = false;
    const pause = () => new Promise((r) => setTimeout(r, this.backoff(attempt++)).unref());
    const reconnect = async () => {
      retrying = true;
      while (!this.stopped) {
        await pause();
        if (this.stopped || !(await tryStart(informer))) continue;
        attempt = 0;
        this.down.delete(w.path);
        if (this.down.size === 0) this.emit({ type: 'status', state: 'connected' });
        break;
      }
      retrying = false;
    };
    informer.on('error', (err: unknown) => {
      this.down.add(w.path);
      this.emit({ type: 'status', state: 'disconnected', detail: `${w.path}: ${(err as Error)?.message ?? String(err)}` });
      if (listed && !retrying && !this.stopped) void reconnect();
    });
    while (!this.stopped) {
      if (await tryStart(informer)) {
        listed = true;
        return;
      }
      await pause();
    }
  }

  /** An informer of one collection whose events become source events. */
  private informer(w: Watched): Informer<KubernetesObject> {
    const informer = makeInformer(this.kc, w.path, w.list);
    const upsert = (obj: KubernetesObject) => {
      // A listed object was validated as it was listed; one from the watch is validated now.
      const entry = obj as Partial<ListedEntry>;
      const r = entry.validated ?? validate(w, obj);
      if (entry.validated) entry.validated = undefined;
      for (const d of r.diagnostics) this.emit({ type: 'problem', diagnostic: d });
      if (r.resource) this.emit({ type: 'upsert', resource: r.resource });
    };
    informer.on('add', upsert);
    informer.on('update', upsert);
    // A delete removes by identity: the object's last content may not be valid (and need not be).
    informer.on('delete', (obj) => {
      const id = identityOf(w, obj);
      if (id) this.emit({ type: 'delete', id });
    });
    this.informers.push(informer);
    return informer;
  }
}

/** Starts (or restarts) an informer; whether its list and watch went through (failures come as 'error' events). */
async function tryStart(informer: Informer<KubernetesObject>): Promise<boolean> {
  let ok = true;
  const failed = () => (ok = false);
  informer.on('error', failed);
  await informer.start().catch(failed);
  informer.off('error', failed);
  return ok;
}

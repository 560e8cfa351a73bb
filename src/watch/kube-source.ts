import { CoreV1Api, CustomObjectsApi, DiscoveryV1Api, KubeConfig, makeInformer, type Informer, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';
import { documentToResource } from '../model/load.js';
import { idOf } from '../model/resources.js';
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
  readonly backoff?: Backoff;
}

const calicoPlurals: [plural: string, kind: string][] = [
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
  readonly apiVersion: string;
  readonly list: () => Promise<KubernetesListObject<KubernetesObject>>;
}

/**
 * The Kubernetes API: Calico's `crd.projectcalico.org/v1` resources (optionally), core Nodes,
 * Services, Endpoints and EndpointSlices (all namespaces), and Secrets in one namespace, each through the client's informer
 * (list, then watch from the list's resourceVersion; on `410 Gone` it lists again and reports
 * what vanished). A failed informer is restarted with back-off.
 */
export function createKubernetesSource(config: KubeSourceConfig): Source {
  const kc = new KubeConfig();
  if (config.kubeconfig) kc.loadFromFile(config.kubeconfig);
  else kc.loadFromCluster();
  if (!kc.getCurrentCluster()) throw new Error('no Kubernetes API: set KUBECONFIG or run in a cluster');
  const core = kc.makeApiClient(CoreV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const discovery = kc.makeApiClient(DiscoveryV1Api);
  const watched: Watched[] = [
    ...(config.calicoResources
      ? calicoPlurals.map(([plural, kind]) => ({
          path: `/apis/crd.projectcalico.org/v1/${plural}`,
          kind,
          apiVersion: 'crd.projectcalico.org/v1',
          list: () => custom.listClusterCustomObject({ group: 'crd.projectcalico.org', version: 'v1', plural }) as Promise<KubernetesListObject<KubernetesObject>>,
        }))
      : []),
    { path: '/api/v1/nodes', kind: 'Node', apiVersion: 'v1', list: () => core.listNode() as Promise<KubernetesListObject<KubernetesObject>> },
    { path: '/api/v1/services', kind: 'Service', apiVersion: 'v1', list: () => core.listServiceForAllNamespaces() as Promise<KubernetesListObject<KubernetesObject>> },
    { path: '/api/v1/endpoints', kind: 'Endpoints', apiVersion: 'v1', list: () => core.listEndpointsForAllNamespaces() as Promise<KubernetesListObject<KubernetesObject>> },
    // Calico v3.32 reads EndpointSlices for service advertisement (v3.17 read the Endpoints above).
    { path: '/apis/discovery.k8s.io/v1/endpointslices', kind: 'EndpointSlice', apiVersion: 'discovery.k8s.io/v1', list: () => discovery.listEndpointSliceForAllNamespaces() as Promise<KubernetesListObject<KubernetesObject>> },
    { path: `/api/v1/namespaces/${config.namespace}/secrets`, kind: 'Secret', apiVersion: 'v1', list: () => core.listNamespacedSecret({ namespace: config.namespace }) as Promise<KubernetesListObject<KubernetesObject>> },
  ];
  const backoff = config.backoff ?? defaultBackoff;
  const informers: Informer<KubernetesObject>[] = [];
  let stopped = false;

  return {
    name: 'kubernetes',
    async start(emit: (e: SourceEvent) => void) {
      emit({ type: 'reset' });
      const toResource = (w: Watched, obj: KubernetesObject) => {
        const r = documentToResource({ ...obj, kind: w.kind, apiVersion: w.apiVersion } as Record<string, unknown>, `${w.path}/${obj.metadata?.name ?? '?'}`);
        for (const d of r.diagnostics) emit({ type: 'problem', diagnostic: d });
        return r.resource;
      };
      await Promise.all(
        watched.map(async (w) => {
          const informer = makeInformer(kc, w.path, w.list);
          const upsert = (obj: KubernetesObject) => {
            const res = toResource(w, obj);
            if (res) emit({ type: 'upsert', resource: res });
          };
          informer.on('add', upsert);
          informer.on('update', upsert);
          informer.on('delete', (obj) => {
            const res = toResource(w, obj);
            if (res) emit({ type: 'delete', id: idOf(res) });
          });
          let attempt = 0;
          informer.on('error', (err: unknown) => {
            emit({ type: 'status', state: 'disconnected', detail: `${w.path}: ${(err as Error)?.message ?? String(err)}` });
            if (stopped) return;
            setTimeout(() => void informer.start().then(() => { attempt = 0; emit({ type: 'status', state: 'connected' }); }, () => undefined), backoff(attempt++));
          });
          informers.push(informer);
          for (;;) {
            try {
              await informer.start();
              return;
            } catch (err) {
              if (stopped) return;
              emit({ type: 'status', state: 'disconnected', detail: `${w.path}: ${(err as Error).message}` });
              await new Promise((r) => setTimeout(r, backoff(attempt++)));
            }
          }
        }),
      );
      emit({ type: 'status', state: 'connected' });
      emit({ type: 'synced' });
    },
    async stop() {
      stopped = true;
      await Promise.all(informers.map((i) => i.stop().catch(() => undefined)));
    },
  };
}

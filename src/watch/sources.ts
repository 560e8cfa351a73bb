import type { Logger } from 'pino';
import type { Target } from '../render/index.js';
import { defaultCalicoVersion, type CalicoVersion } from '../render/profiles.js';
import { createEndpointStatusSource, endpointStatusDir } from './endpoint-status-source.js';
import { createFileSource } from './file-source.js';
import type { Source } from './source.js';

/** What the sources are built from. */
export interface SourceConfig {
  readonly files: readonly string[];
  readonly env: NodeJS.ProcessEnv;
  readonly node: string;
  readonly logger: Logger;
  /** The files rendered: a Windows node has no endpoint-status watcher (as calico-node). Default linux. */
  readonly target?: Target;
  /** The output profile: only Calico v3.32's reads endpoint-status files. Default the newest. */
  readonly calicoVersion?: CalicoVersion;
}

/** The sources of a datastore type (the etcd and Kubernetes clients are loaded only when used), and the local ones. */
export async function createSources(datastore: 'file' | 'etcdv3' | 'kubernetes', config: SourceConfig): Promise<Source[]> {
  return [...(await datastoreSources(datastore, config)), ...localSources(config)];
}

/**
 * The sources on the node itself, beside the datastore: Felix's workload endpoint-status files
 * for local workload peering (Calico v3.32 on Linux; v3.17 had no such input, and calico-node
 * does not watch them on Windows).
 */
function localSources(config: SourceConfig): Source[] {
  if ((config.target ?? 'linux') === 'windows' || (config.calicoVersion ?? defaultCalicoVersion) === '3.17') return [];
  return [createEndpointStatusSource(endpointStatusDir(config.env))];
}

async function datastoreSources(datastore: 'file' | 'etcdv3' | 'kubernetes', config: SourceConfig): Promise<Source[]> {
  if (datastore === 'file') return [createFileSource(config.files)];
  if (datastore === 'etcdv3') {
    const { createEtcdSource } = await import('./etcd-source.js');
    const endpoints = (config.env.ETCD_ENDPOINTS ?? 'http://127.0.0.1:2379').split(',').map((e) => e.trim()).filter(Boolean);
    const sources: Source[] = [createEtcdSource({ endpoints, caFile: config.env.ETCD_CA_CERT_FILE, certFile: config.env.ETCD_CERT_FILE, keyFile: config.env.ETCD_KEY_FILE, nodeName: config.node })];
    if (config.env.KUBECONFIG) {
      const { createKubernetesSource } = await import('./kube-source.js');
      sources.push(createKubernetesSource({ kubeconfig: config.env.KUBECONFIG, namespace: config.env.NAMESPACE || 'kube-system', nodeName: config.node, calicoResources: false, endpoints: endpointKind(config) }));
    } else {
      config.logger.warn('etcdv3 without KUBECONFIG: Services, Endpoints and Secrets are not read, so service advertisement of Local services and BGP passwords are unavailable');
    }
    return sources;
  }
  const { createKubernetesSource } = await import('./kube-source.js');
  return [createKubernetesSource({ kubeconfig: config.env.KUBECONFIG, namespace: config.env.NAMESPACE || 'kube-system', nodeName: config.node, calicoResources: true, endpoints: endpointKind(config) })];
}

/** The endpoint objects the profile reads: v1 Endpoints for Calico v3.17, EndpointSlices for v3.32. */
function endpointKind(config: SourceConfig): 'Endpoints' | 'EndpointSlice' {
  return (config.calicoVersion ?? defaultCalicoVersion) === '3.17' ? 'Endpoints' : 'EndpointSlice';
}

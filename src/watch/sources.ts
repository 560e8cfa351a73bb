import type { Logger } from 'pino';
import { createFileSource } from './file-source.js';
import type { Source } from './source.js';

/** What the sources are built from. */
export interface SourceConfig {
  readonly files: readonly string[];
  readonly env: NodeJS.ProcessEnv;
  readonly node: string;
  readonly logger: Logger;
}

/** The sources of a datastore type (the etcd and Kubernetes clients are loaded only when used). */
export async function createSources(datastore: 'file' | 'etcdv3' | 'kubernetes', config: SourceConfig): Promise<Source[]> {
  if (datastore === 'file') return [createFileSource(config.files)];
  if (datastore === 'etcdv3') {
    const { createEtcdSource } = await import('./etcd-source.js');
    const endpoints = (config.env.ETCD_ENDPOINTS ?? 'http://127.0.0.1:2379').split(',').map((e) => e.trim()).filter(Boolean);
    const sources: Source[] = [createEtcdSource({ endpoints, caFile: config.env.ETCD_CA_CERT_FILE, certFile: config.env.ETCD_CERT_FILE, keyFile: config.env.ETCD_KEY_FILE, nodeName: config.node })];
    if (config.env.KUBECONFIG) {
      const { createKubernetesSource } = await import('./kube-source.js');
      sources.push(createKubernetesSource({ kubeconfig: config.env.KUBECONFIG, namespace: config.env.NAMESPACE || 'kube-system', nodeName: config.node, calicoResources: false }));
    } else {
      config.logger.warn('etcdv3 without KUBECONFIG: Services, Endpoints and Secrets are not read, so service advertisement of Local services and BGP passwords are unavailable');
    }
    return sources;
  }
  const { createKubernetesSource } = await import('./kube-source.js');
  return [createKubernetesSource({ kubeconfig: config.env.KUBECONFIG, namespace: config.env.NAMESPACE || 'kube-system', nodeName: config.node, calicoResources: true })];
}

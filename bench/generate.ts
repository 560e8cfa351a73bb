import type { Resource } from '../src/model/resources.js';
import { documentToResource } from '../src/model/load.js';

/** The two cluster shapes the benchmarks measure. */
export type Shape = 'mesh' | 'rr';

/** A small deterministic PRNG (mulberry32), so every run generates the same cluster. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The name of node i. */
export const nodeName = (i: number) => `node-${String(i).padStart(5, '0')}`;
/** Node i's IPv4 address: 10.x.y.z, unique for up to 65,000 nodes. */
/** A distinct IPv4 address per node index (250 hosts per /24, never .0 or .255). */
export const nodeV4 = (i: number) => `10.${100 + Math.floor(i / 64000)}.${Math.floor(i / 250) % 256}.${(i % 250) + 1}`;
export const nodeV6 = (i: number) => `fd00:10::${(i + 1).toString(16)}`;

function must(obj: Record<string, unknown>): Resource {
  const r = documentToResource(obj);
  if (!r.resource) throw new Error(JSON.stringify(r.diagnostics));
  return r.resource;
}

const v3 = 'projectcalico.org/v3';

/** The name of a Service's EndpointSlice, as Kubernetes forms it (the Service's name and a suffix). */
export const sliceName = (service: string) => `${service}-b3nch`;

/** A generated cluster: every resource, in a deterministic order. */
export function generateCluster(size: number, shape: Shape, seed = 1): Resource[] {
  return generateDocuments(size, shape, seed).map(must);
}

/**
 * A generated cluster as the documents a manifest holds (what `kubectl get -o json` would list).
 * The route-reflector shape has `services` Services (10,000 unless a smoke run asks for fewer).
 */
export function generateDocuments(size: number, shape: Shape, seed = 1, services = 10_000): Record<string, unknown>[] {
  const rand = rng(seed * 7919 + size);
  const out: Record<string, unknown>[] = [];
  const racks = Math.max(1, Math.ceil(size / 40));
  const isRr = (i: number) => shape === 'rr' && i % 40 < 3;
  out.push({
    apiVersion: v3, kind: 'BGPConfiguration', metadata: { name: 'default' },
    spec: shape === 'mesh'
      ? { nodeToNodeMeshEnabled: true, asNumber: 64512 }
      : {
          nodeToNodeMeshEnabled: false, asNumber: 64512,
          serviceClusterIPs: [{ cidr: '10.96.0.0/12' }, { cidr: 'fd00:96::/108' }],
          serviceExternalIPs: [{ cidr: '198.18.0.0/15' }],
          communities: [{ name: 'pods', value: '64512:100' }],
          prefixAdvertisements: [{ cidr: '172.16.0.0/12', communities: ['pods', '64512:200:1'] }],
        },
  });
  for (let i = 0; i < size; i++) {
    const rack = `r${Math.floor(i / 40) % racks}`;
    const labels: Record<string, string> = { rack, 'kubernetes.io/hostname': nodeName(i) };
    if (isRr(i)) labels['route-reflector'] = 'true';
    const bgp: Record<string, unknown> = { ipv4Address: `${nodeV4(i)}/16`, ipv6Address: `${nodeV6(i)}/64` };
    if (isRr(i)) bgp.routeReflectorClusterID = `224.0.${Math.floor(i / 40) % 250}.1`;
    out.push({ apiVersion: v3, kind: 'Node', metadata: { name: nodeName(i), labels }, spec: { bgp } });
    const blocks = shape === 'rr' ? 4 : 1;
    for (let b = 0; b < blocks; b++) {
      const n = i * blocks + b;
      out.push({ apiVersion: 'crd.projectcalico.org/v1', kind: 'BlockAffinity', metadata: { name: `${nodeName(i)}-b${b}` }, spec: { node: nodeName(i), cidr: `172.${16 + (n >> 14)}.${(n >> 6) & 255}.${(n & 3) * 64}/26`, state: 'confirmed' } });
    }
  }
  out.push({ apiVersion: v3, kind: 'IPPool', metadata: { name: 'pool-v4' }, spec: { cidr: '172.16.0.0/12', ipipMode: shape === 'rr' ? 'CrossSubnet' : 'Never' } });
  out.push({ apiVersion: v3, kind: 'IPPool', metadata: { name: 'pool-v6' }, spec: { cidr: 'fd00:244::/48' } });
  if (shape === 'rr') {
    for (let r = 0; r < racks; r++) {
      out.push({ apiVersion: v3, kind: 'BGPPeer', metadata: { name: `rack-r${r}-to-rr` }, spec: { nodeSelector: `rack == 'r${r}' && !has(route-reflector)`, peerSelector: `rack == 'r${r}' && has(route-reflector)` } });
      out.push({ apiVersion: v3, kind: 'BGPPeer', metadata: { name: `rack-r${r}-tor` }, spec: { nodeSelector: `rack == 'r${r}'`, peerIP: `192.168.${r % 250}.1`, asNumber: 65000 + (r % 500), password: { secretKeyRef: { name: 'tor-passwords', key: `r${r}` } } } });
    }
    out.push({ apiVersion: v3, kind: 'BGPPeer', metadata: { name: 'reflector-mesh' }, spec: { nodeSelector: 'has(route-reflector)', peerSelector: 'has(route-reflector)' } });
    const stringData: Record<string, string> = {};
    for (let r = 0; r < racks; r++) stringData[`r${r}`] = `fake-bench-password-${r}`;
    out.push({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'tor-passwords', namespace: 'kube-system' }, stringData });
    for (let s = 0; s < services; s++) {
      const local = s % 10 === 0;
      const ns = `ns-${s % 50}`;
      const name = `svc-${s}`;
      const clusterIP = `10.${96 + (s >> 16)}.${(s >> 8) & 255}.${s & 255}`;
      out.push({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: ns }, spec: { type: local ? 'LoadBalancer' : 'ClusterIP', clusterIP, externalTrafficPolicy: local ? 'Local' : undefined, externalIPs: local ? [`198.18.${(s >> 8) & 255}.${s & 255}`] : undefined } });
      const addresses = Array.from({ length: 3 }, () => {
        const n = Math.floor(rand() * size);
        return { ip: `172.16.${n & 255}.${(n >> 8) & 255}`, nodeName: nodeName(n) };
      });
      out.push({ apiVersion: 'v1', kind: 'Endpoints', metadata: { name, namespace: ns }, subsets: [{ addresses }] });
      // The EndpointSlice Kubernetes keeps beside them (what Calico v3.32 reads).
      out.push({
        apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: sliceName(name), namespace: ns, labels: { 'kubernetes.io/service-name': name } },
        addressType: 'IPv4', endpoints: addresses.map((a) => ({ addresses: [a.ip], nodeName: a.nodeName, conditions: { ready: true } })),
      });
    }
  }
  return out;
}

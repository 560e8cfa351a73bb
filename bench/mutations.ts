import type { Resource } from '../src/model/resources.js';
import type { Snapshot } from '../src/model/snapshot.js';
import { documentToResource } from '../src/model/load.js';
import { nodeName, sliceName, type Shape } from './generate.js';

/** One kind of change the incremental benchmark applies, and the node whose files it watches. */
export interface Mutation {
  readonly name: string;
  readonly node: string;
  make(snapshot: Snapshot, i: number): { before: Resource | null; after: Resource | null };
}

function res(obj: Record<string, unknown>): Resource {
  const r = documentToResource(obj);
  if (!r.resource) throw new Error(JSON.stringify(r.diagnostics));
  return r.resource;
}

/** The four changes of the issue: a Node's IP, an endpoint moving, a BGPPeer added, an unrelated annotation. */
export function mutations(size: number, shape: Shape): Mutation[] {
  const watched = nodeName(Math.min(7, size - 1));
  const target = nodeName(Math.min(3, size - 1));
  return [
    {
      name: "a Node's IP changes",
      node: watched,
      make: (snap, i) => {
        const before = snap.get('Node', target)!;
        const after = { ...before, spec: { bgp: { ...before.spec.bgp!, ipv4Address: `10.200.${i % 250}.${(i % 200) + 1}/16` } } };
        return { before, after };
      },
    },
    {
      name: 'a Service endpoint moves to another node',
      node: watched,
      // The EndpointSlice of a Local Service (svc-0), as Calico v3.32 reads endpoints.
      make: (snap, i) => {
        const slice = snap.get('EndpointSlice', sliceName('svc-0'), 'ns-0');
        if (!slice || shape !== 'rr') return { before: null, after: null };
        const to = i % 2 === 0 ? watched : nodeName(Math.min(11, size - 1));
        const after = { ...slice, endpoints: [{ addresses: ['172.16.9.9'], nodeName: to, conditions: { ready: true } }] };
        return { before: slice, after };
      },
    },
    {
      name: 'a BGPPeer is added',
      node: watched,
      make: (_snap, i) => ({ before: null, after: res({ apiVersion: 'projectcalico.org/v3', kind: 'BGPPeer', metadata: { name: `bench-added-${i}` }, spec: { node: watched, peerIP: `192.0.2.${(i % 250) + 1}`, asNumber: 65123 } }) }),
    },
    {
      name: 'an unrelated Node annotation changes',
      node: watched,
      make: (snap, i) => {
        if (i === 0 && !snap.get('KubeNode', target)) snap.apply(res({ apiVersion: 'v1', kind: 'Node', metadata: { name: target } }));
        const kube = res({ apiVersion: 'v1', kind: 'Node', metadata: { name: target, annotations: { 'node.alpha.kubernetes.io/ttl': String(i), 'example.com/heartbeat': String(Date.now()) } } });
        return { before: kube, after: kube };
      },
    },
  ];
}

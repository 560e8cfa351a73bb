/**
 * The cluster of the namespace labs (test/netns*.test.ts): addresses, manifests kept in the tests,
 * rendering with `bird-confd render` as a whole process, and the hand-written configs of the
 * top-of-rack routers (Debian's stock BIRD).
 *
 * Segment 10.78.0.0/24 (a bridge): tor1 .1, tor2 .2, node1 .11, node2 .12, node3 .13.
 * Cluster AS 64512, ToRs AS 65001. Node n's IPAM block is 10.244.n.0/26.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sleep } from './bird-lab.js';
import type { NetLab } from './netlab.js';
import { runCli } from './run-cli.js';

export const CLUSTER_AS = 64512;
export const TOR_AS = 65001;
/** The address of host `host` on the segment. */
export const ip = (host: number) => `10.78.0.${host}`;
export const NODES = ['node1', 'node2', 'node3'] as const;
/** A node's IPv4 address on the segment. */
export const nodeIp = (node: string) => ip(10 + Number(node.slice(-1)));
/** A node's IPv4 IPAM block. */
export const block = (node: string) => `10.244.${node.slice(-1)}.0/26`;
/** A node's IPv6 address on the segment. */
export const nodeIp6 = (node: string) => `fd00:78::${10 + Number(node.slice(-1))}`;
/** A node's IPv6 IPAM block. */
export const block6 = (node: string) => `fd00:244:0:${node.slice(-1)}::/122`;
/** The protocol name bird-confd gives a peering with `address` (Calico's rule: dots become underscores). */
export const proto = (kind: 'Mesh' | 'Node' | 'Global', address: string) => `${kind}_${address.replace(/[.:]/g, '_')}`;

// ---- manifests -------------------------------------------------------------------------------

/** One YAML document with a flow-style `metadata` and the given body lines. */
export const doc = (apiVersion: string, kind: string, name: string, body: string, namespace?: string) =>
  `apiVersion: ${apiVersion}\nkind: ${kind}\nmetadata: {name: ${name}${namespace ? `, namespace: ${namespace}` : ''}}\n${body}\n---\n`;
/** A projectcalico.org/v3 resource with a flow-style `spec`. */
export const calico = (kind: string, name: string, spec: string) => doc('projectcalico.org/v3', kind, name, `spec: ${spec}`);

/** What a node resource carries besides its address. */
export interface NodeExtras {
  readonly labels?: string;
  readonly rr?: string;
  readonly v6?: boolean;
}

/** A Calico Node with its segment address (and, with `v6`, its IPv6 address). */
export function nodeDoc(node: string, extra: NodeExtras = {}): string {
  const rr = extra.rr ? `, routeReflectorClusterID: ${extra.rr}` : '';
  const v6 = extra.v6 ? `, ipv6Address: "${nodeIp6(node)}/64"` : '';
  return `apiVersion: projectcalico.org/v3\nkind: Node\nmetadata: {name: ${node}, labels: {${extra.labels ?? ''}}}\nspec: {bgp: {ipv4Address: ${nodeIp(node)}/24${v6}${rr}}}\n---\n`;
}

/** A confirmed block affinity of `node` for `cidr`. */
export const blockDoc = (name: string, node: string, cidr: string) =>
  doc('crd.projectcalico.org/v1', 'BlockAffinity', name, `spec: {node: ${node}, cidr: "${cidr}", state: confirmed, deleted: "false"}`);

/**
 * Nodes, IP pools without encapsulation (this kernel has no IP-in-IP module, so no route may go
 * through tunl0; Calico's BIRD still runs its kernel filter), and one confirmed block per node.
 */
export function clusterDocs(nodes: readonly string[], extras: (node: string) => NodeExtras = () => ({})): string {
  let text = calico('IPPool', 'lab-pool', '{cidr: 10.244.0.0/16, ipipMode: Never, vxlanMode: Never}');
  text += calico('IPPool', 'lab-pool-v6', '{cidr: "fd00:244::/48"}');
  for (const n of nodes) {
    text += nodeDoc(n, extras(n));
    text += blockDoc(`${n}-block`, n, block(n));
    if (extras(n).v6) text += blockDoc(`${n}-block6`, n, block6(n));
  }
  return text;
}

// ---- rendering and starting ------------------------------------------------------------------

/** Renders each node's files with `bird-confd render` into its own folder; returns the folders. */
export async function renderNodes(lab: NetLab, stage: string, manifests: string, nodes: readonly string[], flags: readonly string[] = []): Promise<Map<string, string>> {
  const input = lab.folder(`${stage}-input`);
  writeFileSync(join(input, 'cluster.yaml'), manifests);
  const dirs = new Map<string, string>();
  await Promise.all(
    nodes.map(async (node) => {
      const out = lab.folder(`${stage}-${node}`);
      const r = await runCli(['render', '--node', node, '-f', input, '--out', out, ...flags]);
      assert.equal(r.code, 0, `render ${node}: ${r.stderr}`);
      dirs.set(node, out);
    }),
  );
  return dirs;
}

/** Starts Calico's BIRD on each node with the `bird.cfg` rendered into its folder. */
export async function startNodes(lab: NetLab, dirs: ReadonlyMap<string, string>): Promise<void> {
  await Promise.all([...dirs].map(([node, dir]) => lab.startBird(node, join(dir, 'bird.cfg'), dir, { make: 'calico' })));
}

/** One neighbor of a ToR. */
export interface TorNeighbor {
  readonly name: string;
  readonly address: string;
  readonly password?: string;
  /** The AS the ToR expects from this neighbor (default: the cluster AS). */
  readonly as?: number;
  /** Further statements of the ToR's protocol, e.g. `ttl security on;`. */
  readonly lines?: readonly string[];
}

/** A hand-written ToR config: eBGP to the given nodes, every learned route into its kernel, its own static routes out. */
export function torConfig(lab: NetLab, name: string, routerId: string, neighbors: readonly TorNeighbor[], statics: readonly string[] = []): string {
  const session = (n: TorNeighbor) =>
    [
      `protocol bgp ${n.name} {`,
      `  local as ${TOR_AS};`,
      `  neighbor ${n.address} as ${n.as ?? CLUSTER_AS};`,
      '  import all;',
      '  export where source = RTS_STATIC;',
      '  connect retry time 2;',
      '  error wait time 1,5;',
      ...(n.password ? [`  password "${n.password}";`] : []),
      ...(n.lines ?? []).map((l) => `  ${l}`),
      '}',
    ].join('\n');
  const text = [
    `router id ${routerId};`,
    'protocol device { scan time 2; }',
    'protocol kernel { scan time 2; export all; merge paths on; }',
    statics.length ? `protocol static tor_routes { ${statics.map((s) => `route ${s} blackhole;`).join(' ')} }` : '',
    ...neighbors.map(session),
  ].join('\n');
  const dir = lab.folder(name);
  writeFileSync(join(dir, 'bird.cfg'), `${text}\n`);
  return join(dir, 'bird.cfg');
}

/** Writes a ToR's config (see `torConfig`) and starts Debian's BIRD on it. */
export async function startTor(lab: NetLab, name: string, routerId: string, neighbors: readonly TorNeighbor[], statics: readonly string[] = []): Promise<void> {
  const config = torConfig(lab, name, routerId, neighbors, statics);
  await lab.startBird(name, config, lab.folder(name), { make: 'debian' });
}

/** Joins each named router to the segment with its address (`torN` at .N, nodes at their node address). */
export function segment(lab: NetLab, names: readonly string[]): void {
  for (const n of names) lab.joinSegment(n, `${n.startsWith('tor') ? ip(Number(n.slice(3))) : nodeIp(n)}/24`);
}

// ---- reading BIRD back -----------------------------------------------------------------------

/** The protocols (names in brackets) that gave `router` a route for exactly `prefix`, from `birdc show route`. */
export function routeSources(lab: NetLab, router: string, prefix: string): string[] {
  const shown = lab.birdc(router, `show route ${prefix}`);
  return [...shown.matchAll(/\[(\w+) /g)].map((m) => m[1]!).sort();
}

/** A BGP session that must not come up: the router that runs it and its protocol name. */
export interface DownSession {
  readonly router: string;
  readonly protocol: string;
}

/**
 * Watches sessions that must stay down for `ms` (long enough for several connect retries on both
 * sides: 5 s on the nodes, 2 s on the ToRs), polling every 500 ms. Resolves with what went wrong:
 * each session seen Established or missing, once; an empty list means every session stayed down.
 * It never rejects, so a lab can start it early and let each proof read its own sessions.
 */
export async function watchStaysDown(lab: NetLab, sessions: readonly DownSession[], ms = 12_000): Promise<string[]> {
  const wrong = new Set<string>();
  const until = Date.now() + ms;
  while (Date.now() < until) {
    for (const router of new Set(sessions.map((s) => s.router))) {
      try {
        const all = await lab.bgpProtocols(router);
        for (const s of sessions.filter((x) => x.router === router)) {
          const state = all.find((p) => p.name === s.protocol)?.bgp?.state;
          if (state === undefined) wrong.add(`${router} ${s.protocol} missing`);
          else if (state === 'Established') wrong.add(`${router} ${s.protocol} Established`);
        }
      } catch (err) {
        wrong.add(`${router}: ${(err as Error).message}`);
      }
    }
    await sleep(500);
  }
  return [...wrong];
}

/** The problems `watchStaysDown` found for `router`'s `protocols`. */
export function problemsOf(found: readonly string[], router: string, protocols: readonly string[]): string[] {
  return found.filter((w) => w.startsWith(`${router}:`) || protocols.some((p) => w.startsWith(`${router} ${p} `)));
}

/** The `protocol bgp NAME ... }` block of a rendered config (throws when there is none). */
export function peerBlock(config: string, name: string): string {
  const m = new RegExp(`^protocol bgp ${name} [^\\n]*\\{\\n(?:.*\\n)*?\\}$`, 'm').exec(config);
  if (!m) throw new Error(`no protocol bgp ${name} in the rendered config`);
  return m[0];
}

import { lowerBound } from '../../model/sorted.js';
import type { Family } from '../addresses.js';
import type { GlobalSettings, NodeInfo } from './nodes.js';
import { Overlay } from './overlay.js';

/** One node as a mesh neighbour of one family. */
export interface MeshEntry {
  readonly node: string;
  readonly info: NodeInfo;
  readonly ip: string;
  /** The node that has this address first (by name), when this one duplicates it; else null. */
  readonly duplicateOf: string | null;
}

/** The mesh of one family: its entries in node-name order and which node owns each address. */
export interface MeshFamily {
  readonly entries: readonly MeshEntry[];
  /** Null when the mesh is off or two nodes share an address (then the mesh is rebuilt on change). */
  readonly owners: Overlay<string, string> | null;
}

/** No mesh: every node's mesh section says so, and no entries are built. */
const noEntries: readonly MeshEntry[] = Object.freeze([]);

const ipOf = (n: NodeInfo, family: Family) => (family === 'ipv4' ? n.ipv4 : n.ipv6);
const byNode = (e: MeshEntry) => e.node;

/** The mesh of one family built from the whole node list. */
export function meshOf(nodeList: readonly NodeInfo[], global: GlobalSettings, family: Family): MeshFamily {
  if (!global.meshEnabled) return { entries: noEntries, owners: null };
  const entries: MeshEntry[] = [];
  const owners = new Map<string, string>();
  let duplicates = false;
  for (const info of nodeList) {
    const ip = ipOf(info, family);
    if (!ip) continue;
    const duplicateOf = owners.get(ip) ?? null;
    if (!duplicateOf) owners.set(ip, info.name);
    else duplicates = true;
    entries.push({ node: info.name, info, ip, duplicateOf });
  }
  return { entries, owners: duplicates ? null : Overlay.of(owners) };
}

/**
 * The previous mesh of one family with the changed nodes' entries replaced, in time proportional
 * to the change. Null when it must be rebuilt: no owner index (mesh off, or shared addresses
 * before), or a changed node now shares an address with another.
 */
export function patchMesh(previous: MeshFamily, oldNodes: Pick<Overlay<string, NodeInfo>, 'get'>, updates: ReadonlyMap<string, NodeInfo | null>, family: Family): MeshFamily | null {
  const owners = previous.owners;
  if (!owners) return null;
  const entries = previous.entries.slice();
  const ownerUpdates = new Map<string, string | null>();
  const ownerOf = (ip: string) => (ownerUpdates.has(ip) ? ownerUpdates.get(ip) ?? undefined : owners.get(ip));
  for (const [name, info] of updates) {
    const old = oldNodes.get(name);
    const oldIp = old ? ipOf(old, family) : '';
    if (oldIp) {
      const at = lowerBound(entries, name, byNode);
      if (entries[at]?.node === name) entries.splice(at, 1);
      if (ownerOf(oldIp) === name) ownerUpdates.set(oldIp, null);
    }
    const ip = info ? ipOf(info, family) : '';
    if (!ip || !info) continue;
    if (ownerOf(ip) !== undefined) return null;
    ownerUpdates.set(ip, name);
    entries.splice(lowerBound(entries, name, byNode), 0, { node: name, info, ip, duplicateOf: null });
  }
  return { entries, owners: owners.with(ownerUpdates) };
}

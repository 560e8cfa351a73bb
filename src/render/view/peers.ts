import { ipToSymbol } from '../addresses.js';
import type { PeerKind } from './view-types.js';

/** The one place a BGP neighbor statement is written: `neighbor IP[ port N] as AS;`. */
export function neighborLine(ip: string, port: number, as: string): string {
  return `neighbor ${ip}${port ? ` port ${port}` : ''} as ${as};`;
}

/** A BIRD protocol name as Calico forms it: `Mesh_10_0_0_2`, `Global_10_0_0_9_port_1790`, `Node_fd00__1`. */
export function protocolName(kind: PeerKind, ip: string, port: number): string {
  const prefix = kind === 'mesh' ? 'Mesh' : kind === 'global' ? 'Global' : 'Node';
  // Mesh names never carry the port (Calico's rule); explicit peers do when it is not BGP's default.
  return `${prefix}_${ipToSymbol(ip)}${port && kind !== 'mesh' ? `_port_${port}` : ''}`;
}

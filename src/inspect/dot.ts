import type { Session, Topology } from './topology.js';
import type { PeerKind } from '../render/view/view-types.js';

/** Edge styles per session kind (the legend repeats them). */
const kindStyle: Record<PeerKind, string> = { mesh: 'solid', global: 'dashed', node: 'bold', 'local-workload': 'dotted' };
// When the two ends disagree (a selector peering seen as global on one side, node on the other),
// the more specific kind draws the edge.
const precedence: readonly PeerKind[] = ['local-workload', 'node', 'global', 'mesh'];

/** A DOT quoted string. */
function q(text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

function attrs(list: Record<string, string>): string {
  return `[${Object.entries(list).map(([k, v]) => `${k}=${q(v)}`).join(', ')}]`;
}

/** The peering topology as a Graphviz DOT graph (undirected; one edge per BGP session). Pure. */
export function topologyDot(t: Topology, title = 'BGP sessions'): string {
  const lines: string[] = [
    '// Rendered by bird-confd graph: the BGP sessions of the cluster, one edge per session.',
    `// Edge style: ${Object.entries(kindStyle).map(([k, s]) => `${k} ${s}`).join(', ')}; green = Established, red = not, gray = no status.`,
    'graph bgp {',
    `  graph ${attrs({ label: title, labelloc: 't', fontname: 'Helvetica', rankdir: 'LR', overlap: 'false' })};`,
    `  node ${attrs({ fontname: 'Helvetica', fontsize: '10', shape: 'box', style: 'rounded' })};`,
    `  edge ${attrs({ fontname: 'Helvetica', fontsize: '8', color: 'gray40' })};`,
    '',
    '  // Calico nodes',
  ];
  for (const n of t.nodes) {
    const label = [n.name, `AS ${n.asNumber}`, ...n.addresses, ...(n.rrClusterId ? [`route reflector ${n.rrClusterId}`] : [])].join('\n');
    lines.push(`  ${q(`node:${n.name}`)} ${attrs(n.rrClusterId ? { label, style: 'rounded,bold', peripheries: '2' } : { label })};`);
  }
  lines.push('', '  // External peers');
  if (t.externalPeers.length === 0) lines.push('  // none');
  for (const p of t.externalPeers) {
    const label = [p.ip, `AS ${p.asNumbers.join(', ')}`, ...(p.ports.length ? [`port ${p.ports.join(', ')}`] : [])].join('\n');
    lines.push(`  ${q(`peer:${p.ip}`)} ${attrs({ label, shape: 'ellipse', style: 'dashed' })};`);
  }
  lines.push('', '  // Sessions');
  for (const s of t.sessions) lines.push(`  ${q(s.a)} -- ${q(s.b)} ${attrs(edgeAttrs(s))};`);
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

function edgeAttrs(s: Session): Record<string, string> {
  const kinds = [...new Set(s.ends.map((e) => e.kind))];
  const kind = precedence.find((k) => kinds.includes(k)) ?? 'mesh';
  const labelParts = [s.family === 'ipv4' ? 'v4' : 'v6', kinds.join('/')];
  if (s.ends.some((e) => e.rrClient)) labelParts.push('rr client');
  const out: Record<string, string> = { style: kindStyle[kind] };
  if (s.oneSided) {
    labelParts.push(`one-sided: only ${s.ends.map((e) => e.node).join(', ')}`);
    out.color = 'orange';
  }
  const known = s.ends.filter((e) => e.established !== null);
  if (known.length > 0) {
    const up = known.every((e) => e.established);
    out.color = up ? 'darkgreen' : 'red';
    out.penwidth = '2';
    labelParts.push(up ? 'Established' : `down at ${known.filter((e) => !e.established).map((e) => e.node).join(', ')}`);
  }
  out.label = labelParts.join(' ');
  // The protocol names of both ends, for tooltips in SVG viewers.
  out.tooltip = s.ends.map((e) => `${e.node}: ${e.protocol}`).join('\n');
  return out;
}

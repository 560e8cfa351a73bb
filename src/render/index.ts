import type { Diagnostic } from '../model/diagnostics.js';
import type { Snapshot } from '../model/snapshot.js';
import type { ClusterFacts } from './cluster.js';
import { computeNodeView, type ViewOptions } from './node-view.js';
import { renderNodeFiles, type Target } from './templates.js';
import type { NodeView } from './view-types.js';

export { computeNodeView, type ViewOptions } from './node-view.js';
export { renderNodeFiles, birdFiles, type Target } from './templates.js';
export { clusterFacts } from './cluster.js';

/** Options for rendering one node. */
export interface RenderOptions extends ViewOptions {
  readonly target?: Target;
  /** A folder of user templates (laid out like the shipped `templates/`). */
  readonly templateDir?: string;
}

/** A node's rendered files, or null when the node cannot be rendered. */
export interface NodeRender {
  readonly view: NodeView | null;
  readonly files: Map<string, string> | null;
  readonly diagnostics: Diagnostic[];
}

/** Computes the view of a node and renders its files. Pure apart from reading templates once. */
export function renderNode(snapshot: Snapshot, nodeName: string, options: RenderOptions = {}, facts?: ClusterFacts): NodeRender {
  const { view, diagnostics } = computeNodeView(snapshot, nodeName, options, facts);
  if (!view) return { view, files: null, diagnostics };
  const files = renderNodeFiles(view, options.target ?? 'linux', options.templateDir);
  if (options.templateDir) diagnostics.push(...unreachableBirdFiles(files));
  return { view, files, diagnostics };
}

/** Extra `.cfg` files that neither bird.cfg nor bird6.cfg includes: `bird -p` on the main files cannot check them. */
function unreachableBirdFiles(files: ReadonlyMap<string, string>): Diagnostic[] {
  const mains = [files.get('bird.cfg') ?? '', files.get('bird6.cfg') ?? ''].join('\n');
  return [...files.keys()]
    .filter((name) => name.endsWith('.cfg') && name !== 'bird.cfg' && name !== 'bird6.cfg' && !mains.includes(`include "${name}";`))
    .map((name) => ({ severity: 'warning' as const, object: `template ${name}.hbs`, message: 'rendered file is not included from bird.cfg or bird6.cfg, so the BIRD check does not cover it' }));
}

/** Whether a rendered file holds a BGP password (such files are written with mode 0600). */
export function holdsSecret(view: NodeView, fileName: string): boolean {
  const peers = (f: NodeView['ipv4']) => (f.bgp ? [...f.bgp.globalPeers, ...f.bgp.nodePeers] : []);
  for (const f of [view.ipv4, view.ipv6]) {
    if (fileName === f.files.passwords) return true;
    if (fileName === f.files.main) return f.passwordDefines.length === 0 && peers(f).some((p) => p.hasPassword);
  }
  return false;
}

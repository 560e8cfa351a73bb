import type { Diagnostic } from '../model/diagnostics.js';
import type { Snapshot } from '../model/snapshot.js';
import { RenderStore } from './store.js';
import { joinedFiles, renderNodeFilePieces } from './text/render-files.js';
import type { TemplateSet } from './text/templates.js';
import { computeNodeView, type ViewOptions } from './view/node-view.js';
import type { NodeView } from './view/view-types.js';

export { computeNodeView, type ViewOptions } from './view/node-view.js';
export { renderNodeFiles, renderNodeFilePieces, birdFiles } from './text/render-files.js';
export { compileTemplates, TemplateError, type TemplateSet, type TemplateSources, type TemplateSource } from './text/templates.js';
export { clusterFacts } from './facts/cluster.js';
export { RenderStore } from './store.js';

/** Which file set to render: the six BIRD files, the Windows scripts, or both. */
export type Target = 'linux' | 'windows' | 'all';

/** Options for rendering one node: the view's options and the compiled templates to print it with. */
export interface RenderOptions extends ViewOptions {
  readonly templates: TemplateSet;
  /** Whether the templates include a user's: then BIRD files the check cannot reach are reported. */
  readonly userTemplates?: boolean;
}

/** A node's rendered files, or null when the node cannot be rendered. */
export interface NodeRender {
  readonly view: NodeView | null;
  readonly files: Map<string, string> | null;
  readonly diagnostics: Diagnostic[];
}

/**
 * Computes the view of a node and renders its files. Pure apart from the store (the caller's
 * incremental state; a fresh one when none is given).
 */
export function renderNode(snapshot: Snapshot, nodeName: string, options: RenderOptions, store: RenderStore = new RenderStore()): NodeRender {
  const { view, pieces, diagnostics } = renderNodePieces(snapshot, nodeName, options, store);
  return { view, files: pieces && joinedFiles(pieces), diagnostics };
}

/** A node's files in pieces (see `renderNodeFilePieces`), or null when the node cannot be rendered. */
export interface NodeRenderPieces {
  readonly view: NodeView | null;
  readonly pieces: Map<string, readonly string[]> | null;
  readonly diagnostics: Diagnostic[];
}

/** `renderNode`, with each file in the pieces it was made of: for writing many large files. */
export function renderNodePieces(snapshot: Snapshot, nodeName: string, options: RenderOptions, store: RenderStore = new RenderStore()): NodeRenderPieces {
  const { view, diagnostics } = computeNodeView(snapshot, nodeName, options, store);
  if (!view) return { view, pieces: null, diagnostics };
  const pieces = renderNodeFilePieces(view, options.templates, store);
  if (options.userTemplates) diagnostics.push(...unreachableBirdFiles(pieces));
  return { view, pieces, diagnostics };
}

/** Whether a file's pieces hold a text (a statement never spans two pieces). */
const piecesInclude = (pieces: readonly string[] | undefined, text: string) => pieces?.some((p) => p.includes(text)) ?? false;

/** Extra `.cfg` files that neither bird.cfg nor bird6.cfg includes: `bird -p` on the main files cannot check them. */
function unreachableBirdFiles(files: ReadonlyMap<string, readonly string[]>): Diagnostic[] {
  const included = (name: string) => piecesInclude(files.get('bird.cfg'), `include "${name}";`) || piecesInclude(files.get('bird6.cfg'), `include "${name}";`);
  return [...files.keys()]
    .filter((name) => name.endsWith('.cfg') && name !== 'bird.cfg' && name !== 'bird6.cfg' && !included(name))
    .map((name) => ({ severity: 'warning' as const, object: `template ${name}.hbs`, message: 'rendered file is not included from bird.cfg or bird6.cfg, so the BIRD check does not cover it' }));
}

/** The BGP passwords a view holds (secrets: for deciding file modes, never for printing). */
function viewPasswords(view: NodeView): string[] {
  const out = new Set<string>();
  for (const f of [view.ipv4, view.ipv6]) {
    for (const d of f.passwordDefines) out.add(d.value);
    for (const p of f.sessions) {
      for (const o of p.hasPassword ? p.options : []) {
        const m = /^password "([^"]*)";$/.exec(o);
        if (m) out.add(m[1]!);
      }
    }
  }
  return [...out];
}

/**
 * The rendered files that hold a BGP password, whatever their names (a user template may print
 * one anywhere): such files are written with mode 0600.
 */
export function secretFileNames(view: NodeView, files: ReadonlyMap<string, string | readonly string[]>): Set<string> {
  const passwords = viewPasswords(view);
  if (passwords.length === 0) return new Set();
  // A password is printed whole by one template statement, so it never spans two pieces.
  const holds = (text: string | readonly string[]) => passwords.some((pw) => (typeof text === 'string' ? text.includes(pw) : piecesInclude(text, pw)));
  return new Set([...files].filter(([, text]) => holds(text)).map(([name]) => name));
}

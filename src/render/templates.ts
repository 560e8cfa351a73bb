import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Handlebars from 'handlebars';
import type { NodeView, PeerView } from './view-types.js';

/** Which file set to render: the six BIRD files, the Windows scripts, or both. */
export type Target = 'linux' | 'windows' | 'all';

/** The shipped template folder (`templates/` at the package root). */
export const shippedTemplateDir = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'templates');

/** The BIRD files, in the order they are written and listed. */
export const birdFiles = ['bird.cfg', 'bird6.cfg', 'bird_aggr.cfg', 'bird6_aggr.cfg', 'bird_ipam.cfg', 'bird6_ipam.cfg'] as const;

const compileOptions = { strict: true, noEscape: true, preventIndent: true, knownHelpersOnly: true, knownHelpers: { peerBlocks: true } } as const;

/** A template error that names the template file and line. */
export class TemplateError extends Error {
  constructor(readonly file: string, message: string, options?: { cause?: unknown }) {
    super(`${file}: ${locate(message)}`, options);
    this.name = 'TemplateError';
  }
}

/** Handlebars ends runtime errors with ` - line:column` and starts syntax errors with `Parse error on line N:`; put the line first. */
function locate(message: string): string {
  const runtime = / - (\d+):(\d+)$/.exec(message);
  if (runtime) {
    const what = message.slice(0, runtime.index).replace(/ not defined in (\[object Object\]|undefined)$/, ' is not a field of the view here');
    return `line ${runtime[1]}, column ${Number(runtime[2]) + 1}: ${what}`;
  }
  const parse = /^Parse error on line (\d+):/.exec(message);
  if (parse) return `line ${parse[1]}: syntax error`;
  return message;
}

/** A set of compiled templates: output file name to template function. */
export interface TemplateSet {
  readonly files: ReadonlyMap<string, { readonly source: string; readonly render: (view: NodeView) => string }>;
}

const cache = new Map<string, TemplateSet>();

/** The `*.hbs` files of a folder, by name without `.hbs`, sorted (an absent folder has none). */
function hbsFiles(dir: string): [string, string][] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((n) => n.endsWith('.hbs'))
    .sort()
    .map((n) => [basename(n, '.hbs'), join(dir, n)]);
}

/**
 * Compiles one template set once (later calls reuse it): the shipped folder's `*.hbs` and
 * `partials/*.hbs`, then a user folder's. A user template named like a shipped one replaces it;
 * with `extras`, any other user template renders to an extra file of its name. User partials
 * replace or add to the shipped ones, so a user can override one section and reuse the rest.
 * Syntax errors are reported here, at start-up, with file and line.
 */
export function loadTemplateSet(dir: string, userDir?: string, extras = true): TemplateSet {
  const key = `${dir}\0${userDir ?? ''}\0${extras}`;
  const cached = cache.get(key);
  if (cached) return cached;
  const env = Handlebars.create();
  const partials = new Map([...hbsFiles(join(dir, 'partials')), ...(userDir ? hbsFiles(join(userDir, 'partials')) : [])]);
  for (const [name, file] of partials) env.registerPartial(name, precompileChecked(env, file));
  const peerPartial = partials.get('peer');
  if (peerPartial) registerPeerBlocks(env, peerPartial);
  const sources = new Map(hbsFiles(dir));
  for (const [name, file] of userDir ? hbsFiles(userDir) : []) if (extras || sources.has(name)) sources.set(name, file);
  const files = new Map<string, { source: string; render: (view: NodeView) => string }>();
  for (const [name, file] of sources) {
    const template = precompileChecked(env, file);
    files.set(name, { source: file, render: (view) => runTemplate(template, view, file) });
  }
  const set = { files };
  cache.set(key, set);
  return set;
}

/**
 * Peer text set aside during one render: `peerBlocks` returns a short token in its place, the
 * (small) rest of the file is tidied, and the tokens are then replaced by the peer text, which is
 * already tidy. A file of a large mesh is megabytes of peer text, and tidying it on every render
 * would cost more than everything else together.
 */
let setAside: string[] | null = null;
const TOKEN_START = '\u0001bird-confd-peers-';

/**
 * Whether `text`, placed anywhere in a file, passes through `tidy` unchanged and leaves its
 * neighbours as they would be next to the token: it does not start with a line break or blank,
 * ends with one line break after a visible character, and holds no trailing blanks and no run of
 * blank lines. Concatenations of such texts are such texts too.
 */
function tidyStable(text: string): boolean {
  if (text.length < 2 || !text.endsWith('\n')) return false;
  const first = text.charCodeAt(0);
  const beforeLast = text.charCodeAt(text.length - 2);
  if (first === 10 || first === 32 || first === 9 || beforeLast === 10 || beforeLast === 32 || beforeLast === 9) return false;
  return !/[ \t]\n|\n\n\n/.test(text);
}

/**
 * The `peerBlocks` helper prints a list of peers through the `peer` partial. Peer views are
 * immutable and shared between renders (the mesh entries of a node are built once per cluster
 * state), so each one's text is kept: a re-render after a small change formats only new peers.
 */
function registerPeerBlocks(env: typeof Handlebars, file: string): void {
  const peer = precompileChecked(env, file);
  const texts = new WeakMap<PeerView, PeerText>();
  const textOf = (p: PeerView): PeerText => {
    let t = texts.get(p);
    if (t === undefined) {
      const text = runTemplate(peer, p as unknown as NodeView, file, false);
      t = { text, stable: tidyStable(text) };
      texts.set(p, t);
    }
    return t;
  };
  // Peers not formatted before go through the partial in one template call, their texts parted
  // by a marker: a top-level Handlebars call sets its helpers up anew, which for the thousands of
  // peers of a mesh or a route reflector costs more than formatting them.
  const list = env.compile(`{{#each this}}{{> peer}}${PEER_END}{{/each}}`, compileOptions);
  const formatNew = (peers: readonly PeerView[]): void => {
    const missing = [...new Set(peers.filter((p) => !texts.has(p)))];
    if (missing.length < 2) return;
    const parts = runTemplate(list, missing as unknown as NodeView, file, false).split(PEER_END);
    // A value holding the marker (a password may hold any byte but a few): one call per peer.
    if (parts.length !== missing.length + 1) return;
    missing.forEach((p, i) => texts.set(p, { text: parts[i]!, stable: tidyStable(parts[i]!) }));
  };
  const joined = (peers: readonly PeerView[], from: number, to: number): PeerText => {
    let text = '';
    let stable = true;
    for (let i = from; i < to; i++) {
      const t = textOf(peers[i]!);
      text += t.text;
      stable &&= t.stable;
    }
    return { text, stable };
  };
  // Long lists (a large mesh) go by chunks of peers, each chunk's text kept under its first peer:
  // after one node changes, one chunk is formatted again and the rest are reused as they are.
  const chunks = new WeakMap<PeerView, { peers: readonly PeerView[]; text: PeerText }>();
  const chunkOf = (peers: readonly PeerView[], from: number): PeerText => {
    const to = Math.min(peers.length, from + CHUNK);
    const known = chunks.get(peers[from]!);
    if (known && known.peers.length === to - from && known.peers.every((p, i) => p === peers[from + i])) return known.text;
    formatNew(peers.slice(from, to));
    const made = joined(peers, from, to);
    chunks.set(peers[from]!, { peers: peers.slice(from, to), text: made });
    return made;
  };
  env.registerHelper('peerBlocks', (peers: readonly PeerView[]) => {
    let text = '';
    let stable = true;
    if (peers.length <= CHUNK) formatNew(peers);
    for (let from = 0; from < peers.length; from += CHUNK) {
      // A short list is one chunk, not worth keeping apart from its peers' own texts.
      const t = peers.length <= CHUNK ? joined(peers, 0, peers.length) : chunkOf(peers, from);
      text += t.text;
      stable &&= t.stable;
    }
    if (!stable || text === '' || setAside === null) return text;
    setAside.push(text);
    return `${TOKEN_START}${setAside.length - 1}\u0001\n`;
  });
}

/** A peer's (or a run of peers') text, and whether it passes through tidy unchanged. */
interface PeerText {
  readonly text: string;
  readonly stable: boolean;
}

/** Peers per cached chunk of a long list. */
const CHUNK = 64;

/** Ends each peer's text in a batch of peers formatted in one call (control characters: no view text holds them but a password). */
const PEER_END = '\u0002bird-confd-peer-end\u0003';

function precompileChecked(env: typeof Handlebars, file: string): Handlebars.TemplateDelegate {
  const text = readFileSync(file, 'utf8');
  try {
    // Parsing now reports syntax errors at start-up instead of at the first render.
    env.parse(text);
    return env.compile(text, compileOptions);
  } catch (err) {
    throw new TemplateError(file, (err as Error).message.split('\n')[0] ?? String(err), { cause: err });
  }
}

function runTemplate(template: Handlebars.TemplateDelegate, view: NodeView, file: string, tidyOutput = true): string {
  const outer = setAside;
  const mine: string[] = [];
  if (tidyOutput) setAside = mine;
  try {
    if (!tidyOutput) return template(view);
    const text = tidy(template(view));
    return mine.length === 0 ? text : restore(text, mine);
  } catch (err) {
    throw new TemplateError(file, (err as Error).message.split('\n')[0] ?? String(err), { cause: err });
  } finally {
    setAside = outer;
  }
}

/** Puts the set-aside peer text back in place of its tokens (by concatenation: nothing is copied). */
function restore(text: string, setAsideTexts: readonly string[]): string {
  let out = '';
  let at = 0;
  for (;;) {
    const start = text.indexOf(TOKEN_START, at);
    if (start < 0) break;
    const end = text.indexOf('\u0001\n', start + TOKEN_START.length);
    out += text.slice(at, start) + setAsideTexts[Number(text.slice(start + TOKEN_START.length, end))]!;
    at = end + 2;
  }
  return out + text.slice(at);
}

/** Drops trailing white space and runs of blank lines, so output has no whitespace-only lines. */
export function tidy(text: string): string {
  // Linear passes only: configs of a large mesh are megabytes long.
  const body = `${text}\n`.replace(/[ \t]+\n/g, '\n').replace(/\n{3,}/g, '\n\n');
  let start = 0;
  while (body.charCodeAt(start) === 10) start++;
  let end = body.length;
  while (end > start && body.charCodeAt(end - 1) === 10) end--;
  return `${body.slice(start, end)}\n`;
}

/**
 * Renders a node's files for a target through the shipped templates, or through a user template
 * folder layered over them (extra user templates render with the BIRD files).
 */
export function renderNodeFiles(view: NodeView, target: Target = 'linux', userTemplateDir?: string): Map<string, string> {
  const out = new Map<string, string>();
  const rank = (name: string) => {
    const i = (birdFiles as readonly string[]).indexOf(name);
    return i < 0 ? birdFiles.length : i;
  };
  const dirs = target === 'all' ? ['bird', 'windows'] : [target === 'linux' ? 'bird' : 'windows'];
  for (const sub of dirs) {
    const files = [...loadTemplateSet(join(shippedTemplateDir, sub), userTemplateDir, sub === 'bird').files].sort(([a], [b]) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
    for (const [name, t] of files) {
      if (view.optionalFiles[name] === false) continue;
      const text = t.render(view);
      // PowerShell scripts for Windows keep CRLF line endings, as Calico's do.
      out.set(name, name.endsWith('.ps1') ? text.replace(/\r?\n/g, '\r\n') : text);
    }
  }
  return out;
}

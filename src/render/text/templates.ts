import Handlebars from 'handlebars';
import type { NodeView, PeerView } from '../view/view-types.js';

/** One template's source text, as the caller read it. */
export interface TemplateSource {
  /** The output file name (`bird.cfg`) for a file template, the partial name (`peer`) for a partial. */
  readonly name: string;
  /** Where it was read from, for error messages. */
  readonly file: string;
  readonly text: string;
}

/** The template sources of one target (the caller reads them; rendering never touches a disk). */
export interface TemplateSources {
  /** Templates that render to an output file each. */
  readonly files: readonly TemplateSource[];
  /** Partials, by name; `peer` prints one BGP peer and is what `peerBlocks` uses. */
  readonly partials: readonly TemplateSource[];
}

/** What the `peerBlocks` helper finds in the render's data: the render step's printer of a peer list. */
export interface PeerBlocksData {
  readonly peerBlocks: (peers: readonly PeerView[]) => string;
}

/** A compiled file template. */
export interface CompiledTemplate {
  readonly file: string;
  readonly run: (view: NodeView, data: PeerBlocksData) => string;
}

/** A compiled set: output file name to template, and the `peer` partial for peer lists. */
export interface TemplateSet {
  readonly files: ReadonlyMap<string, CompiledTemplate>;
  /** The `peer` partial, run on its own for each peer (null when the set has none). */
  readonly peer: PeerPrinter | null;
}

/** The `peer` partial as the render step runs it: one peer, many in one template call, or a run of peers as one text. */
export interface PeerPrinter {
  readonly file: string;
  readonly run: (peer: PeerView) => string;
  /** Each peer's text, from one template call; null when the texts cannot be told apart (a value held the marker). */
  readonly runMany: (peers: readonly PeerView[]) => string[] | null;
  /** The text of a run of peers, one after the other, from one template call. */
  readonly runList: (peers: readonly PeerView[]) => string;
}

const compileOptions = { strict: true, noEscape: true, preventIndent: true, knownHelpersOnly: true, knownHelpers: { peerBlocks: true, lines: true } } as const;

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

/** Indents, made once. */
const pads: string[] = [];

/** The text of frozen lists (shared by many peers, never changed), per indent: made once each, kept per template set. */
type ListTexts = WeakMap<readonly unknown[], Map<string, string>>;

/** A frozen list's text at an indent, if made before. */
const knownListText = (listTexts: ListTexts, list: readonly unknown[], pad: string) => listTexts.get(list)?.get(pad);

/** A list's lines (or the index of an entry that is not a statement), kept when the list is frozen. */
function listText(listTexts: ListTexts, list: readonly unknown[], pad: string): string | number {
  const bad = list.findIndex((entry) => typeof entry !== 'string' && typeof entry !== 'number');
  if (bad >= 0) return bad;
  // One join: the text of a list is made in one piece, not a line at a time.
  const text = list.length === 0 ? '' : `${pad}${list.join(`\n${pad}`)}\n`;
  if (Object.isFrozen(list)) {
    let byPad = listTexts.get(list);
    if (!byPad) listTexts.set(list, (byPad = new Map()));
    byPad.set(pad, text);
  }
  return text;
}

/**
 * `{{lines A B ... indent=N ~}}`: the statements given, each on a line of its own after N spaces
 * and ended by a line break. An argument is a statement (a string or number), a list of them, or
 * null (nothing). With `~}}` the template's own line break after the tag is dropped, so the
 * lines stand where the tag stood, and no arguments (or empty lists) leave no line at all. It
 * prints what `{{#each}}` loops print, in one call: through `each`, a peer block's twenty-odd
 * statements cost a route reflector's thousands of peers more than everything else in a render.
 */
function lines(listTexts: ListTexts, args: unknown[]): string {
  const options = args.pop() as Handlebars.HelperOptions & { loc?: { start: { line: number; column: number } } };
  // Ended as Handlebars ends its own runtime errors, so that the message names the line.
  const fail = (message: string) => new Error(`lines: ${message}${options.loc ? ` - ${options.loc.start.line}:${options.loc.start.column}` : ''}`);
  const indent: unknown = options.hash?.indent ?? 0;
  if (typeof indent !== 'number' || !Number.isInteger(indent) || indent < 0 || indent > 64) throw fail('indent must be a whole number of spaces (0 to 64)');
  const pad = (pads[indent] ??= ' '.repeat(indent));
  let out = '';
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === null || arg === undefined) continue;
    if (typeof arg === 'string' || typeof arg === 'number') out += `${pad}${arg}\n`;
    else if (Array.isArray(arg)) {
      const text = knownListText(listTexts, arg, pad) ?? listText(listTexts, arg, pad);
      if (typeof text === 'number') throw fail(`entry ${text} of argument ${i + 1} is not a statement (a string or number)`);
      out += text;
    } else throw fail(`argument ${i + 1} is not a statement, a list of statements or null`);
  }
  return out;
}

/**
 * Compiles a template set. Syntax errors are reported here, with file and line, so a caller that
 * compiles at start-up reports them there. The helpers only print: `peerBlocks` hands a peer list
 * to the printer the render step passes in the run's data, `lines` prints a list one per line.
 */
export function compileTemplates(sources: TemplateSources): TemplateSet {
  const env = Handlebars.create();
  env.registerHelper('peerBlocks', (peers: readonly PeerView[], options: Handlebars.HelperOptions) => (options.data as PeerBlocksData).peerBlocks(peers));
  const listTexts: ListTexts = new WeakMap();
  env.registerHelper('lines', (...args: unknown[]) => lines(listTexts, args));
  env.registerHelper(PEER_LOOP, peerLoop);
  let peer: PeerPrinter | null = null;
  for (const p of sources.partials) {
    const template = compileChecked(env, p);
    env.registerPartial(p.name, template);
    if (p.name === 'peer') peer = peerPrinter(env, p.file, template, needsData(p.text));
  }
  const files = new Map<string, CompiledTemplate>();
  for (const f of sources.files) {
    const template = compileChecked(env, f);
    files.set(f.name, { file: f.file, run: (view, data) => guarded(f.file, () => template(view, { data })) });
  }
  return { files, peer };
}

/**
 * Whether a peer partial may use Handlebars' data (`@index`, `@root`, the `peerBlocks` helper that
 * reads it), or call another partial that may. Peer lists are printed without data when it does
 * not: a data frame per peer is most of what printing a route reflector's thousands of peers
 * allocates. The test is on the text, so it errs towards data.
 */
const needsData = (text: string) => text.includes('@') || text.includes('peerBlocks') || /\{\{[~\s#]*>/.test(text);

/**
 * The loop over a peer list printed without data: each peer through the block once. Registered
 * under a name no template can call (templates are compiled with known helpers only, and this
 * one is known to the peer-list templates alone).
 */
const PEER_LOOP = 'bird-confd-peer-loop';
function peerLoop(peers: readonly PeerView[], options: Handlebars.HelperOptions): string {
  let out = '';
  for (let i = 0; i < peers.length; i++) out += options.fn(peers[i]);
  return out;
}

/** Ends each peer's text in a batch formatted in one call (control characters: no view text holds them but a password). */
const PEER_END = '\u0002bird-confd-peer-end\u0003';

/**
 * The peer partial run alone, and for many peers in one call: a top-level Handlebars call sets
 * its helpers up anew, which for the thousands of peers of a mesh or a route reflector costs more
 * than formatting them.
 */
function peerPrinter(env: typeof Handlebars, file: string, template: Handlebars.TemplateDelegate, data: boolean): PeerPrinter {
  // Without data, a plain loop: `each` makes an options object and block parameters for every peer.
  const loop = data ? 'each' : PEER_LOOP;
  const marked = compileNow(env, `{{#${loop} this}}{{> peer}}${PEER_END}{{/${loop}}}`, data);
  const list = compileNow(env, `{{#${loop} this}}{{> peer}}{{/${loop}}}`, data);
  return {
    file,
    run: (view) => guarded(file, () => template(view)),
    runList: (peers) => guarded(file, () => list(peers)),
    runMany: (peers) => {
      const parts = guarded(file, () => marked(peers)).split(PEER_END);
      return parts.length === peers.length + 1 ? parts.slice(0, -1) : null;
    },
  };
}

function compileChecked(env: typeof Handlebars, source: TemplateSource): Handlebars.TemplateDelegate {
  try {
    // Parsing now reports syntax errors at compile time instead of at the first render.
    return compileNow(env, source.text);
  } catch (err) {
    throw new TemplateError(source.file, (err as Error).message.split('\n')[0] ?? String(err), { cause: err });
  }
}

/** The environment's compiler classes (Handlebars' own `compile` uses them, on a template's first call). */
interface CompilerClasses {
  readonly Compiler: new () => { compile(ast: hbs.AST.Program, options: object): unknown };
  readonly JavaScriptCompiler: new () => { compile(environment: unknown, options: object, context: undefined, asObject: true): Parameters<typeof Handlebars.template>[0] };
}

/**
 * Parses and compiles a template now. Handlebars' `compile` does the same work lazily, at the
 * template's first call: in a daemon that is the first render after its first list (some 20 ms
 * for Calico's templates), and a syntax error would wait for it too. These are the steps that
 * `compile` runs then, with its options (`data` on by default).
 */
function compileNow(env: typeof Handlebars, text: string, data = true): Handlebars.TemplateDelegate {
  const options = { ...compileOptions, data, knownHelpers: { ...compileOptions.knownHelpers, [PEER_LOOP]: !data } };
  const { Compiler, JavaScriptCompiler } = env as unknown as CompilerClasses;
  const environment = new Compiler().compile(env.parse(text), options);
  return env.template(new JavaScriptCompiler().compile(environment, options, undefined, true));
}

/** Runs a template; a runtime error names the template file and line. */
function guarded(file: string, run: () => string): string {
  try {
    return run();
  } catch (err) {
    if (err instanceof TemplateError) throw err;
    throw new TemplateError(file, (err as Error).message.split('\n')[0] ?? String(err), { cause: err });
  }
}

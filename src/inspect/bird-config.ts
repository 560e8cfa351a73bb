/**
 * A reader for the BIRD 1.6 configuration that bird-confd writes: enough of the language to list
 * protocols with their statements, filters, functions, constants and global settings, so that
 * `status` and `diff` can reason about what BIRD runs. Pure: text in, data out.
 */

/** A top-level item: `head { body }` (protocol, template, filter, function) or `text;`. */
export type BirdItem =
  | { readonly kind: 'block'; readonly head: readonly string[]; readonly body: string }
  | { readonly kind: 'statement'; readonly text: string };

/** A `protocol` or `template` block with its statements normalized (comments and extra white space removed). */
export interface BirdProtocol {
  /** `bgp`, `kernel`, `static`, ... */
  readonly type: string;
  /** The name, or BIRD's automatic one (`kernel1`, `static1`, ...) when the config gives none. */
  readonly name: string;
  readonly isTemplate: boolean;
  /** The template named in `from T`, or null. */
  readonly template: string | null;
  readonly statements: readonly string[];
}

/** What one BIRD daemon reads: its main file with every include expanded. */
export interface BirdConfig {
  readonly routerId: string | null;
  /** `listen bgp ...` statements, normalized. */
  readonly listen: readonly string[];
  readonly protocols: readonly BirdProtocol[];
  readonly templates: ReadonlyMap<string, BirdProtocol>;
  /** Filter and function bodies by name, normalized. */
  readonly filters: ReadonlyMap<string, string>;
  readonly functions: ReadonlyMap<string, string>;
  /** `define NAME = value;` constants (values may hold secrets). */
  readonly defines: ReadonlyMap<string, string>;
  /** Include names that were not in the file set. */
  readonly missingIncludes: readonly string[];
}

/** Splits config text into top-level items; comments are dropped, strings kept intact. */
export function birdItems(text: string): BirdItem[] {
  const items: BirdItem[] = [];
  const clean = stripComments(text);
  let start = 0;
  let i = 0;
  while (i < clean.length) {
    const c = clean[i]!;
    if (c === '"') {
      i = skipString(clean, i);
      continue;
    }
    if (c === ';') {
      const t = normalize(clean.slice(start, i));
      if (t) items.push({ kind: 'statement', text: t });
      start = ++i;
      continue;
    }
    if (c === '{') {
      const end = matchingBrace(clean, i);
      items.push({ kind: 'block', head: normalize(clean.slice(start, i)).split(' ').filter(Boolean), body: clean.slice(i + 1, end) });
      i = end + 1;
      // A stray `;` after a block is harmless in BIRD.
      while (i < clean.length && /[\s;]/.test(clean[i]!)) i++;
      start = i;
      continue;
    }
    i++;
  }
  const rest = normalize(clean.slice(start));
  if (rest) items.push({ kind: 'statement', text: rest });
  return items;
}

/** The statements of a block body, split at top-level `;`, each normalized. */
export function blockStatements(body: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c === '"') i = skipString(body, i) - 1;
    else if (c === '{') depth++;
    else if (c === '}') depth--;
    else if (c === ';' && depth === 0) {
      const t = normalize(body.slice(start, i));
      if (t) out.push(t);
      start = i + 1;
    }
  }
  const rest = normalize(body.slice(start));
  if (rest) out.push(rest);
  return out;
}

/**
 * Reads a daemon's config from a file set: `main` with its `include "name";` lines expanded from
 * `files` (by name, as BIRD resolves them next to the including file).
 */
export function readBirdConfig(files: ReadonlyMap<string, string>, main: string): BirdConfig {
  const missing: string[] = [];
  const items = expand(files, main, new Set(), missing);
  const protocols: BirdProtocol[] = [];
  const templates = new Map<string, BirdProtocol>();
  const filters = new Map<string, string>();
  const functions = new Map<string, string>();
  const defines = new Map<string, string>();
  const listen: string[] = [];
  const counters = new Map<string, number>();
  let routerId: string | null = null;
  for (const item of items) {
    if (item.kind === 'statement') {
      const define = /^define (\w+) ?= ?(.*)$/.exec(item.text);
      if (define) defines.set(define[1]!, define[2]!);
      else if (item.text.startsWith('router id ')) routerId = item.text.slice('router id '.length);
      else if (item.text.startsWith('listen bgp')) listen.push(item.text);
      continue;
    }
    const [keyword, type, name] = item.head;
    if (keyword === 'filter' && type) filters.set(type, normalize(item.body));
    else if (keyword === 'function' && type) functions.set(type.replace(/\(.*$/, ''), normalize(item.body));
    else if ((keyword === 'protocol' || keyword === 'template') && type) {
      const hasName = name !== undefined && name !== 'from';
      const fromAt = item.head.indexOf('from');
      let protoName = hasName ? name : '';
      if (!hasName) {
        // BIRD numbers unnamed protocols per type: kernel1, static1, ...
        const n = (counters.get(type) ?? 0) + 1;
        counters.set(type, n);
        protoName = `${type}${n}`;
      }
      const p: BirdProtocol = { type, name: protoName, isTemplate: keyword === 'template', template: fromAt >= 0 ? item.head[fromAt + 1] ?? null : null, statements: blockStatements(item.body) };
      if (p.isTemplate) templates.set(p.name, p);
      else protocols.push(p);
    }
  }
  return { routerId, listen, protocols, templates, filters, functions, defines, missingIncludes: missing };
}

/** A protocol's statements with its template's first, as BIRD applies `from T`. */
export function effectiveStatements(p: BirdProtocol, config: BirdConfig): string[] {
  const seen = new Set<string>();
  const chain: BirdProtocol[] = [];
  for (let t: BirdProtocol | undefined = p; t && !seen.has(t.name); t = t.template ? config.templates.get(t.template) : undefined) {
    seen.add(t.name);
    chain.unshift(t);
  }
  return chain.flatMap((t) => t.statements);
}

/** The BGP neighbor of a protocol: address, port (0 for the default) and AS, or null. */
export function bgpNeighbor(statements: readonly string[]): { address: string; port: number; as: string } | null {
  for (const s of statements) {
    const m = /^neighbor (\S+)(?: port (\d+))? as (\S+)$/.exec(s);
    if (m) return { address: m[1]!, port: m[2] ? Number(m[2]) : 0, as: m[3]! };
  }
  return null;
}

function expand(files: ReadonlyMap<string, string>, name: string, stack: Set<string>, missing: string[]): BirdItem[] {
  const text = files.get(name);
  if (text === undefined || stack.has(name)) {
    if (text === undefined) missing.push(name);
    return [];
  }
  stack.add(name);
  const out: BirdItem[] = [];
  for (const item of birdItems(text)) {
    const inc = item.kind === 'statement' ? /^include "([^"]*)"$/.exec(item.text) : null;
    if (inc) out.push(...expand(files, inc[1]!.replace(/^.*\//, ''), stack, missing));
    else out.push(item);
  }
  stack.delete(name);
  return out;
}

/** Removes `#` and `/* *\/` comments outside strings, keeping line structure. */
function stripComments(text: string): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '"') {
      const end = skipString(text, i);
      out += text.slice(i, end);
      i = end;
    } else if (c === '#') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      i = end < 0 ? text.length : end + 2;
      out += ' ';
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/** The index just after the string that starts at `i` (a BIRD string has no escapes and no newline). */
function skipString(text: string, i: number): number {
  const end = text.indexOf('"', i + 1);
  return end < 0 ? text.length : end + 1;
}

function matchingBrace(text: string, open: number): number {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    const c = text[i]!;
    if (c === '"') i = skipString(text, i) - 1;
    else if (c === '{') depth++;
    else if (c === '}' && --depth === 0) return i;
  }
  return text.length;
}

/** Collapses white space outside strings. */
function normalize(text: string): string {
  return text
    .split(/("[^"]*")/)
    .map((part, i) => (i % 2 === 1 ? part : part.replace(/\s+/g, ' ')))
    .join('')
    .trim();
}

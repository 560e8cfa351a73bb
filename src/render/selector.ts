// Calico's label selector language (as accepted by Calico v3.17): a hand-written recursive-descent
// parser that works straight on the text, so that words like `in`, `has` or `all` are keywords only
// where the grammar allows one and label keys otherwise. The parsed tree is compiled once into
// closures, because a selector is evaluated for every node and every BGPPeer.

type Labels = Readonly<Record<string, string>>;
type Match = (labels: Labels) => boolean;

/** A parsed selector. */
export interface Selector {
  readonly source: string;
  matches(labels: Readonly<Record<string, string>>): boolean;
  /**
   * Conditions each of which labels must meet to match (none when the selector has no such
   * condition at its top): a label `key` with `value`, or with any value when `value` is null.
   * An index of labels finds the few candidates of a selector like `rack == 'r1' && has(x)`.
   */
  readonly requires: readonly LabelCondition[];
}

/** A label a selector requires: `key` set to `value`, or set at all when `value` is null. */
export interface LabelCondition {
  readonly key: string;
  readonly value: string | null;
}

/** Thrown for a selector that does not parse; `position` is the 0-based character offset of the problem. */
export class SelectorParseError extends Error {
  readonly position: number;
  readonly selector: string;

  constructor(problem: string, position: number, selector: string) {
    super(`${problem} at position ${position} in selector ${JSON.stringify(selector)}`);
    this.name = 'SelectorParseError';
    this.position = position;
    this.selector = selector;
  }
}

/** Parses a selector; an empty or all-whitespace selector means all(). Throws SelectorParseError. */
export function parseSelector(text: string): Selector {
  const tree = new Parser(text).parseSelector();
  return Object.freeze({ source: text, matches: compile(tree), requires: Object.freeze(requiredLabels(tree)) });
}

/** The label conditions a match needs: an equality or `has`, alone or among the operands of `&&`. */
function requiredLabels(node: Node): LabelCondition[] {
  if (node.op === 'eq') return [{ key: node.key, value: node.value }];
  if (node.op === 'has') return [{ key: node.key, value: null }];
  if (node.op === 'in' && node.values.length === 1) return [{ key: node.key, value: node.values[0]! }];
  if (node.op === 'and') return node.operands.flatMap(requiredLabels);
  return [];
}

type ValueOp = 'eq' | 'ne' | 'contains' | 'startsWith' | 'endsWith';
type SetOp = 'in' | 'notIn';

type Node =
  | { readonly op: 'all' }
  | { readonly op: 'has'; readonly key: string }
  | { readonly op: ValueOp; readonly key: string; readonly value: string }
  | { readonly op: SetOp; readonly key: string; readonly values: readonly string[] }
  | { readonly op: 'not'; readonly operand: Node }
  | { readonly op: 'and' | 'or'; readonly operands: readonly Node[] };

const MAX_KEY_LENGTH = 512;
// Calico has no limit, but a JavaScript stack does; no real selector comes anywhere near this,
// and a clean parse error beats a RangeError escaping from deep recursion.
const MAX_NESTING = 256;

const WHITESPACE = /[ \t\r\n]*/y;
const KEY = /[A-Za-z0-9_./-]+/y;
const NOT_KEY_CHAR = '(?![A-Za-z0-9_./-])';

// Calico accepts any amount of whitespace (even none) inside the two-word operators. The trailing
// look-ahead only rejects inputs Calico rejects one token later anyway, and gives a clearer error.
const WORD_OPERATORS: ReadonlyArray<readonly [RegExp, ValueOp | SetOp]> = [
  [new RegExp(`contains${NOT_KEY_CHAR}`, 'y'), 'contains'],
  [new RegExp(`starts[ \\t\\r\\n]*with${NOT_KEY_CHAR}`, 'y'), 'startsWith'],
  [new RegExp(`ends[ \\t\\r\\n]*with${NOT_KEY_CHAR}`, 'y'), 'endsWith'],
  [new RegExp(`not[ \\t\\r\\n]*in${NOT_KEY_CHAR}`, 'y'), 'notIn'],
  [new RegExp(`in${NOT_KEY_CHAR}`, 'y'), 'in'],
];

const FUNCTIONS: ReadonlySet<string> = new Set(['has', 'all', 'global']);
const TWO_CHAR_TOKENS: ReadonlySet<string> = new Set(['==', '!=', '&&', '||']);

class Parser {
  private pos = 0;
  private depth = 0;

  constructor(private readonly text: string) {}

  parseSelector(): Node {
    this.skipSpace();
    if (this.atEnd()) return { op: 'all' };
    const node = this.parseOr();
    this.skipSpace();
    if (!this.atEnd()) throw this.unexpected();
    return node;
  }

  private parseOr(): Node {
    return this.parseList('||', 'or', () => this.parseAnd());
  }

  private parseAnd(): Node {
    return this.parseList('&&', 'and', () => this.parseUnary());
  }

  // A loop rather than left recursion: long `a && b && …` chains must not grow the stack, and a
  // flat operand list evaluates without nested calls.
  private parseList(separator: string, op: 'and' | 'or', operand: () => Node): Node {
    const operands = [operand()];
    while (this.skipSpace(), this.eat(separator)) operands.push(operand());
    return operands.length === 1 ? operands[0]! : { op, operands };
  }

  // `!!x` is `x`, so only the parity of a run of `!` matters; this also keeps long runs flat.
  private parseUnary(): Node {
    let negate = false;
    while (this.skipSpace(), this.text[this.pos] === '!' && this.text[this.pos + 1] !== '=') {
      this.pos++;
      negate = !negate;
    }
    const operand = this.parseOperation();
    return negate ? { op: 'not', operand } : operand;
  }

  private parseOperation(): Node {
    this.skipSpace();
    if (this.text[this.pos] === '(') return this.parseParenthesised();
    const start = this.pos;
    const word = this.peek(KEY);
    if (word === null) throw this.unexpected();
    if (FUNCTIONS.has(word) && this.text[start + word.length] === '(') {
      this.pos += word.length + 1;
      return this.parseFunction(word);
    }
    const key = this.parseKey();
    return this.parseComparison(key);
  }

  private parseParenthesised(): Node {
    if (this.depth >= MAX_NESTING) throw this.error(`parentheses nested deeper than ${MAX_NESTING} levels`, this.pos);
    this.pos++;
    this.depth++;
    const inner = this.parseOr();
    this.expect(')');
    this.depth--;
    return inner;
  }

  private parseFunction(name: string): Node {
    this.skipSpace();
    const node: Node = name === 'has' ? { op: 'has', key: this.parseKey() } : { op: 'all' };
    this.expect(')');
    return node;
  }

  private parseComparison(key: string): Node {
    this.skipSpace();
    if (this.eat('==')) return { op: 'eq', key, value: this.parseString() };
    if (this.eat('!=')) return { op: 'ne', key, value: this.parseString() };
    for (const [pattern, op] of WORD_OPERATORS) {
      const matched = this.peek(pattern);
      if (matched === null) continue;
      this.pos += matched.length;
      if (op === 'in' || op === 'notIn') return { op, key, values: this.parseSet() };
      return { op, key, value: this.parseString() };
    }
    throw this.unexpected();
  }

  // Calico's loop stops at the first string not followed by a comma, so it accepts a trailing
  // comma (`{"a",}`); accepting it too keeps every selector Calico takes parseable here.
  private parseSet(): string[] {
    this.expect('{');
    const values: string[] = [];
    while (this.skipSpace(), this.isQuote(this.text[this.pos])) {
      values.push(this.parseString());
      this.skipSpace();
      if (!this.eat(',')) break;
    }
    this.expect('}');
    return values;
  }

  private parseKey(): string {
    this.skipSpace();
    const key = this.peek(KEY);
    if (key === null) throw this.unexpected();
    if (key.length > MAX_KEY_LENGTH) throw this.error(`label key longer than ${MAX_KEY_LENGTH} characters`, this.pos);
    this.pos += key.length;
    return key;
  }

  // No escapes: the value runs to the next quote of the same kind, as in Calico.
  private parseString(): string {
    this.skipSpace();
    const quote = this.text[this.pos];
    if (!this.isQuote(quote)) throw this.unexpected();
    const end = this.text.indexOf(quote, this.pos + 1);
    if (end < 0) throw this.error('unterminated string', this.pos);
    const value = this.text.slice(this.pos + 1, end);
    this.pos = end + 1;
    return value;
  }

  private expect(token: string): void {
    this.skipSpace();
    if (!this.eat(token)) throw this.unexpected();
  }

  private eat(token: string): boolean {
    if (!this.text.startsWith(token, this.pos)) return false;
    this.pos += token.length;
    return true;
  }

  private peek(pattern: RegExp): string | null {
    pattern.lastIndex = this.pos;
    return pattern.exec(this.text)?.[0] ?? null;
  }

  private skipSpace(): void {
    this.pos += this.peek(WHITESPACE)?.length ?? 0;
  }

  private atEnd(): boolean {
    return this.pos >= this.text.length;
  }

  private isQuote(c: string | undefined): c is '"' | "'" {
    return c === '"' || c === "'";
  }

  private unexpected(): SelectorParseError {
    return this.error(`unexpected ${this.describeHere()}`, this.pos);
  }

  // Names the whole token at the cursor, so the message shows `"foo"` rather than `"f"`.
  private describeHere(): string {
    if (this.atEnd()) return 'end of selector';
    const word = this.peek(KEY);
    if (word !== null) return JSON.stringify(word.length > 40 ? `${word.slice(0, 40)}…` : word);
    const quote = this.text[this.pos];
    if (this.isQuote(quote)) return this.describeString(quote);
    const two = this.text.slice(this.pos, this.pos + 2);
    return JSON.stringify(TWO_CHAR_TOKENS.has(two) ? two : this.text[this.pos]);
  }

  private describeString(quote: '"' | "'"): string {
    const end = this.text.indexOf(quote, this.pos + 1);
    return end < 0 ? 'unterminated string' : `string ${quote}${this.text.slice(this.pos + 1, end)}${quote}`;
  }

  private error(problem: string, position: number): SelectorParseError {
    return new SelectorParseError(problem, position, this.text);
  }
}

const always: Match = () => true;

function compile(node: Node): Match {
  switch (node.op) {
    case 'all':
      return always;
    case 'has':
      return compileHas(node.key);
    case 'eq':
    case 'ne':
    case 'contains':
    case 'startsWith':
    case 'endsWith':
      return compileValue(node.op, node.key, node.value);
    case 'in':
    case 'notIn':
      return compileSet(node.op, node.key, node.values);
    case 'not': {
      const operand = compile(node.operand);
      return (labels) => !operand(labels);
    }
    case 'and':
      return compileAnd(node.operands.map(compile));
    case 'or':
      return compileOr(node.operands.map(compile));
  }
}

// Presence is `typeof … === 'string'` rather than `in`: a plain object inherits `constructor`,
// `toString` and friends, which are valid label keys but never string values.
function compileHas(key: string): Match {
  return (labels) => typeof labels[key] === 'string';
}

function compileValue(op: ValueOp, key: string, value: string): Match {
  switch (op) {
    case 'eq':
      return (labels) => labels[key] === value;
    case 'ne':
      return (labels) => labels[key] !== value;
    case 'contains':
      return (labels) => {
        const v: unknown = labels[key];
        return typeof v === 'string' && v.includes(value);
      };
    case 'startsWith':
      return (labels) => {
        const v: unknown = labels[key];
        return typeof v === 'string' && v.startsWith(value);
      };
    case 'endsWith':
      return (labels) => {
        const v: unknown = labels[key];
        return typeof v === 'string' && v.endsWith(value);
      };
  }
}

function compileSet(op: SetOp, key: string, values: readonly string[]): Match {
  const set: ReadonlySet<unknown> = new Set(values);
  if (op === 'in') return (labels) => set.has(labels[key]);
  return (labels) => !set.has(labels[key]);
}

function compileAnd(parts: readonly Match[]): Match {
  if (parts.length === 2) {
    const [a, b] = parts as [Match, Match];
    return (labels) => a(labels) && b(labels);
  }
  return (labels) => {
    for (let i = 0; i < parts.length; i++) if (!parts[i]!(labels)) return false;
    return true;
  };
}

function compileOr(parts: readonly Match[]): Match {
  if (parts.length === 2) {
    const [a, b] = parts as [Match, Match];
    return (labels) => a(labels) || b(labels);
  }
  return (labels) => {
    for (let i = 0; i < parts.length; i++) if (parts[i]!(labels)) return true;
    return false;
  };
}

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { NodeLabelIndex } from '../src/render/facts/node-index.js';
import type { NodeInfo } from '../src/render/facts/nodes.js';
import { parseSelector, SelectorParseError } from '../src/render/selector.js';

type Labels = Record<string, string>;

/** Each row: a selector, then labels it must match and labels it must not. */
interface Row {
  readonly selector: string;
  readonly match: readonly Labels[];
  readonly noMatch: readonly Labels[];
}

function name(selector: string): string {
  if (selector === '') return '(empty)';
  return JSON.stringify(selector.length > 60 ? `${selector.slice(0, 60)}…` : selector);
}

function check(rows: readonly Row[]): void {
  for (const { selector, match, noMatch } of rows) {
    test(name(selector), () => {
      const sel = parseSelector(selector);
      assert.equal(sel.source, selector);
      for (const labels of match) assert.equal(sel.matches(labels), true, `should match ${JSON.stringify(labels)}`);
      for (const labels of noMatch) assert.equal(sel.matches(labels), false, `should not match ${JSON.stringify(labels)}`);
    });
  }
}

describe('operators', () => {
  check([
    { selector: 'a == "x"', match: [{ a: 'x' }, { a: 'x', b: 'y' }], noMatch: [{}, { a: 'y' }, { a: '' }, { b: 'x' }] },
    { selector: 'a == ""', match: [{ a: '' }], noMatch: [{}, { a: 'x' }] },
    { selector: 'a != "x"', match: [{}, { a: 'y' }, { a: '' }, { b: 'x' }], noMatch: [{ a: 'x' }] },
    { selector: 'has(a)', match: [{ a: '' }, { a: 'x' }], noMatch: [{}, { b: 'a' }] },
    { selector: '!has(a)', match: [{}, { b: 'a' }], noMatch: [{ a: '' }] },
    { selector: 'all()', match: [{}, { a: 'x' }], noMatch: [] },
    { selector: 'global()', match: [{}, { a: 'x' }], noMatch: [] },
    { selector: '!all()', match: [], noMatch: [{}, { a: 'x' }] },
    { selector: 'a in {"x", "y"}', match: [{ a: 'x' }, { a: 'y' }], noMatch: [{}, { a: 'z' }, { a: '' }, { b: 'x' }] },
    { selector: 'a in {}', match: [], noMatch: [{}, { a: '' }, { a: 'x' }] },
    { selector: 'a in {"x"}', match: [{ a: 'x' }], noMatch: [{}, { a: 'xx' }] },
    { selector: 'a not in {"x", "y"}', match: [{}, { a: 'z' }, { a: '' }, { b: 'x' }], noMatch: [{ a: 'x' }, { a: 'y' }] },
    { selector: 'a not in {}', match: [{}, { a: 'x' }], noMatch: [] },
    { selector: 'a contains "ell"', match: [{ a: 'hello' }, { a: 'ell' }], noMatch: [{}, { a: 'hel' }, { b: 'hello' }] },
    { selector: 'a contains ""', match: [{ a: '' }, { a: 'x' }], noMatch: [{}] },
    { selector: 'a starts with "he"', match: [{ a: 'hello' }, { a: 'he' }], noMatch: [{}, { a: 'the' }, { a: 'h' }] },
    { selector: 'a ends with "lo"', match: [{ a: 'hello' }, { a: 'lo' }], noMatch: [{}, { a: 'lot' }, { a: 'o' }] },
  ]);
});

describe('precedence and grouping', () => {
  const abc = (a: string, b: string, c: string): Labels => ({ a, b, c });
  check([
    // && binds tighter: a || (b && c)
    { selector: 'a == "1" || b == "2" && c == "3"', match: [abc('1', '0', '0'), abc('0', '2', '3'), abc('1', '2', '3')], noMatch: [abc('0', '2', '0'), abc('0', '0', '3'), {}] },
    { selector: 'b == "2" && c == "3" || a == "1"', match: [abc('1', '0', '0'), abc('0', '2', '3')], noMatch: [abc('0', '2', '0')] },
    { selector: '(a == "1" || b == "2") && c == "3"', match: [abc('1', '0', '3'), abc('0', '2', '3')], noMatch: [abc('1', '0', '0'), abc('0', '2', '0')] },
    // ! binds tighter than && and ||
    { selector: '!has(a) && has(b)', match: [{ b: '' }], noMatch: [{ a: '', b: '' }, {}] },
    { selector: '!has(a) || has(b)', match: [{}, { a: '', b: '' }], noMatch: [{ a: '' }] },
    { selector: '!(has(a) && has(b))', match: [{}, { a: '' }, { b: '' }], noMatch: [{ a: '', b: '' }] },
    { selector: '!!has(a)', match: [{ a: '' }], noMatch: [{}] },
    { selector: '!!!has(a)', match: [{}], noMatch: [{ a: '' }] },
    { selector: '! ! ! ! has(a)', match: [{ a: '' }], noMatch: [{}] },
    { selector: '!a == "x"', match: [{}, { a: 'y' }], noMatch: [{ a: 'x' }] },
    { selector: '((((has(a)))))', match: [{ a: '' }], noMatch: [{}] },
    { selector: '!(!(has(a)))', match: [{ a: '' }], noMatch: [{}] },
    { selector: 'has(a) && has(b) && has(c) && has(d)', match: [{ a: '', b: '', c: '', d: '' }], noMatch: [{ a: '', b: '', c: '' }, { b: '', c: '', d: '' }] },
    { selector: 'has(a) || has(b) || has(c) || has(d)', match: [{ a: '' }, { d: '' }], noMatch: [{}, { e: '' }] },
    { selector: '(has(a) || has(b)) && !(has(c) || has(d))', match: [{ a: '' }, { b: '' }], noMatch: [{ a: '', c: '' }, { b: '', d: '' }, {}] },
  ]);
});

describe('empty selectors mean all()', () => {
  check([
    { selector: '', match: [{}, { a: 'x' }], noMatch: [] },
    { selector: '   ', match: [{}, { a: 'x' }], noMatch: [] },
    { selector: ' \t\r\n ', match: [{}], noMatch: [] },
  ]);
});

describe('whitespace', () => {
  check([
    { selector: 'a=="x"', match: [{ a: 'x' }], noMatch: [{ a: 'y' }] },
    { selector: '  a   ==   "x"  ', match: [{ a: 'x' }], noMatch: [{ a: 'y' }] },
    { selector: '\ta\t!=\t"x"\t', match: [{ a: 'y' }], noMatch: [{ a: 'x' }] },
    { selector: 'has( a )', match: [{ a: '' }], noMatch: [{}] },
    { selector: 'has(\ta\t)', match: [{ a: '' }], noMatch: [{}] },
    { selector: 'all( )', match: [{}], noMatch: [] },
    { selector: 'global(  )', match: [{}], noMatch: [] },
    { selector: 'has(a)&&has(b)||has(c)', match: [{ a: '', b: '' }, { c: '' }], noMatch: [{ a: '' }] },
    { selector: 'a in{"x","y"}', match: [{ a: 'y' }], noMatch: [{ a: 'z' }] },
    { selector: 'a in {  "x" ,  "y"  }', match: [{ a: 'y' }], noMatch: [{ a: 'z' }] },
    { selector: 'a in { }', match: [], noMatch: [{ a: '' }] },
    { selector: 'a not   in {"x"}', match: [{ a: 'y' }], noMatch: [{ a: 'x' }] },
    { selector: 'a starts\twith "x"', match: [{ a: 'xy' }], noMatch: [{ a: 'yx' }] },
    { selector: 'a ends  with "x"', match: [{ a: 'yx' }], noMatch: [{ a: 'xy' }] },
    { selector: 'a contains"x"', match: [{ a: 'yxy' }], noMatch: [{ a: 'y' }] },
    { selector: 'has(a)\n&&\r\nhas(b)', match: [{ a: '', b: '' }], noMatch: [{ a: '' }] },
    { selector: '( has(a) )', match: [{ a: '' }], noMatch: [{}] },
    // Calico takes zero whitespace inside the two-word operators and a trailing comma in a set.
    { selector: 'a notin {"x"}', match: [{ a: 'y' }], noMatch: [{ a: 'x' }] },
    { selector: 'a startswith "x"', match: [{ a: 'xy' }], noMatch: [{ a: 'yx' }] },
    { selector: 'a in {"x",}', match: [{ a: 'x' }], noMatch: [{ a: 'y' }] },
  ]);
});

describe('string literals', () => {
  check([
    { selector: "a == 'x'", match: [{ a: 'x' }], noMatch: [{ a: 'y' }] },
    { selector: 'a == \'say "hi"\'', match: [{ a: 'say "hi"' }], noMatch: [{ a: 'say hi' }] },
    { selector: 'a == "it\'s"', match: [{ a: "it's" }], noMatch: [{ a: 'its' }] },
    { selector: 'a == "x\\y"', match: [{ a: 'x\\y' }], noMatch: [{ a: 'xy' }] },
    { selector: 'a == "has(b) && c"', match: [{ a: 'has(b) && c' }], noMatch: [{ b: '', c: '' }] },
    { selector: 'a in {\'x\', "y"}', match: [{ a: 'x' }, { a: 'y' }], noMatch: [{ a: 'z' }] },
    { selector: 'a == " x "', match: [{ a: ' x ' }], noMatch: [{ a: 'x' }] },
  ]);
});

describe('label keys', () => {
  check([
    { selector: 'projectcalico.org/name == "n1"', match: [{ 'projectcalico.org/name': 'n1' }], noMatch: [{ name: 'n1' }] },
    { selector: 'has(kubernetes.io/hostname)', match: [{ 'kubernetes.io/hostname': 'h' }], noMatch: [{ hostname: 'h' }] },
    { selector: 'my-key_1.x == "v"', match: [{ 'my-key_1.x': 'v' }], noMatch: [{ 'my-key_1': 'v' }] },
    { selector: '-./_ == "v"', match: [{ '-./_': 'v' }], noMatch: [{}] },
    { selector: '123 == "v"', match: [{ 123: 'v' }], noMatch: [{}] },
    { selector: `${'k'.repeat(512)} == "v"`, match: [{ ['k'.repeat(512)]: 'v' }], noMatch: [{ k: 'v' }] },
  ]);
});

describe('keyword-like label keys', () => {
  check([
    { selector: 'has == "x"', match: [{ has: 'x' }], noMatch: [{}] },
    { selector: 'all == "x"', match: [{ all: 'x' }], noMatch: [{}] },
    { selector: 'global != "x"', match: [{}, { global: 'y' }], noMatch: [{ global: 'x' }] },
    { selector: 'in in {"x"}', match: [{ in: 'x' }], noMatch: [{ in: 'y' }] },
    { selector: 'not not in {"x"}', match: [{ not: 'y' }], noMatch: [{ not: 'x' }] },
    { selector: 'contains contains "x"', match: [{ contains: 'axb' }], noMatch: [{ contains: 'b' }] },
    { selector: 'has(has)', match: [{ has: '' }], noMatch: [{ all: '' }] },
    { selector: 'has(in) && in == "1"', match: [{ in: '1' }], noMatch: [{ in: '2' }] },
    { selector: 'inside in {"x"}', match: [{ inside: 'x' }], noMatch: [{ in: 'x' }] },
    { selector: 'hasfoo == "x"', match: [{ hasfoo: 'x' }], noMatch: [{}] },
  ]);
});

describe('inherited object properties are not labels', () => {
  check([
    { selector: 'has(constructor)', match: [{ constructor: 'x' }], noMatch: [{}] },
    { selector: 'toString != "x"', match: [{}], noMatch: [{ toString: 'x' }] },
    { selector: 'constructor not in {"x"}', match: [{}], noMatch: [{ constructor: 'x' }] },
    { selector: 'hasOwnProperty contains ""', match: [{ hasOwnProperty: '' }], noMatch: [{}] },
    { selector: 'has(__proto__)', match: [JSON.parse('{"__proto__": "x"}') as Labels], noMatch: [{}] },
  ]);
  test('null-prototype label objects', () => {
    const labels = Object.assign(Object.create(null) as Labels, { a: 'x' });
    assert.equal(parseSelector('a == "x" && !has(b)').matches(labels), true);
  });
});

describe('bad selectors', () => {
  const rows: ReadonlyArray<readonly [selector: string, position: number, message: RegExp]> = [
    ['has(a) && & b', 10, /^unexpected "&" at position 10 in selector "has\(a\) && & b"$/],
    ['a', 1, /unexpected end of selector/],
    ['a ==', 4, /unexpected end of selector/],
    ['a == "x', 5, /^unterminated string at position 5/],
    ["a == 'x", 5, /unterminated string/],
    ['a == "x\'', 5, /unterminated string/],
    ['a in {"x}', 6, /unterminated string/],
    ['a == x', 5, /unexpected "x"/],
    ['a = "x"', 2, /unexpected "="/],
    ['a === "x"', 4, /unexpected "="/],
    ['a & b', 2, /unexpected "&"/],
    ['has(a) & has(b)', 7, /unexpected "&"/],
    ['has(a) | has(b)', 7, /unexpected "\|"/],
    ['has(a) &&', 9, /unexpected end of selector/],
    ['|| has(a)', 0, /unexpected "\|\|"/],
    ['!= "x"', 0, /unexpected "!="/],
    ['!', 1, /unexpected end of selector/],
    ['a == "x" b == "y"', 9, /unexpected "b"/],
    ['a == "x" "y"', 9, /unexpected string "y"/],
    ['has(a) has(b)', 7, /unexpected "has"/],
    ['has(a))', 6, /unexpected "\)"/],
    ['(has(a)', 7, /unexpected end of selector/],
    ['()', 1, /unexpected "\)"/],
    ['has()', 4, /unexpected "\)"/],
    ['has( )', 5, /unexpected "\)"/],
    ['has(a b)', 6, /unexpected "b"/],
    ['has(a', 5, /unexpected end of selector/],
    ['has("a")', 4, /unexpected string "a"/],
    ['has (a)', 4, /unexpected "\("/],
    ['all(x)', 4, /unexpected "x"/],
    ['global(', 7, /unexpected end of selector/],
    ['a in "x"', 5, /unexpected string "x"/],
    ['a in {"x"', 9, /unexpected end of selector/],
    ['a in {"x" "y"}', 10, /unexpected string "y"/],
    ['a in {,}', 6, /unexpected ","/],
    ['a in {x}', 6, /unexpected "x"/],
    ['a not {"x"}', 2, /unexpected "not"/],
    ['a intent {"x"}', 2, /unexpected "intent"/],
    ['a inside {"x"}', 2, /unexpected "inside"/],
    ['a starts "x"', 2, /unexpected "starts"/],
    ['a ends "x"', 2, /unexpected "ends"/],
    ['a containsx "y"', 2, /unexpected "containsx"/],
    ['a contains x', 11, /unexpected "x"/],
    ['a b', 2, /unexpected "b"/],
    ['"x" == a', 0, /unexpected string "x"/],
    ['a == "x" &&& b', 11, /unexpected "&"/],
    ['a.b:c == "x"', 3, /unexpected ":"/],
    ['#', 0, /unexpected "#"/],
    ['  )', 2, /unexpected "\)"/],
    [`${'k'.repeat(513)} == "v"`, 0, /^label key longer than 512 characters at position 0/],
    [`has(a) && has( ${'k'.repeat(600)})`, 15, /label key longer than 512 characters/],
    [`${'('.repeat(300)}has(a)${')'.repeat(300)}`, 256, /nested deeper than 256/],
  ];
  for (const [selector, position, message] of rows) {
    test(name(selector), () => {
      assert.throws(
        () => parseSelector(selector),
        (err: unknown) => {
          assert.ok(err instanceof SelectorParseError, `expected SelectorParseError, got ${String(err)}`);
          assert.equal(err.position, position);
          assert.equal(err.selector, selector);
          assert.equal(err.name, 'SelectorParseError');
          assert.match(err.message, message);
          assert.ok(err.message.includes(`at position ${position} in selector ${JSON.stringify(selector)}`), err.message);
          return true;
        },
      );
    });
  }
});

describe('scale', () => {
  test('long operator chains and runs of ! neither overflow nor slow down', () => {
    const keys = Array.from({ length: 20_000 }, (_, i) => `k${i}`);
    const labels = Object.fromEntries(keys.map((k) => [k, 'v']));
    assert.equal(parseSelector(keys.map((k) => `${k} == "v"`).join(' && ')).matches(labels), true);
    assert.equal(parseSelector(keys.map((k) => `${k} == "w"`).join(' || ')).matches(labels), false);
    assert.equal(parseSelector(`${'!'.repeat(20_001)}has(k0)`).matches(labels), false);
  });

  test('nesting up to the limit parses', () => {
    const selector = `${'!('.repeat(256)}has(a)${')'.repeat(256)}`;
    assert.equal(parseSelector(selector).matches({ a: '' }), true);
    assert.equal(parseSelector(selector).matches({}), false);
  });

  test('a parsed selector can be reused across many label sets', () => {
    const sel = parseSelector('role in {"rr", "edge"} && !has(disabled) && zone starts with "eu-"');
    const nodes = Array.from({ length: 10_000 }, (_, i) => ({ role: i % 2 ? 'rr' : 'worker', zone: i % 3 ? 'eu-west' : 'us-east', ...(i % 5 ? {} : { disabled: '' }) }));
    const matched = nodes.filter((n) => sel.matches(n)).length;
    const expected = nodes.filter((_, i) => i % 2 === 1 && i % 3 !== 0 && i % 5 !== 0).length;
    assert.equal(matched, expected);
    assert.ok(expected > 0);
  });
});

describe('label index (render --all-nodes)', () => {
  test('required labels: equalities and has() at the top or under &&, nothing under || or !', () => {
    assert.deepEqual(parseSelector("rack == 'r1' && !has(rr) && has(zone)").requires, [{ key: 'rack', value: 'r1' }, { key: 'zone', value: null }]);
    assert.deepEqual(parseSelector('role in {"rr"}').requires, [{ key: 'role', value: 'rr' }]);
    assert.deepEqual(parseSelector('role in {"rr", "edge"}').requires, []);
    assert.deepEqual(parseSelector("a == 'x' || has(b)").requires, []);
    assert.deepEqual(parseSelector("!(a == 'x')").requires, []);
    assert.deepEqual(parseSelector('all()').requires, []);
  });

  test('selecting through the index finds exactly the nodes a scan finds, in node order', () => {
    const keys = ['rack', 'rr', 'zone', 'constructor'];
    const values = ['a', 'b', ''];
    const label = fc.record({ key: fc.constantFrom(...keys), value: fc.constantFrom(...values) });
    const term = fc.oneof(
      label.map((l) => `${l.key} == '${l.value}'`),
      label.map((l) => `${l.key} != '${l.value}'`),
      label.map((l) => `has(${l.key})`),
      label.map((l) => `!has(${l.key})`),
      label.map((l) => `${l.key} in {'${l.value}'}`),
      fc.constant('all()'),
    );
    const selector = fc.oneof(term, fc.array(term, { minLength: 2, maxLength: 3 }).map((t) => t.join(' && ')), fc.array(term, { minLength: 2, maxLength: 3 }).map((t) => t.join(' || ')));
    const nodes = fc.array(fc.dictionary(fc.constantFrom(...keys), fc.constantFrom(...values), { maxKeys: 3 }), { maxLength: 30 });
    fc.assert(
      fc.property(nodes, fc.array(selector, { minLength: 1, maxLength: 5 }), (labelSets, texts) => {
        const list = labelSets.map((labels, i) => ({ name: `n${i}`, labels }) as unknown as NodeInfo);
        const index = new NodeLabelIndex(list);
        for (const text of texts) {
          const sel = parseSelector(text);
          assert.deepEqual(index.select(sel).map((n) => n.name), list.filter((n) => sel.matches(n.labels)).map((n) => n.name), text);
        }
      }),
      { numRuns: 500 },
    );
  });
});

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { parseAllDocuments, stringify } from 'yaml';
import { parseDocuments, textOfBytes } from '../src/model/manifest-text.js';
import { parseManifestText } from '../src/model/load.js';
import { generateDocuments } from '../bench/generate.js';

/** What the `yaml` package (the reference reader, YAML 1.2 core schema) reads from a text. */
function reference(text: string): unknown[] {
  return parseAllDocuments(text, { uniqueKeys: false }).map((d) => (d.errors.length > 0 ? 'error' : d.toJS()));
}

/** What the loader's readers give, in the same shape; a document without content (a comment) is left out as the reference does. */
function fast(text: string): unknown[] {
  return parseDocuments(text).map((d) => ('error' in d ? 'error' : d.value));
}

/** Scalars and structures where YAML 1.1, js-yaml's defaults and YAML 1.2 disagree, and JSON. */
const cases = [
  'a: 100:6532', 'a: 12:30:00', 'a: 1:2:3', 'a: 012', 'a: 0777', 'a: 09', 'a: 0o14', 'a: 0o9', 'a: 0x1F', 'a: -0x1F', 'a: 0b101', 'a: 1_000',
  'a: yes', 'a: on', 'a: off', 'a: y', 'a: True', 'a: TRUE', 'a: tRUE', 'a: ~', 'a: Null', 'a:', 'a: .inf', 'a: -.Inf', 'a: +.INF', 'a: .NaN',
  'a: 1e3', 'a: 1E-3', 'a: 1.0', 'a: 1.', 'a: +12', 'a: -0', 'a: +.5', 'a: .5e+3', 'a: 0.', 'a: .', 'a: e3', 'a: 2001-12-14', 'a: =',
  'a: 123456789012345678901', "a: 'y'", 'a: "x"\na: y', '<<: {b: 1}\na: 2', 'a: !!str 12', 'a: !!int "12"', 'a: !!null ""', 'a: !!bool "true"',
  'a: |\n  x\n  y\n', 'a: >-\n  x\n  y\n', 'k: "\\u00e9\\t"', '- 1\n- [2, {x: null}]', 'a: 1\n---\nb: 2\n', '---\n', '', 'a: [1, 2,]',
  '{"a": 1, "a": 2}', '{"a": [1, 2.5, "x", null, true], "b": {"c": "100:6532"}}', '[{"kind": "Node"}, {"kind": "BGPPeer"}]',
];

describe('manifest readers', () => {
  test('JSON.parse and js-yaml read what the reference YAML 1.2 reader reads', () => {
    for (const text of cases) assert.deepEqual(fast(text), reference(text), JSON.stringify(text));
  });

  test('a generated cluster reads the same as JSON, as multi-document YAML and through the reference', () => {
    const docs = generateDocuments(100, 'rr');
    const json = JSON.stringify({ apiVersion: 'v1', kind: 'List', items: docs }, null, 2);
    assert.deepEqual(fast(json), reference(json));
    const yaml = docs.map((d) => stringify(d)).join('---\n');
    assert.deepEqual(fast(yaml), reference(yaml));
    assert.equal(parseManifestText(yaml, 'gen.yaml').resources.length, parseManifestText(json, 'gen.json').resources.length);
  });

  test('random documents read the same by every reader', () => {
    const scalar = fc.oneof(fc.string(), fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.constant(null));
    const value = fc.letrec<{ v: unknown }>((tie) => ({ v: fc.oneof({ depthSize: 'small' }, scalar, fc.array(tie('v')), fc.dictionary(fc.string({ minLength: 1 }), tie('v'))) })).v;
    fc.assert(
      fc.property(value, (v) => {
        const yaml = stringify(v);
        assert.deepEqual(fast(yaml), reference(yaml));
        assert.deepEqual(fast(JSON.stringify(v)), [JSON.parse(JSON.stringify(v))]);
      }),
      { numRuns: 500 },
    );
  });

  test('errors name the line and column, per document; alias expansion is bounded', () => {
    const r = parseManifestText('a: 1\n---\nkind: Node\nmetadata: {name: a\n---\nb: 2\n', 'two.yaml');
    // The broken second document is reported where it breaks; the first and third are still read.
    assert.deepEqual(r.diagnostics.map((d) => `${d.file} ${d.message.slice(0, 38)}`), ['two.yaml#1 document has no kind, skipped', 'two.yaml invalid YAML/JSON: line 5, column 1: F', 'two.yaml#3 document has no kind, skipped']);
    const json = parseManifestText('{\n  "kind": "Node",\n  "metadata": {"name": "a"\n', 'x.json');
    assert.match(json.diagnostics[0]!.message, /^invalid YAML\/JSON: line \d+, column \d+: /);
    const level = (name: string, of: string) => `${name}: &${name} [${Array(9).fill(`*${of}`).join(', ')}]\n`;
    const bomb = 'a: &a ["x", "x", "x", "x", "x", "x", "x", "x", "x"]\n' + level('b', 'a') + level('c', 'b') + level('d', 'c') + level('e', 'd') + level('f', 'e') + level('g', 'f');
    const laughs = parseManifestText(bomb, 'bomb.yaml');
    assert.match(laughs.diagnostics[0]!.message, /invalid YAML\/JSON: Excessive alias count/);
    // A few aliases are fine, as before.
    assert.deepEqual(fast('a: &x [1]\nb: *x\n'), [{ a: [1], b: [1] }]);
  });
});

describe('text of manifest bytes', () => {
  test('ASCII and UTF-8 bytes give the text a UTF-8 decode gives; a byte order mark is dropped', () => {
    for (const text of ['{"kind":"List","items":[]}\n', 'metadata:\n  labels:\n    city: "Zürich"\n    note: "日本 😀"\n', '']) {
      assert.equal(textOfBytes(Buffer.from(text, 'utf8')), text);
      assert.equal(textOfBytes(new Uint8Array(Buffer.from(`\uFEFF${text}`, 'utf8'))), text);
    }
    // A view into a larger buffer reads only its own bytes.
    const big = Buffer.from('xx{"a":"ü"}yy', 'utf8');
    assert.equal(textOfBytes(big.subarray(2, big.length - 2)), '{"a":"ü"}');
  });
});

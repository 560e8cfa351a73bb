import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { jsonList } from '../src/model/json-list.js';
import { parseManifestText } from '../src/model/load.js';
import { generateDocuments } from '../bench/generate.js';

/** What the item-by-item reader gives: the outer object with its items put back, or null. */
function itemWise(text: string): unknown {
  const list = jsonList(text);
  if (!list) return null;
  return { ...list.outer, items: Array.from({ length: list.count }, (_, i) => list.item(i)) };
}

/** Keys are compared in order too: the outer object keeps its key order with `items` where it was. */
const canonical = (v: unknown) => JSON.stringify(v);

describe('JSON List read item by item', () => {
  test('gives what JSON.parse gives, for lists of any JSON items, compact or indented', () => {
    const item = fc.oneof(fc.dictionary(fc.string(), fc.jsonValue()), fc.array(fc.jsonValue()));
    fc.assert(
      fc.property(fc.array(item, { maxLength: 8 }), fc.dictionary(fc.string().filter((k) => k !== 'items'), fc.jsonValue(), { maxKeys: 3 }), fc.constantFrom(undefined, 2, 4, '\t'), (items, extra, indent) => {
        const text = JSON.stringify({ ...extra, kind: 'List', items, after: extra }, null, indent);
        assert.equal(canonical(itemWise(text)), canonical(JSON.parse(text)));
      }),
      { numRuns: 300 },
    );
  });

  test('strings with escaped quotes, backslashes and brackets do not mislead it', () => {
    const items = [{ a: 'x"]}', b: '\\', c: '\\"', d: '[{', e: '"items": [' }, { 'items"': ['"', '\\\\'] }];
    const text = JSON.stringify({ kind: 'List', note: '"items": [1]', items });
    assert.deepEqual(itemWise(text), JSON.parse(text));
    assert.equal(jsonList(text)!.count, 2);
  });

  test('declines what it cannot read item by item, and the whole text is then read as before', () => {
    const declined = [
      '{"kind": "List", "items": [1, 2]}', // items that are not objects
      '{"kind": "List", "items": ["a"]}',
      '{"kind": "List", "items": null}',
      '{"kind": "List", "items": [{}], "items": [{}]}', // a second items key: JSON.parse keeps the last
      '{"kind": "List", "items": [{},]}', // a trailing comma
      '{"kind": "List", "items": [{} {}]}', // a missing comma
      '{"kind": "List", "items": [,{}]}',
      '{"kind": "List", "items": [{}\u0001]}', // a control character between items
      '{"kind": "List", "items": [{}]} x', // text after the object
      '{"kind": "List"}', // no items
      '[{"kind": "Node"}]', // not an object
      '{"kind": "List", "items": [{"a": 1}]', // unbalanced
    ];
    for (const text of declined) assert.equal(jsonList(text), null, text);
  });

  test('an item that is not JSON is found when it is read, and the loader reports the file as JSON.parse would', () => {
    const text = '{"apiVersion": "v1", "kind": "List", "items": [{"apiVersion": "projectcalico.org/v3", "kind": "IPPool", "metadata": {"name": "p"}, "spec": {"cidr": "10.0.0.0/16"}}, {"kind": "Node", "x": [1,, 2]}]}';
    const list = jsonList(text)!;
    assert.equal(list.count, 2);
    assert.ok(list.item(0));
    assert.throws(() => list.item(1));
    const loaded = parseManifestText(text, 'bad.json');
    // As for any text that is neither JSON nor YAML: nothing of the file (no IPPool from the first
    // item), and an error with a position.
    assert.equal(loaded.resources.length, 0);
    assert.match(loaded.diagnostics.map((d) => d.message).join('\n'), /invalid YAML\/JSON: line \d+, column \d+/);
  });

  test('a generated cluster loads the same item by item as from the parsed whole', () => {
    const docs = generateDocuments(60, 'rr', 1, 200);
    const text = JSON.stringify({ apiVersion: 'v1', kind: 'List', items: docs }, null, 4);
    assert.ok(jsonList(text));
    // The same documents as a JSON array take the whole-text path.
    const whole = parseManifestText(JSON.stringify(docs), 'array.json');
    const items = parseManifestText(text, 'list.json');
    assert.equal(items.resources.length, docs.length);
    assert.deepEqual(items.resources, whole.resources);
    assert.deepEqual(items.diagnostics, whole.diagnostics.map((d) => ({ ...d, file: d.file === undefined ? undefined : 'list.json' })));
  });

  test('a typed list (NodeList) gives its items its kind', () => {
    const text = JSON.stringify({ apiVersion: 'projectcalico.org/v3', kind: 'IPPoolList', items: [{ metadata: { name: 'p' }, spec: { cidr: '10.0.0.0/16' } }] });
    const loaded = parseManifestText(text, 'typed.json');
    assert.deepEqual(loaded.diagnostics, []);
    assert.equal(loaded.resources[0]!.kind, 'IPPool');
  });
});

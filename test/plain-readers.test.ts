import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { generateDocuments } from '../bench/generate.js';
import { EndpointSlice, plainEndpointSlice } from '../src/model/k8s-endpoint-slice.js';
import { Service, plainService } from '../src/model/k8s-service.js';
import { documentToResource } from '../src/model/load.js';
import { Node, plainNode } from '../src/model/node.js';

// The common-form readers (src/model/common.ts) read the usual form of Services, EndpointSlices and
// Calico Nodes without zod. Whatever they accept must read exactly as the schema reads it: the same
// fields and values, and the same key order (the snapshot compares resources as JSON text).

/** A record with some keys left out, as JSON.parse and YAML make it (a plain object; null-prototype objects are among the odd values). */
const rec = <T>(shape: { [K in keyof T]: fc.Arbitrary<T[K]> }) => fc.record(shape, { noNullPrototype: true });
/** Mostly `valid`, now and then one of the others (so that a good share of objects is accepted whole). */
const mostly = <T>(valid: fc.Arbitrary<T>, ...others: fc.Arbitrary<unknown>[]) => fc.oneof({ weight: 12, arbitrary: valid as fc.Arbitrary<unknown> }, ...others.map((arbitrary) => ({ weight: 1, arbitrary })));
/** An optional key: absent (or undefined), null, or mostly a value. */
const maybe = (arb: fc.Arbitrary<unknown>) => fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constant(null) }, { weight: 8, arbitrary: arb });

/** A value of any JSON-ish type, and things JSON never makes. */
const odd = fc.oneof(fc.integer(), fc.boolean(), fc.string({ maxLength: 4 }), fc.constant([]), fc.constant({}), fc.constant(new Map()), fc.constant(Object.create(null)));

const ipv4 = fc.ipV4();
const ipv6 = fc.oneof(fc.ipV6(), fc.constant('fd00::1'), fc.constant('::ffff:10.0.0.1'), fc.constant('fe80::1%eth0'));
const address = mostly(fc.oneof(ipv4, ipv4, ipv6, fc.constant(''), fc.constant('None')), fc.constant('10.0.0.256'), fc.constant('010.0.0.1'), fc.constant('1.2.3'), fc.constant(' 10.0.0.1'));
const name = mostly(fc.stringMatching(/^[a-z0-9]([-a-z0-9.]{0,10}[a-z0-9])?$/), fc.constant(''), fc.constant('-x'), fc.constant('a b'), fc.constant('x'.repeat(254)), fc.constant('A_b'));
const stringMap = mostly(
  fc.dictionary(mostly(fc.string({ maxLength: 6 }), fc.constant('__proto__'), fc.constant('constructor')) as fc.Arbitrary<string>, mostly(fc.string({ maxLength: 6 }), fc.integer(), fc.boolean()), { maxKeys: 3, noNullPrototype: true }),
  odd,
);

/** Builds an object from optional keys, leaving out the absent ones (and keeping present-undefined ones). */
function objectOf(entries: Record<string, unknown>, present: Record<string, boolean>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(entries)) if (v !== undefined || present[k]) out[k] = v;
  return out;
}
const withPresence = (arb: fc.Arbitrary<Record<string, unknown>>) =>
  fc.tuple(arb, fc.dictionary(fc.constantFrom('namespace', 'spec', 'status', 'type', 'bgp', 'asNumber', 'endpoints', 'conditions'), fc.boolean())).map(([e, p]) => objectOf(e, p));

const metadata = mostly(
  withPresence(rec({ name, namespace: maybe(mostly(fc.string({ maxLength: 5 }), fc.integer())), labels: maybe(stringMap), annotations: maybe(stringMap), uid: maybe(fc.uuid()) })),
  odd,
);

const service = withPresence(
  rec({
    kind: mostly(fc.constant('Service'), fc.constant('Node')),
    apiVersion: fc.constant('v1'),
    metadata,
    spec: maybe(
      mostly(
        withPresence(
          rec({
            type: maybe(mostly(fc.constantFrom('ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'), fc.integer())),
            clusterIP: maybe(mostly(address, fc.integer())),
            clusterIPs: maybe(mostly(fc.array(address, { maxLength: 3 }), odd)),
            ipFamilies: maybe(mostly(fc.array(mostly(fc.constantFrom('IPv4', 'IPv6'), fc.constant('ipv4')), { maxLength: 2 }), odd)),
            externalTrafficPolicy: maybe(mostly(fc.constantFrom('Local', 'Cluster'), fc.integer())),
            externalIPs: maybe(mostly(fc.array(address, { maxLength: 3 }), odd)),
            loadBalancerIP: maybe(mostly(address, fc.integer())),
            ports: maybe(fc.constant([{ port: 80 }])),
          }),
        ),
        odd,
      ),
    ),
    status: maybe(
      mostly(
        rec({ loadBalancer: maybe(mostly(rec({ ingress: maybe(mostly(fc.array(mostly(rec({ ip: maybe(address), hostname: maybe(fc.string({ maxLength: 3 })) }), odd), { maxLength: 3 }), odd)) }), odd)) }),
        odd,
      ),
    ),
  }),
);

const endpointSlice = withPresence(
  rec({
    kind: fc.constant('EndpointSlice'),
    apiVersion: fc.constant('discovery.k8s.io/v1'),
    metadata,
    addressType: mostly(fc.constantFrom('IPv4', 'IPv6', 'FQDN'), fc.constant('ipv4'), fc.integer()),
    endpoints: maybe(
      mostly(
        fc.array(
          mostly(
            withPresence(
              rec({
                addresses: maybe(mostly(fc.array(mostly(address, fc.constant('db.example'), fc.integer()), { maxLength: 3 }), odd)),
                conditions: maybe(mostly(withPresence(rec({ ready: maybe(mostly(fc.boolean(), fc.integer())), serving: maybe(fc.boolean()) })), odd)),
                nodeName: maybe(mostly(fc.string({ maxLength: 5 }), fc.integer())),
                zone: maybe(fc.string({ maxLength: 3 })),
              }),
            ),
            odd,
          ),
          { maxLength: 3 },
        ),
        odd,
      ),
    ),
  }),
);

const asNumber = mostly(
  fc.integer({ min: -2, max: 4294967297 }),
  fc.constantFrom('64512', '065000', '4294967295', '4294967296', '1.10', ' 64512', '-1', '', '1e3'),
  fc.double({ noNaN: false }),
);
const calicoNode = withPresence(
  rec({
    kind: fc.constant('Node'),
    apiVersion: fc.constant('projectcalico.org/v3'),
    metadata,
    spec: maybe(
      mostly(
        withPresence(
          rec({
            bgp: maybe(
              mostly(
                withPresence(
                  rec({
                    ipv4Address: maybe(mostly(fc.oneof(ipv4, ipv4.map((a) => `${a}/24`)), address, fc.constant('10.0.0.1/33'), fc.integer())),
                    ipv6Address: maybe(mostly(fc.oneof(ipv6, ipv6.map((a) => `${a}/64`)), address, fc.integer())),
                    asNumber: maybe(asNumber),
                    routeReflectorClusterID: maybe(mostly(fc.oneof(ipv4, fc.constant('224.0.0.1')), fc.constantFrom('1.2.3', '01.2.3.4', 'fd00::1'), fc.integer())),
                  }),
                ),
                odd,
              ),
            ),
            orchRefs: maybe(fc.constant([{ nodeName: 'x', orchestrator: 'k8s' }])),
          }),
        ),
        odd,
      ),
    ),
  }),
);

/** Holds a reader against its schema on one object. */
function sameAsSchema(read: (o: Record<string, unknown>) => unknown, schema: { safeParse: (o: unknown) => { success: boolean; data?: unknown } }, obj: Record<string, unknown>): boolean {
  const plain = read(obj);
  const parsed = schema.safeParse(obj);
  if (plain === undefined) return false;
  assert.ok(parsed.success, `the reader accepted what the schema refuses: ${JSON.stringify(obj)}`);
  assert.deepStrictEqual(plain, parsed.data);
  assert.equal(JSON.stringify(plain), JSON.stringify(parsed.data), 'the same key order');
  return true;
}

const readers = [
  { kind: 'Service', read: plainService, schema: Service, arb: service },
  { kind: 'EndpointSlice', read: plainEndpointSlice, schema: EndpointSlice, arb: endpointSlice },
  { kind: 'Node', read: plainNode, schema: Node, arb: calicoNode },
] as const;

describe('common-form readers', () => {
  for (const { kind, read, schema, arb } of readers) {
    test(`${kind}: whatever the reader accepts reads exactly as the schema reads it`, () => {
      let accepted = 0;
      fc.assert(
        fc.property(arb, (obj) => {
          if (sameAsSchema(read, schema, obj)) accepted++;
        }),
        { numRuns: 3000 },
      );
      // The property means little if the reader refused (almost) everything.
      assert.ok(accepted > 100, `only ${accepted} of 3000 accepted`);
    });
  }

  test('the usual forms are read without the schema: generated clusters and what an API server stores', () => {
    const docs = generateDocuments(200, 'rr', 1) as Record<string, unknown>[];
    const byKind = (k: string) => docs.filter((d) => d.kind === k);
    const stored: Record<string, unknown> = {
      kind: 'Service',
      apiVersion: 'v1',
      metadata: { name: 'web', namespace: 'default', uid: 'fake-uid', resourceVersion: '42', creationTimestamp: '2026-01-01T00:00:00Z', labels: { app: 'web' }, managedFields: [{ manager: 'kubectl' }] },
      spec: { type: 'LoadBalancer', clusterIP: '10.96.0.10', clusterIPs: ['10.96.0.10', 'fd00:96::a'], ipFamilies: ['IPv4', 'IPv6'], ipFamilyPolicy: 'PreferDualStack', externalTrafficPolicy: 'Local', ports: [{ port: 80, protocol: 'TCP', targetPort: 8080 }], selector: { app: 'web' }, sessionAffinity: 'None' },
      status: { loadBalancer: { ingress: [{ ip: '192.0.2.10', ipMode: 'VIP' }] } },
    };
    for (const [kind, read, schema] of [['Service', plainService, Service], ['EndpointSlice', plainEndpointSlice, EndpointSlice], ['Node', plainNode, Node]] as const) {
      const objs = byKind(kind);
      assert.ok(objs.length > 0, kind);
      for (const o of objs) assert.ok(sameAsSchema(read, schema, o), `${kind} ${JSON.stringify(o).slice(0, 200)} took the schema path`);
    }
    assert.ok(sameAsSchema(plainService, Service, stored));
    assert.deepEqual((documentToResource(stored).resource as Service).spec.clusterIPs, ['10.96.0.10', 'fd00:96::a']);
  });

  test('what a reader refuses still gets the schema reading and its problems, naming the object and field', () => {
    const r = documentToResource({ kind: 'Service', apiVersion: 'v1', metadata: { name: 'web', namespace: 'default' }, spec: { clusterIP: '10.0.0.256' } }, 'svc.yaml');
    assert.equal(r.resource, undefined);
    assert.equal(r.diagnostics.length, 1);
    assert.equal(r.diagnostics[0]!.object, 'Service/default/web');
    assert.equal(r.diagnostics[0]!.field, 'spec.clusterIP');
    // A null where the reader expects a value: the schema reads it (and accepts it).
    const n = documentToResource({ kind: 'Service', apiVersion: 'v1', metadata: { name: 'web', namespace: null }, spec: null });
    assert.ok(n.resource && n.diagnostics.length === 0);
  });
});

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { ipv4Value, isIp } from '../src/model/common.js';
import { networkContains, parseIp, parseNetwork } from '../src/render/addresses.js';

// IPv4 text is read character by character (every address of a cluster passes there). The
// reference here is the plain statement of the rule: four parts of one to three digits, each at
// most 255, leading zeros allowed and dropped in the normal form.
function reference(text: string): number[] | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  const parts = m ? m.slice(1).map(Number) : null;
  return parts && parts.every((p) => p <= 255) ? parts : null;
}

/** Dotted quads, near misses (256, four digits, leading zeros, missing or extra parts) and noise. */
const part = fc.oneof(fc.integer({ min: 0, max: 255 }).map(String), fc.constantFrom('256', '999', '0000', '00', '007', '1000', ''), fc.integer({ min: 0, max: 255 }).map((n) => String(n).padStart(3, '0')));
const quadish = fc.oneof(
  fc.array(part, { minLength: 4, maxLength: 4 }).map((p) => p.join('.')),
  fc.array(part, { minLength: 1, maxLength: 6 }).map((p) => p.join('.')),
  fc.stringMatching(/^[0-9.:a-f/x ]{0,16}$/),
);

describe('IPv4 addresses', () => {
  test('a dotted quad is read as the rule says: value, validity and normal form', () => {
    fc.assert(
      fc.property(quadish, (text) => {
        const ref = reference(text);
        const value = ipv4Value(text);
        assert.equal(value, ref ? ((ref[0]! * 256 + ref[1]!) * 256 + ref[2]!) * 256 + ref[3]! : -1, text);
        if (!text.includes(':')) assert.equal(isIp(text), ref !== null, text);
        const parsed = parseIp(text);
        if (ref) assert.deepEqual(parsed, { family: 'ipv4', text: ref.join('.') });
        else if (!text.includes(':')) assert.equal(parsed, null, text);
      }),
      { numRuns: 5000 },
    );
  });

  test('a network is masked to its length, and an address lies in the networks that hold it', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 4, maxLength: 4 }), fc.integer({ min: 0, max: 32 }), fc.boolean(), (octets, length, padded) => {
        const text = octets.map((o) => (padded ? String(o).padStart(3, '0') : String(o))).join('.');
        const net = parseNetwork(`${text}/${length}`)!;
        const bits = octets.map((o) => o.toString(2).padStart(8, '0')).join('');
        const maskedBits = bits.slice(0, length).padEnd(32, '0');
        const masked = [0, 8, 16, 24].map((i) => parseInt(maskedBits.slice(i, i + 8), 2)).join('.');
        assert.deepEqual(net, { family: 'ipv4', address: octets.join('.'), cidr: `${masked}/${length}`, length });
        assert.ok(networkContains(net, parseIp(text)!));
        // Flipping the last bit inside the prefix moves the address out of the network.
        if (length > 0) {
          const flipped = bits.slice(0, length - 1) + (bits[length - 1] === '0' ? '1' : '0') + bits.slice(length);
          const other = [0, 8, 16, 24].map((i) => parseInt(flipped.slice(i, i + 8), 2)).join('.');
          assert.equal(networkContains(net, parseIp(other)!), false);
        }
      }),
      { numRuns: 2000 },
    );
  });

  test('an IPv4-mapped IPv6 address is its IPv4 address', () => {
    assert.deepEqual(parseIp('::ffff:10.0.0.1'), { family: 'ipv4', text: '10.0.0.1' });
    assert.deepEqual(parseNetwork('::ffff:10.0.0.1/24'), { family: 'ipv4', address: '10.0.0.1', cidr: '10.0.0.0/24', length: 24 });
    assert.deepEqual(parseIp('::fffe:a00:1'), { family: 'ipv6', text: '::fffe:a00:1' });
  });
});

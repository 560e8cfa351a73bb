import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { lstatSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { birdItems, readBirdConfig } from '../src/inspect/bird-config.js';
import type { RenderSettings as RenderOptions } from '../src/watch/template-files.js';
import { reloadImpact, type ProtocolImpact } from '../src/inspect/reload-impact.js';
import { BLOCK_DIFF_LINES, unifiedDiff } from '../src/inspect/unified-diff.js';
import { BirdControl } from '../src/watch/bird-control.js';
import { BirdLab, established, labAvailable, protocolsOf, sleep } from './helpers/bird-lab.js';
import { renderYaml, runCli, writeFiles } from './helpers/run-cli.js';
import { y } from './helpers/snap.js';

const canary = 'canary-Secret-7f3a';
const nodes = y.node('a', '{ipv4Address: 10.0.0.1/24}') + y.node('b', '{ipv4Address: 10.0.0.2/24}');
const tor = (extra = '') => y.peer('tor', `{node: a, peerIP: 10.0.0.254, asNumber: 65000${extra}}`);
const withPassword = (value: string) => tor(', password: {secretKeyRef: {name: s, key: k}}') + y.secret('s', `{k: ${value}}`);

/** The impact on node a of going from manifests `from` to `to`, as `protocol impact reasons` (Calico v3.17 output unless asked). */
function impact(from: string, to: string, options: { before?: RenderOptions; after?: RenderOptions } = {}, calicoVersion: '3.17' | '3.32' = '3.17'): { protocols: Record<string, string>; notes: readonly string[]; raw: readonly ProtocolImpact[] } {
  const r = reloadImpact(renderYaml(from, 'a', { calicoVersion, ...options.before }), renderYaml(to, 'a', { calicoVersion, ...options.after }));
  const protocols: Record<string, string> = {};
  for (const p of r.protocols) protocols[`${p.daemon}/${p.protocol}`] = [p.impact, ...p.reasons].join(' | ');
  return { protocols, notes: r.notes, raw: r.protocols };
}

describe('reload impact classification (table)', () => {
  const cases: { name: string; from: string; to: string; options?: { before?: RenderOptions; after?: RenderOptions }; expect: Record<string, string>; notes?: RegExp[] }[] = [
    { name: 'no change', from: nodes + tor(), to: nodes + tor(), expect: { 'bird/Mesh_10_0_0_2': 'unaffected', 'bird/Node_10_0_0_254': 'unaffected' } },
    { name: 'a node joins: its mesh session is added', from: nodes, to: nodes + y.node('c', '{ipv4Address: 10.0.0.3/24}'), expect: { 'bird/Mesh_10_0_0_2': 'unaffected', 'bird/Mesh_10_0_0_3': 'added' } },
    { name: 'a BGPPeer is deleted: its session is removed', from: nodes + tor(), to: nodes, expect: { 'bird/Mesh_10_0_0_2': 'unaffected', 'bird/Node_10_0_0_254': 'removed' } },
    {
      name: 'an option of one protocol (keepOriginalNextHop) restarts only that session',
      from: nodes + tor(),
      to: nodes + tor(', keepOriginalNextHop: true'),
      expect: { 'bird/Mesh_10_0_0_2': 'unaffected', 'bird/Node_10_0_0_254': 'restarted | added: next hop keep' },
    },
    {
      name: 'a changed password restarts the session and is never shown',
      from: nodes + withPassword('old-secret-1'),
      to: nodes + withPassword(canary),
      expect: { 'bird/Mesh_10_0_0_2': 'unaffected', 'bird/Node_10_0_0_254': 'restarted | password changed' },
    },
    {
      name: 'a changed password in the separate password file restarts the session too',
      from: nodes + withPassword('old-secret-1'),
      to: nodes + withPassword(canary),
      options: { before: { passwords: 'separate-file' }, after: { passwords: 'separate-file' } },
      expect: { 'bird/Mesh_10_0_0_2': 'unaffected', 'bird/Node_10_0_0_254': 'restarted | password changed' },
    },
    {
      name: 'the router id restarts every session',
      from: nodes + tor(),
      to: nodes + tor(),
      options: { after: { routerId: '192.0.2.1' } },
      expect: { 'bird/Mesh_10_0_0_2': 'restarted | router id changed: 10.0.0.1 -> 192.0.2.1', 'bird/Node_10_0_0_254': 'restarted | router id changed: 10.0.0.1 -> 192.0.2.1' },
    },
    {
      name: 'a template option (the global AS) restarts every session',
      from: nodes + y.config('{asNumber: 64512}'),
      to: nodes + y.config('{asNumber: 64513}'),
      expect: { 'bird/Mesh_10_0_0_2': 'restarted | changed: local as 64512 -> local as 64513 | changed: neighbor 10.0.0.2 as 64512 -> neighbor 10.0.0.2 as 64513' },
    },
    {
      name: 'an IP pool changes the export filter only: routes re-announced, sessions kept',
      from: nodes + tor(),
      to: nodes + tor() + y.pool('p', '{cidr: 10.244.0.0/16, vxlanMode: Always}'),
      expect: {
        'bird/Mesh_10_0_0_2': 'unaffected | export filter calico_export_to_bgp_peers changed: routes re-announced, session kept',
        'bird/Node_10_0_0_254': 'unaffected | export filter calico_export_to_bgp_peers changed: routes re-announced, session kept',
      },
      notes: [/^bird: protocol kernel1: export filter calico_kernel_programming changed: routes re-exported$/],
    },
    {
      name: 'a block changes a function the export filter calls (and the static routes): sessions kept',
      from: nodes,
      to: nodes + y.block('ba', '{node: a, cidr: 10.244.1.0/26, state: confirmed}'),
      expect: { 'bird/Mesh_10_0_0_2': 'unaffected | export filter calico_export_to_bgp_peers changed: routes re-announced, session kept' },
      notes: [/^bird: protocol static1 added$/],
    },
    {
      name: 'the log level changes debug statements only: applied in place',
      from: nodes + y.config('{logSeverityScreen: Info}'),
      to: nodes + y.config('{logSeverityScreen: Debug}'),
      expect: { 'bird/Mesh_10_0_0_2': 'unaffected | changed: debug { states } -> debug all' },
      notes: [/^bird: protocol device1 changed$/, /^bird: protocol direct1 changed$/],
    },
    {
      name: 'this node\'s listen port: no session restart, but a note that BIRD 1.6 needs a restart for it',
      from: nodes,
      to: nodes + y.config('{listenPort: 1790}', 'node.a'),
      expect: { 'bird/Mesh_10_0_0_2': 'unaffected' },
      notes: [/^bird: listen setting changed \(default -> listen bgp port 1790\); BIRD 1\.6 keeps its listening socket on a reload, so it takes effect only when bird restarts$/],
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const r = impact(c.from, c.to, c.options);
      const ipv4 = Object.fromEntries(Object.entries(r.protocols).filter(([k]) => k.startsWith('bird/')));
      assert.deepEqual(ipv4, c.expect);
      assert.equal(r.notes.filter((n) => n.startsWith('bird:')).length, (c.notes ?? []).length, r.notes.join('\n'));
      for (const re of c.notes ?? []) assert.ok(r.notes.some((n) => re.test(n)), `no note ${re} in ${r.notes.join('\n')}`);
      assert.ok(!JSON.stringify(r).includes(canary), 'a secret leaked into the impact');
    });
  }

  test('Calico v3.32 output: an inline export filter whose function changed keeps the session; session options restart it', () => {
    const pool = y.pool('p', '{cidr: 10.244.0.0/16, vxlanMode: Always}');
    const kept = impact(nodes + tor(), nodes + tor() + pool, {}, '3.32');
    assert.equal(kept.protocols['bird/Mesh_10_0_0_2'], 'unaffected | export filter changed: routes re-announced, session kept');
    assert.equal(kept.protocols['bird/Node_10_0_0_254'], 'unaffected | export filter changed: routes re-announced, session kept');
    const ttl = impact(nodes + tor(), nodes + tor(', ttlSecurity: 2'), {}, '3.32');
    assert.equal(ttl.protocols['bird/Node_10_0_0_254'], 'restarted | changed: multihop -> multihop 2 | changed: ttl security off -> ttl security on');
    const priority = impact(nodes + tor(), nodes + tor() + y.config('{ipv4NormalRoutePriority: 100}'), {}, '3.32');
    assert.match(priority.protocols['bird/Node_10_0_0_254']!, /^unaffected \| (import|export) filter changed/);
  });

  test('IPv6 sessions are classified for bird6', () => {
    const v6 = y.node('a', '{ipv6Address: "fd00::1/64"}') + y.node('b', '{ipv6Address: "fd00::2/64"}');
    const r = impact(v6, v6 + y.node('c', '{ipv6Address: "fd00::3/64"}'));
    assert.deepEqual(r.protocols, { 'bird6/Mesh_fd00__2': 'unaffected', 'bird6/Mesh_fd00__3': 'added' });
  });
});

describe('BIRD config reader', () => {
  test('comments and strings do not confuse blocks; unnamed protocols are numbered per type as BIRD does', () => {
    const text = [
      '# comment with { brace',
      'router id 10.0.0.1; /* block comment ; } */',
      'define p1 = "a;b{c}";',
      'protocol kernel { learn; }',
      'protocol kernel { persist; }',
      'protocol static { route 10.0.0.0/8 blackhole; }',
      'template bgp t { local as 1; debug { states }; }',
      'protocol bgp X from t { neighbor 10.0.0.2 as 2; password "x}y;"; }',
      'function f () { if net ~ 10.0.0.0/8 then { accept; } }',
    ].join('\n');
    assert.equal(birdItems(text).length, 8);
    const c = readBirdConfig(new Map([['bird.cfg', text]]), 'bird.cfg');
    assert.equal(c.routerId, '10.0.0.1');
    assert.equal(c.defines.get('p1'), '"a;b{c}"');
    assert.deepEqual(c.protocols.map((p) => p.name), ['kernel1', 'kernel2', 'static1', 'X']);
    assert.deepEqual(c.protocols[3]!.statements, ['neighbor 10.0.0.2 as 2', 'password "x}y;"']);
    assert.deepEqual(c.templates.get('t')?.statements, ['local as 1', 'debug { states }']);
    assert.equal(c.functions.get('f'), 'if net ~ 10.0.0.0/8 then { accept; }');
  });

  test('includes are expanded by name; a missing one is reported', () => {
    const c = readBirdConfig(new Map([['bird.cfg', 'include "x.cfg"; include "gone.cfg"; router id 1.1.1.1;'], ['x.cfg', 'filter f { accept; }']]), 'bird.cfg');
    assert.deepEqual([...c.filters.keys()], ['f']);
    assert.deepEqual(c.missingIncludes, ['gone.cfg']);
  });
});

/** Applies a unified diff (our format) to `before`; throws when a context or removed line does not match. */
function applyUnified(before: string, diff: string): string {
  const old = before === '' ? [] : before.replace(/\n$/, '').split('\n');
  const out: string[] = [];
  let at = 0;
  for (const hunk of diff.split(/^(?=@@ )/m).slice(1)) {
    const [header, ...body] = hunk.replace(/\n$/, '').split('\n');
    const start = Number(/^@@ -(\d+)/.exec(header!)![1]);
    const from = old.length === 0 ? 0 : body.some((l) => l[0] !== '+') ? start - 1 : start;
    while (at < from) out.push(old[at++]!);
    for (const line of body) {
      if (line[0] === '+') out.push(line.slice(1));
      else {
        assert.equal(old[at], line.slice(1), `hunk ${header} does not match line ${at + 1}`);
        if (line[0] === ' ') out.push(old[at]!);
        at++;
      }
    }
  }
  while (at < old.length) out.push(old[at++]!);
  return out.map((l) => `${l}\n`).join('');
}

/** The length of a longest common subsequence (the edit is minimal when it changes n + m - 2 * lcs lines). */
function lcs(a: readonly string[], b: readonly string[]): number {
  let prev = new Array<number>(b.length + 1).fill(0);
  for (const x of a) {
    const row = [0];
    for (let j = 0; j < b.length; j++) row.push(x === b[j] ? prev[j]! + 1 : Math.max(prev[j + 1]!, row[j]!));
    prev = row;
  }
  return prev[b.length]!;
}

describe('unified diff', () => {
  const text = fc.array(fc.constantFrom('a', 'b', 'c', 'protocol x {', '}', ''), { maxLength: 40 }).map((ls) => ls.map((l) => `${l}\n`).join(''));
  const lines = (t: string) => (t === '' ? [] : t.replace(/\n$/, '').split('\n'));

  test('a minimal edit that turns the old text into the new one', () => {
    fc.assert(
      fc.property(text, text, (a, b) => {
        const d = unifiedDiff(a, b, { old: 'a', new: 'b' });
        if (a === b) return assert.equal(d, '');
        assert.ok(d.startsWith('--- a\n+++ b\n@@ '));
        assert.equal(applyUnified(a, d), b);
        const changed = d.split('\n').filter((l) => /^[-+](?![-+]{2} )/.test(l)).length;
        assert.equal(changed, lines(a).length + lines(b).length - 2 * lcs(lines(a), lines(b)));
      }),
      { numRuns: 2000 },
    );
  });

  /** A large config-like text: `n` peer blocks of a comment, a protocol line, options and a closing brace. */
  const blocks = (n: number, seed: number) =>
    Array.from({ length: n }, (_, i) => `# peer ${i}\nprotocol bgp Mesh_${i} from bgp_template {\n  neighbor 10.0.${i >> 8}.${i & 255} as 64512;\n  source address 10.9.${seed}.1;\n  passive on;\n}\n`);
  const large = fc.tuple(fc.integer({ min: 700, max: 900 }), fc.array(fc.tuple(fc.nat(), fc.constantFrom('edit', 'drop', 'insert', 'option')), { minLength: 1, maxLength: 40 }));

  test(`above ${BLOCK_DIFF_LINES} lines, blocks are compared first: the edit still turns the old text into the new one, as short when the changes stay inside blocks`, () => {
    fc.assert(
      fc.property(large, ([n, edits]) => {
        const before = blocks(n, 1);
        const after = before.slice();
        for (const [at, what] of edits) {
          const k = at % after.length;
          if (what === 'edit') after[k] = after[k]!.replace(/neighbor 10\.0\./, 'neighbor 10.1.');
          else if (what === 'option') after[k] = after[k]!.replace('  passive on;\n', '  passive on;\n  rr client;\n');
          else if (what === 'drop') after.splice(k, 1);
          else after.splice(k, 0, `# new peer ${at}\nprotocol bgp New_${at} {\n  neighbor 10.2.0.1 as 1;\n}\n`);
        }
        const [a, b] = [before.join(''), after.join('')];
        assert.ok(lines(a).length + lines(b).length > BLOCK_DIFF_LINES);
        const d = unifiedDiff(a, b, { old: 'a', new: 'b' });
        if (a === b) return assert.equal(d, '');
        assert.equal(applyUnified(a, d), b);
        const changed = d.split('\n').filter((l) => /^[-+](?![-+]{2} )/.test(l)).length;
        assert.equal(changed, lines(a).length + lines(b).length - 2 * lcs(lines(a), lines(b)));
      }),
      { numRuns: 15 },
    );
  });

  test("a line changed in every block of a large text (this node's own address) is one line per block", () => {
    const [a, b] = [blocks(900, 1).join(''), blocks(900, 2).join('')];
    const d = unifiedDiff(a, b, { old: 'a', new: 'b' });
    assert.equal(applyUnified(a, d), b);
    assert.equal(d.split('\n').filter((l) => /^[-+] {2}source address/.test(l)).length, 1800);
    assert.equal(d.split('\n').filter((l) => /^[-+](?![-+]{2} )/.test(l)).length, 1800);
    // Blocks removed and added in unequal numbers, each run as a whole: still a valid edit.
    const c = blocks(900, 3).slice(0, 700).join('');
    assert.equal(applyUnified(a, unifiedDiff(a, c, { old: 'a', new: 'c' })), c);
  });

  // GNU patch reads the diff as a user would; a machine without it skips this (CI must have it).
  const noPatch = spawnSync('patch', ['--version']).status === 0 || process.env.CI === 'true' ? false : 'GNU patch is not installed';
  test('GNU patch applies it', { skip: noPatch }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'bird-confd-udiff-'));
    try {
      fc.assert(
        fc.property(text, text, (a, b) => {
          fc.pre(a !== b);
          writeFileSync(join(dir, 'old'), a);
          writeFileSync(join(dir, 'diff'), unifiedDiff(a, b, { old: 'old', new: 'new' }));
          const r = spawnSync('patch', ['-s', '-o', join(dir, 'new'), join(dir, 'old'), join(dir, 'diff')], { encoding: 'utf8' });
          assert.equal(r.status, 0, r.stdout + r.stderr);
          assert.equal(readFileSync(join(dir, 'new'), 'utf8'), b);
        }),
        { numRuns: 40 },
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('bird-confd diff', () => {
  const work = mkdtempSync(join(tmpdir(), 'bird-confd-diff-'));
  after(() => rmSync(work, { recursive: true, force: true }));
  const file = (name: string, text: string) => {
    const p = join(work, name);
    writeFileSync(p, text);
    return p;
  };

  test('no change: exit 0', async () => {
    const out = join(work, 'same');
    writeFiles(out, renderYaml(nodes, 'a'));
    const r = await runCli(['diff', '-f', file('same.yaml', nodes), '--node', 'a', '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^No change/);
  });

  test('a folder in the layout watch and render --out write (links into a generation) is read through its links', async () => {
    const out = join(work, 'layout');
    const made = await runCli(['render', '-f', file('layout.yaml', nodes), '--node', 'a', '--out', out]);
    assert.equal(made.code, 0, made.stderr);
    assert.ok(lstatSync(join(out, 'bird.cfg')).isSymbolicLink());
    const r = await runCli(['diff', '-f', join(work, 'layout.yaml'), '--node', 'a', '--out', out]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^No change/);
  });

  test('changes: unified diff with passwords masked, the impact table, exit 1', async () => {
    const out = join(work, 'pw');
    writeFiles(out, renderYaml(nodes + withPassword('old-secret-1'), 'a'));
    const r = await runCli(['diff', '-f', file('pw.yaml', nodes + withPassword(canary) + y.node('c', '{ipv4Address: 10.0.0.3/24}')), '--node', 'a', '--out', out]);
    assert.equal(r.code, 1, r.stderr);
    assert.ok(!r.stdout.includes(canary) && !r.stdout.includes('old-secret-1') && !r.stderr.includes(canary), 'a password was printed');
    assert.match(r.stdout, new RegExp(`^--- ${out.replace(/[/.]/g, '\\$&')}/bird\\.cfg\\n\\+\\+\\+ rendered/bird\\.cfg\\n@@ `, 'm'));
    assert.match(r.stdout, /^- {2}password "\*\*\*";\n\+ {2}password "\*\*\*";$/m);
    assert.match(r.stdout, /^\+protocol bgp Mesh_10_0_0_3 from bgp_template \{$/m);
    assert.match(r.stdout, /^ {2}bird\s+Mesh_10_0_0_3\s+10\.0\.0\.3 as 64512\s+added$/m);
    assert.match(r.stdout, /^ {2}bird\s+Node_10_0_0_254\s+10\.0\.0\.254 as 65000\s+restarted\s+password changed$/m);
    assert.match(r.stdout, /^ {2}bird\s+Mesh_10_0_0_2\s+10\.0\.0\.2 as 64512\s+unaffected\s+no change$/m);
    assert.match(r.stdout, /sessions: 1 added, 0 removed, 1 restarted, 1 unaffected/);
    const json = await runCli(['diff', '-f', join(work, 'pw.yaml'), '--node', 'a', '--out', out, '--output', 'json']);
    assert.equal(json.code, 1);
    assert.ok(!json.stdout.includes(canary));
    const parsed = JSON.parse(json.stdout) as { changed: boolean; files: { name: string; change: string }[]; protocols: ProtocolImpact[] };
    assert.equal(parsed.changed, true);
    assert.deepEqual(parsed.files.map((f) => [f.name, f.change]), [['bird.cfg', 'changed']]);
    assert.deepEqual(parsed.protocols.map((p) => [p.protocol, p.impact]), [['Mesh_10_0_0_2', 'unaffected'], ['Mesh_10_0_0_3', 'added'], ['Node_10_0_0_254', 'restarted']]);
  });

  test('a missing --out folder is a first apply: every file and session added', async () => {
    const r = await runCli(['diff', '-f', join(work, 'same.yaml'), '--node', 'a', '--out', join(work, 'nothing-yet')]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /^--- \/dev\/null\n\+\+\+ rendered\/bird\.cfg$/m);
    assert.match(r.stdout, /^ {2}bird\s+Mesh_10_0_0_2\s+10\.0\.0\.2 as 64512\s+added$/m);
  });

  test('trouble exits 2: bad manifests, bad usage', async () => {
    const bad = await runCli(['diff', '-f', file('bad.yaml', y.peer('p', '{peerIP: nope, asNumber: 1}')), '--node', 'a', '--out', join(work, 'same')]);
    assert.equal(bad.code, 2, bad.stdout + bad.stderr);
    assert.equal((await runCli(['diff', '--node', 'a'])).code, 2);
  });
});

/**
 * The classification against BIRD 1.6 itself: two BIRDs in network namespaces with an eBGP
 * session configured by node-specific BGPPeers on both sides. A filter-only change must keep the
 * session (same state, same "since"); an option change and a router id change must restart it.
 */
for (const [calicoVersion, subnet] of [['3.17', 2], ['3.32', 12]] as const) describe(`reload impact against real BIRD (Calico ${calicoVersion} output)`, { skip: labAvailable() ?? false }, () => {
  const lab = new BirdLab(`d${subnet}`, subnet);
  const [ipA, ipB] = lab.addresses;
  const name = `Node_${ipB.replace(/\./g, '_')}`;
  const cluster = (abExtra = '') =>
    y.config('{nodeToNodeMeshEnabled: false}') +
    y.node('a', `{ipv4Address: ${ipA}/24, asNumber: 65001}`) +
    y.node('b', `{ipv4Address: ${ipB}/24, asNumber: 65002}`) +
    y.peer('ab', `{node: a, peerIP: ${ipB}, asNumber: 65002${abExtra}}`) +
    y.peer('ba', `{node: b, peerIP: ${ipA}, asNumber: 65001}`);
  const outA = join(lab.dir, 'out-a');
  let sockA = '';
  let current = new Map<string, string>();

  /** Renders a's files, classifies the change, writes them and reloads BIRD; returns the impact on the session. */
  async function apply(yaml: string, options: RenderOptions = {}): Promise<ProtocolImpact> {
    const next = renderYaml(yaml, 'a', { calicoVersion, ...options });
    const p = reloadImpact(current, next).protocols.find((x) => x.protocol === name)!;
    writeFiles(outA, next);
    current = next;
    const c = await BirdControl.open(sockA);
    try {
      await c.configure();
    } finally {
      c.close();
    }
    return p;
  }
  const session = async () => (await protocolsOf(sockA)).find((p) => p.name === name)!;
  /** Seconds of day of BIRD's `since` (hh:mm:ss); BIRD may print it a second apart between calls. */
  const seconds = (since: string) => since.split(':').reduce((acc, x) => acc * 60 + Number(x), 0);
  /** Seconds from `a` to `b`, across midnight too. */
  const later = (a: string, b: string) => (((seconds(b) - seconds(a)) % 86400) + 86400) % 86400;
  const same = (a: string, b: string) => Math.min(later(a, b), later(b, a)) <= 1;

  before(async () => {
    lab.setUp();
    current = renderYaml(cluster(), 'a', { calicoVersion });
    writeFiles(outA, current);
    writeFiles(join(lab.dir, 'out-b'), renderYaml(cluster(), 'b', { calicoVersion }));
    sockA = (await lab.start(0, join(outA, 'bird.cfg'), 'a')).socket;
    await lab.start(1, join(lab.dir, 'out-b', 'bird.cfg'), 'b');
  });
  after(() => lab.close());

  test('filter-only change keeps the session; option and router id changes restart it; listen port waits for a BIRD restart', async () => {
    const first = await established(sockA, name);
    assert.match(first.since, /^\d\d:\d\d:\d\d$/, 'BIRD prints since as hh:mm:ss today');
    await sleep(2500);

    // Filter only: a new pool changes calico_export_to_bgp_peers.
    const filterOnly = await apply(cluster() + y.pool('p', '{cidr: 10.244.0.0/16, vxlanMode: Always}'));
    assert.equal(filterOnly.impact, 'unaffected');
    assert.match(filterOnly.reasons.join(), calicoVersion === '3.17' ? /export filter calico_export_to_bgp_peers changed/ : /export filter changed/);
    assert.equal((await session()).bgp?.state, 'Established', 'right after the reload');
    await sleep(2500);
    const kept = await session();
    assert.equal(kept.bgp?.state, 'Established');
    assert.ok(same(first.since, kept.since), `since moved from ${first.since} to ${kept.since}`);

    // Listen port of this node: BIRD keeps the session (and its old socket) on a reload.
    const listen = await apply(cluster() + y.pool('p', '{cidr: 10.244.0.0/16, vxlanMode: Always}') + y.config('{listenPort: 1790}', 'node.a'));
    assert.equal(listen.impact, 'unaffected');
    await sleep(1000);
    const stillKept = await session();
    assert.ok(stillKept.bgp?.state === 'Established' && same(first.since, stillKept.since), `listen port change restarted the session: ${stillKept.since}`);

    // An option of the protocol: keepOriginalNextHop adds `next hop keep;`.
    const withPool = (extra = '') => cluster(extra) + y.pool('p', '{cidr: 10.244.0.0/16, vxlanMode: Always}');
    const option = await apply(withPool(', keepOriginalNextHop: true'));
    assert.equal(option.impact, 'restarted');
    assert.deepEqual(option.reasons, ['added: next hop keep']);
    assert.notEqual((await session()).bgp?.state, 'Established', 'the session restarts at once');
    const again = await established(sockA, name);
    assert.ok(later(first.since, again.since) >= 2 && !same(first.since, again.since), `since ${first.since} -> ${again.since}`);

    // The router id restarts every session.
    await sleep(1500);
    const rid = await apply(withPool(', keepOriginalNextHop: true'), { routerId: `10.77.${subnet}.11` });
    assert.equal(rid.impact, 'restarted');
    assert.deepEqual(rid.reasons, [`router id changed: ${ipA} -> 10.77.${subnet}.11`]);
    assert.notEqual((await session()).bgp?.state, 'Established', 'the session restarts at once');
    const third = await established(sockA, name);
    assert.ok(later(again.since, third.since) >= 1 && later(again.since, third.since) < 3600, `since ${again.since} -> ${third.since}`);
  });
});

import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { after, describe, test } from 'node:test';
import { computeNodeView as viewWithStore, renderNodeFiles as filesWithStore, RenderStore, type ViewOptions } from '../src/render/index.js';
import type { NodeView } from '../src/render/view/view-types.js';
import { loadTemplates } from '../src/watch/template-files.js';
import { loopPreventionRules, syncLoopPreventionRule, type IpRunner } from '../src/watch/policy-rule.js';
import { createLogger } from '../src/watch/logger.js';
import { snap, y } from './helpers/snap.js';

const computeNodeView = (s: Parameters<typeof viewWithStore>[0], node: string, options: ViewOptions = {}) => viewWithStore(s, node, options, new RenderStore());
const renderNodeFiles = (v: NodeView) => filesWithStore(v, loadTemplates({ target: 'linux' }), new RenderStore());
const felix = (mode: string) => `apiVersion: projectcalico.org/v3\nkind: FelixConfiguration\nmetadata: {name: default}\nspec: {serviceLoopPrevention: ${mode}}\n---\n`;
const base = y.config('{serviceClusterIPs: [{cidr: 10.96.0.0/16}, {cidr: "fd00:96::/112"}], serviceExternalIPs: [{cidr: 192.0.2.0/24}]}') + y.node('a', '{ipv4Address: 10.0.0.1/24, ipv6Address: "fd00::1/64"}');

describe('service loop prevention in the view', () => {
  test('Disabled by default: no extra file, no include (Calico-compatible output)', () => {
    const v = computeNodeView(snap(base), 'a').view!;
    assert.equal(v.ipv4.loopPrevention.enabled, false);
    const files = renderNodeFiles(v);
    assert.ok(!files.has('bird_loop.cfg') && !files.has('bird6_loop.cfg'));
    assert.doesNotMatch(files.get('bird.cfg')!, /bird_loop/);
  });
  test('Drop from FelixConfiguration: blackholes for cluster and external ranges, per family', () => {
    const v = computeNodeView(snap(base + felix('Drop')), 'a').view!;
    assert.deepEqual(v.ipv4.loopPrevention, { enabled: true, mode: 'Drop', kernelTable: 250, routeType: 'blackhole', routes: ['10.96.0.0/16', '192.0.2.0/24'] });
    assert.deepEqual(v.ipv6.loopPrevention.routes, ['fd00:96::/112']);
    const files = renderNodeFiles(v);
    assert.match(files.get('bird.cfg')!, /include "bird_loop\.cfg";/);
    assert.match(files.get('bird_loop.cfg')!, /route 10\.96\.0\.0\/16 blackhole;/);
    assert.match(files.get('bird_loop.cfg')!, /kernel table 250;/);
  });
  test('the option overrides FelixConfiguration; a reserved table is an error', () => {
    const v = computeNodeView(snap(base + felix('Drop')), 'a', { loopPrevention: 'Reject', loopPreventionTable: 77 }).view!;
    assert.equal(v.ipv4.loopPrevention.routeType, 'unreachable');
    assert.equal(v.ipv4.loopPrevention.kernelTable, 77);
    assert.equal(computeNodeView(snap(base + felix('Drop')), 'a', { loopPrevention: 'Disabled' }).view!.ipv4.loopPrevention.enabled, false);
    const bad = computeNodeView(snap(base + felix('Drop')), 'a', { loopPreventionTable: 254 });
    assert.ok(bad.diagnostics.some((d) => d.severity === 'error' && /not 253-255/.test(d.message)));
  });
});

describe('the after-render step runs `ip` only where a rule is wanted or may be left over', () => {
  /** An `ip` that records its calls and answers `rule show` with the rules it holds. */
  const recordingIp = () => {
    const calls: string[] = [];
    const rules = new Set<string>();
    const ip: IpRunner = async (args) => {
      calls.push(args.join(' '));
      const family = args.find((a) => a === '-4' || a === '-6')!;
      const verb = args[args.indexOf('rule') + 1];
      const table = args[args.indexOf('lookup') + 1];
      if (verb === 'show') return [...rules].filter((r) => r.startsWith(family)).map((r) => `1000:\tnot from all iif lo lookup ${r.split(' ')[1]}`).join('\n');
      if (verb === 'add') rules.add(`${family} ${table}`);
      if (verb === 'del') rules.delete(`${family} ${table}`);
      return '';
    };
    return { calls, ip };
  };
  const logger = createLogger('error');
  const viewOf = (mode: string) => computeNodeView(snap(base + felix(mode)), 'a').view!;

  test('Disabled from the start: `ip` is never run (a pod without iproute2 or NET_ADMIN works)', async () => {
    const { calls, ip } = recordingIp();
    const step = loopPreventionRules(logger, new Set(['bird.cfg', 'bird6.cfg']), ip);
    await step(viewOf('Disabled'));
    await step(viewOf('Disabled'));
    assert.deepEqual(calls, []);
  });

  test('Drop adds the rules; a later Disabled removes them once, then `ip` is not run again', async () => {
    const { calls, ip } = recordingIp();
    const step = loopPreventionRules(logger, new Set(), ip);
    await step(viewOf('Drop'));
    assert.deepEqual(calls, ['-N -4 rule show', '-4 rule add not iif lo lookup 250 priority 1000', '-N -6 rule show', '-6 rule add not iif lo lookup 250 priority 1000']);
    calls.length = 0;
    await step(viewOf('Disabled'));
    assert.deepEqual(calls, ['-N -4 rule show', '-4 rule del priority 1000 not iif lo lookup 250', '-N -6 rule show', '-6 rule del priority 1000 not iif lo lookup 250']);
    calls.length = 0;
    await step(viewOf('Disabled'));
    assert.deepEqual(calls, []);
  });

  test('Disabled with a loop file in place (an earlier run had it on): that family\'s rule is looked for and removed', async () => {
    const { calls, ip } = recordingIp();
    const step = loopPreventionRules(logger, new Set(['bird.cfg', 'bird_loop.cfg']), ip);
    await step(viewOf('Disabled'));
    assert.deepEqual(calls, ['-N -4 rule show']);
    await step(viewOf('Disabled'));
    assert.deepEqual(calls, ['-N -4 rule show'], 'looked for once');
  });

  test('a failed removal is tried again on the next render', async () => {
    let fail = true;
    const calls: string[] = [];
    const ip: IpRunner = async (args) => {
      calls.push(args.join(' '));
      if (fail) throw new Error('ip: Operation not permitted');
      return '';
    };
    const step = loopPreventionRules(logger, new Set(['bird_loop.cfg']), ip);
    await assert.rejects(step(viewOf('Disabled')), /not permitted/);
    fail = false;
    await step(viewOf('Disabled'));
    assert.deepEqual(calls, ['-N -4 rule show', '-N -4 rule show']);
  });
});

const root = process.getuid?.() === 0 && spawnSync('ip', ['netns', 'list']).status === 0;
const ns = `bcl-lp-${process.pid}`;
after(() => {
  if (root) spawnSync('ip', ['netns', 'del', ns]);
});

describe('the policy rule', { skip: root ? false : 'needs root and ip netns' }, () => {
  const inNs: IpRunner = (args) =>
    new Promise((resolve, reject) => execFile('ip', ['-n', ns, ...args], (err, out, errOut) => (err ? reject(new Error(errOut)) : resolve(out))));
  const count = async (fam: 4 | 6) => (await inNs([`-${fam}`, 'rule', 'show'])).split('\n').filter((l) => /not .*iif lo lookup 250\b/.test(l)).length;
  test('is added once, kept idempotently, and removed when disabled', async () => {
    assert.equal(spawnSync('ip', ['netns', 'add', ns]).status, 0);
    assert.equal(await syncLoopPreventionRule(true, 250, 4, inNs), 'added');
    assert.equal(await syncLoopPreventionRule(true, 250, 4, inNs), 'present');
    assert.equal(await count(4), 1);
    assert.equal(await syncLoopPreventionRule(true, 250, 6, inNs), 'added');
    assert.equal(await count(6), 1);
    assert.equal(await syncLoopPreventionRule(false, 250, 4, inNs), 'removed');
    assert.equal(await count(4), 0);
    assert.equal(await syncLoopPreventionRule(false, 250, 4, inNs), 'absent');
  });

  test("a changed table replaces the old table's rule (none is left behind), also when turned off", async () => {
    const ours = async (fam: 4 | 6) => (await inNs(['-N', `-${fam}`, 'rule', 'show'])).split('\n').filter((l) => /^1000:\s+not from all iif lo lookup /.test(l));
    assert.equal(await syncLoopPreventionRule(true, 250, 4, inNs), 'added');
    assert.equal(await syncLoopPreventionRule(true, 251, 4, inNs), 'added');
    assert.deepEqual((await ours(4)).map((l) => l.split('lookup ')[1]), ['251']);
    assert.equal(await syncLoopPreventionRule(true, 251, 4, inNs), 'present');
    await inNs(['-4', 'rule', 'add', 'not', 'iif', 'lo', 'lookup', '250', 'priority', '1000']);
    assert.equal(await syncLoopPreventionRule(true, 251, 4, inNs), 'replaced');
    assert.deepEqual((await ours(4)).map((l) => l.split('lookup ')[1]), ['251']);
    // Another table again, then off with the new number while the old rule is still there (a crash between).
    await inNs(['-4', 'rule', 'add', 'not', 'iif', 'lo', 'lookup', '250', 'priority', '1000']);
    assert.equal(await syncLoopPreventionRule(false, 252, 4, inNs), 'removed');
    assert.deepEqual(await ours(4), []);
    // A table named in rt_tables is still recognised (-N): no duplicate is added.
    assert.equal(await syncLoopPreventionRule(true, 255, 4, inNs), 'added');
    assert.equal(await syncLoopPreventionRule(true, 255, 4, inNs), 'present');
    assert.equal((await ours(4)).length, 1);
    assert.equal(await syncLoopPreventionRule(false, 255, 4, inNs), 'removed');
  });
});

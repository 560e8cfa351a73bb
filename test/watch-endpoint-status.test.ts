/**
 * Local workload peering in `watch` (Calico v3.32): Felix's endpoint-status files in
 * `$CALICO_ENDPOINT_STATUS_PATH_PREFIX/endpoint-status/` are a source of their own; a file with a
 * bgpPeerName adds a passive `Local_Workload_*` session for the BGPPeer it names, removing the
 * file removes it, a file that does not parse is reported and its last good version stays.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { createEndpointStatusSource, endpointStatusDir } from '../src/watch/endpoint-status-source.js';
import type { SourceEvent } from '../src/watch/source.js';
import { y } from './helpers/snap.js';
import { filesIn, startWatch, until, type WatchProcess } from './helpers/watch.js';

const work = mkdtempSync(join(tmpdir(), 'bird-confd-epstatus-'));
const running: WatchProcess[] = [];
after(async () => {
  for (const w of running) await w.stop();
  rmSync(work, { recursive: true, force: true });
});

const manifests =
  y.node('a', '{ipv4Address: 10.0.0.1/24, ipv6Address: "fd00::1/64"}') +
  y.node('b', '{ipv4Address: 10.0.0.2/24}') +
  y.peer('pods', '{localWorkloadSelector: "has(bgp-speaker)", asNumber: 65010}');

/** Felix's form of a status file (its JSON field names), for the workload `pod` peering with `peer`. */
function statusFile(ip: string, peer = 'pods', ip6?: string): string {
  return JSON.stringify({ ifaceName: 'cali12345', mac: 'ee:ee:ee:ee:ee:ee', ipv4Nets: [`${ip}/32`], ...(ip6 ? { ipv6Nets: [`${ip6}/128`] } : {}), bgpPeerName: peer });
}

/** Starts a watch process on a fresh folder; `files` (name to text) are in the status folder before it starts, none means no folder. */
function startIn(name: string, files: Record<string, string> | null, args: readonly string[] = []): { w: WatchProcess; out: string; statusDir: string; bird: (file?: string) => string } {
  const dir = join(work, name);
  const prefix = join(dir, 'run-calico');
  const statusDir = join(prefix, 'endpoint-status');
  const out = join(dir, 'out');
  mkdirSync(join(dir, 'manifests'), { recursive: true });
  writeFileSync(join(dir, 'manifests', 'cluster.yaml'), manifests);
  if (files) mkdirSync(statusDir, { recursive: true });
  for (const [file, text] of Object.entries(files ?? {})) writeFileSync(join(statusDir, file), text);
  const w = startWatch(['--datastore', 'file', '-f', join(dir, 'manifests'), '--node', 'a', '--out', out, '--debounce', '20', '--no-check', '--no-reload', ...args], { CALICO_ENDPOINT_STATUS_PATH_PREFIX: prefix });
  running.push(w);
  return { w, out, statusDir, bird: (file = 'bird.cfg') => filesIn(out).get(file) ?? '' };
}

describe('watch: endpoint-status files (local workload peering)', () => {
  test('a status file adds a Local_Workload peer, a bad one keeps the last good, removing it withdraws the peer', async () => {
    // A file present before start-up is part of the first sync: the first set already has it.
    const { w, out, statusDir, bird } = startIn('basic', { 'k8s default%2Fpod-1 eth0': statusFile('10.244.0.5', 'pods', 'fd00:244::5') });
    await until('first render', () => filesIn(out).size > 0);
    assert.match(bird(), /protocol bgp Local_Workload_10_244_0_5 from bgp_template \{/);
    assert.match(bird(), /neighbor 10\.244\.0\.5 as 65010;[\s\S]*?passive on;/);
    assert.match(bird('bird6.cfg'), /protocol bgp Local_Workload_fd00_244__5 /);

    writeFileSync(join(statusDir, 'k8s default%2Fpod-2 eth0'), statusFile('10.244.0.6'));
    await until('a second workload peers', () => /protocol bgp Local_Workload_10_244_0_6 /.test(bird()));

    // A workload Felix did not select for BGP peering (no bgpPeerName) adds nothing.
    writeFileSync(join(statusDir, 'k8s default%2Fpod-3 eth0'), JSON.stringify({ ifaceName: 'cali3', ipv4Nets: ['10.244.0.7/32'] }));
    // A half-written file is reported and skipped; pod-2's last good version stays.
    writeFileSync(join(statusDir, 'k8s default%2Fpod-2 eth0'), '{"ifaceName": "cali12345", "ipv4Ne');
    await until('the bad file is reported', () => /pod-2 eth0: not valid JSON/.test(w.output()));
    await new Promise((r) => setTimeout(r, 300));
    assert.match(bird(), /protocol bgp Local_Workload_10_244_0_6 /);
    assert.doesNotMatch(bird(), /10_244_0_7/);

    // Rewritten with a new address: the peer follows.
    writeFileSync(join(statusDir, 'k8s default%2Fpod-2 eth0'), statusFile('10.244.0.8'));
    await until('the peer follows the new address', () => /Local_Workload_10_244_0_8 /.test(bird()) && !/Local_Workload_10_244_0_6 /.test(bird()));

    rmSync(join(statusDir, 'k8s default%2Fpod-1 eth0'));
    await until('removing the file withdraws its peers', () => !/Local_Workload_10_244_0_5 /.test(bird()) && !/Local_Workload_fd00/.test(bird('bird6.cfg')));
    assert.match(bird(), /protocol bgp Local_Workload_10_244_0_8 /);

    // A file naming another BGPPeer, or one without localWorkloadSelector, peers with nothing.
    writeFileSync(join(statusDir, 'k8s default%2Fpod-4 eth0'), statusFile('10.244.0.9', 'other'));
    rmSync(join(statusDir, 'k8s default%2Fpod-2 eth0'));
    await until('the last workload peer is gone', () => !/Local_Workload_/.test(bird()));
    assert.match(w.output(), /source synced[\s\S]*endpoint-status/);
  });

  test('a folder that does not exist at start-up holds no workloads and does not hold up the first render', async () => {
    const { w, out, bird } = startIn('missing', null);
    await until('first render', () => filesIn(out).size > 0);
    assert.doesNotMatch(bird(), /Local_Workload_/);
    assert.match(w.output(), /does not exist \(yet\)/);
  });

  test('the Calico 3.17 profile reads no endpoint-status files', async () => {
    const { w, out, bird } = startIn('v317', { 'k8s default%2Fpod-1 eth0': statusFile('10.244.0.5') }, ['--calico-version', '3.17']);
    await until('first render', () => filesIn(out).size > 0);
    assert.doesNotMatch(bird(), /10\.244\.0\.5/);
    assert.doesNotMatch(w.output(), /endpoint-status/);
  });
});

describe('endpoint-status source', () => {
  test('CALICO_ENDPOINT_STATUS_PATH_PREFIX, default /var/run/calico', () => {
    assert.equal(endpointStatusDir({}), '/var/run/calico/endpoint-status');
    assert.equal(endpointStatusDir({ CALICO_ENDPOINT_STATUS_PATH_PREFIX: '/run/x' }), '/run/x/endpoint-status');
  });

  test('a folder created after start-up is found by the next listing, and its files are watched from then on', async () => {
    const statusDir = join(work, 'later', 'endpoint-status');
    const events: SourceEvent[] = [];
    const source = createEndpointStatusSource(statusDir, { pollMs: 100 });
    await source.start((e) => events.push(e));
    try {
      assert.deepEqual(events.map((e) => e.type), ['reset', 'status', 'synced']);
      mkdirSync(statusDir, { recursive: true });
      writeFileSync(join(statusDir, 'w1'), statusFile('10.244.0.5'));
      await until('the file in the new folder is upserted', () => events.some((e) => e.type === 'upsert' && e.resource.metadata.name === 'w1'));
      // Watched now, not only listed: a removal is a delete.
      rmSync(join(statusDir, 'w1'));
      await until('its removal is a delete', () => events.some((e) => e.type === 'delete' && e.id.name === 'w1'));
      const upserts = () => events.filter((e) => e.type === 'upsert').length;
      writeFileSync(join(statusDir, 'w2'), statusFile('10.244.0.6'));
      await until('w2 upserted', () => upserts() === 2);
      // An unchanged file is not read again at every listing.
      await new Promise((r) => setTimeout(r, 400));
      assert.equal(upserts(), 2);
    } finally {
      await source.stop();
    }
  });
});

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import pino from 'pino';
import type { BGPPeer } from '../src/model/bgp-peer.js';
import { Daemon } from '../src/watch/daemon.js';
import { startDriftCheck } from '../src/watch/drift.js';
import { createFileSource } from '../src/watch/file-source.js';
import type { SourceEvent } from '../src/watch/source.js';
import { FakeKubeApi } from './helpers/fake-kube-api.js';
import { y } from './helpers/snap.js';
import { filesIn, startWatch, until, type WatchProcess } from './helpers/watch.js';

const work = mkdtempSync(join(tmpdir(), 'bird-confd-races-'));
const running: WatchProcess[] = [];
after(async () => {
  for (const w of running) await w.stop();
  rmSync(work, { recursive: true, force: true });
});

const nodes = (b: string) => y.node('a', '{ipv4Address: 10.0.0.1/24}') + y.node('b', `{ipv4Address: ${b}/24}`);

describe('races', () => {
  test('a drift check never runs while a reload is in flight (they take turns)', async () => {
    const dir = join(work, 'drift');
    mkdirSync(dir);
    writeFileSync(join(dir, 'nodes.yaml'), nodes('10.0.0.2'));
    let inFlight = false;
    let reloads = 0;
    const events: string[] = [];
    const daemon = new Daemon({
      node: 'a',
      out: join(work, 'drift-out'),
      sources: [createFileSource([dir])],
      render: {},
      debounceMs: 0,
      checks: new Map(),
      // A reload that takes a while (as a safe reload waiting for sessions does).
      reload: async () => {
        inFlight = true;
        reloads++;
        events.push('reload');
        await new Promise((r) => setTimeout(r, 300));
        inFlight = false;
        return { outcome: 'reloaded' };
      },
      logger: pino({ level: 'silent' }),
    });
    // The check's timer fires many times while each reload waits.
    const stopDrift = startDriftCheck(daemon, async () => {
      events.push(inFlight ? 'check DURING a reload' : 'check');
      return [];
    }, 20, pino({ level: 'silent' }));
    try {
      await daemon.start();
      await until('both reloads (bird, bird6) done and a check after them', () => reloads === 2 && !inFlight && events.at(-1) === 'check', 10_000);
      assert.deepEqual(events.slice(0, 2), ['reload', 'reload']);
      assert.ok(!events.includes('check DURING a reload'), events.join(', '));
    } finally {
      stopDrift();
      await daemon.stop();
    }
  });

  test('the file datastore loses no edit made while its first scan runs', async () => {
    const dir = join(work, 'scan');
    mkdirSync(dir);
    writeFileSync(join(dir, 'a.yaml'), y.peer('p', '{peerIP: 192.0.2.1, asNumber: 65001}'));
    for (let i = 0; i < 20; i++) writeFileSync(join(dir, `z${i}.yaml`), y.peer(`q${i}`, `{peerIP: 192.0.2.${10 + i}, asNumber: 65001}`));
    const source = createFileSource([dir]);
    const seen: string[] = [];
    let edited = false;
    const emit = (e: SourceEvent) => {
      if (e.type !== 'upsert' || e.resource.kind !== 'BGPPeer' || e.resource.metadata.name !== 'p') return;
      seen.push((e.resource as BGPPeer).spec.peerIP ?? '');
      // The first list has just read a.yaml; it is edited before the scan of the other files ends.
      if (!edited) {
        edited = true;
        writeFileSync(join(dir, 'a.yaml'), y.peer('p', '{peerIP: 192.0.2.2, asNumber: 65001}'));
      }
    };
    try {
      await source.start(emit);
      await until('the edit arrives', () => seen.includes('192.0.2.2'), 5000);
    } finally {
      await source.stop();
    }
  });

  test('a BGPPeer edited into an invalid state and then deleted is removed (the delete goes by identity)', async () => {
    const api = new FakeKubeApi();
    await api.start();
    try {
      const kubeNode = (name: string, ip: string) => ({ metadata: { name, annotations: { 'projectcalico.org/IPv4Address': `${ip}/24` } } });
      api.set('nodes', kubeNode('a', '10.0.0.1'));
      api.set('bgppeers', { metadata: { name: 'tor' }, spec: { peerIP: '192.0.2.1', asNumber: 65001 } });
      const kubeconfig = join(work, 'kubeconfig');
      api.writeKubeconfig(kubeconfig);
      const out = join(work, 'kube-out');
      const w = startWatch(['--datastore', 'kubernetes', '--node', 'a', '--out', out, '--debounce', '0', '--no-reload', '--no-check'], { KUBECONFIG: kubeconfig, NAMESPACE: 'kube-system' });
      running.push(w);
      const peerRendered = () => /Global_192_0_2_1/.test(filesIn(out).get('bird.cfg') ?? '');
      await until('the peer is rendered', peerRendered, 20_000);
      // Invalid for the schema: the object is refused, and its last good version stays.
      api.set('bgppeers', { metadata: { name: 'tor' }, spec: { peerIP: '192.0.2.1', asNumber: 4294967296 } });
      await until('the invalid edit is reported', () => /BGPPeer\/tor: spec\.asNumber: AS number out of range/.test(w.output()), 10_000);
      assert.ok(peerRendered(), 'the last good version of the peer was withdrawn');
      api.delete('bgppeers', 'tor');
      await until('the deleted peer is withdrawn', () => !peerRendered(), 10_000);
    } finally {
      await api.close();
    }
  });
});

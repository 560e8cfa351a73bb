import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { TestEtcd } from './helpers/etcd.js';
import { FakeKubeApi } from './helpers/fake-kube-api.js';
import { filesIn, startWatch, until, type WatchProcess } from './helpers/watch.js';

const work = mkdtempSync(join(tmpdir(), 'bird-confd-outage-'));
const running: WatchProcess[] = [];
const etcds: TestEtcd[] = [];
after(async () => {
  for (const w of running) await w.stop();
  for (const e of etcds) await e.close();
  rmSync(work, { recursive: true, force: true });
});

const res = (plural: string, name: string) => `/calico/resources/v3/projectcalico.org/${plural}/${name}`;

/** A real etcd holding two nodes, and a watch daemon (info level, as deployed) following it. */
async function etcdAndWatch(name: string): Promise<{ etcd: TestEtcd; w: WatchProcess; out: string }> {
  const etcd = await TestEtcd.start();
  etcds.push(etcd);
  const client = etcd.client();
  await client.put(res('nodes', 'a')).value(JSON.stringify({ spec: { bgp: { ipv4Address: '10.0.0.1/24' } } }));
  await client.put(res('nodes', 'b')).value(JSON.stringify({ spec: { bgp: { ipv4Address: '10.0.0.2/24' } } }));
  client.close();
  const out = join(work, name);
  const w = startWatch(['--datastore', 'etcdv3', '--node', 'a', '--out', out, '--no-reload', '--no-check'], { ETCD_ENDPOINTS: etcd.endpoint });
  running.push(w);
  await until('applied', () => filesIn(out).size > 0, 20_000);
  return { etcd, w, out };
}

/** Log lines printed since `from` characters of output. */
const linesSince = (w: WatchProcess, from: number) => w.output().slice(from).split('\n').filter((l) => l.trim());

/** Ends the daemon with SIGTERM: within 2 s, exit 0, and nothing staged is left in the output folder. */
async function stopsCleanly(w: WatchProcess, out: string): Promise<void> {
  const { code, ms } = await w.stop();
  assert.equal(code, 0, w.output().slice(-2000));
  assert.ok(ms < 2000, `SIGTERM took ${Math.round(ms)} ms`);
  assert.deepEqual(readdirSync(out).filter((e) => e.startsWith('..') && e !== '..data' && !e.startsWith('..gen-')), [], 'staging debris');
  assert.equal(readdirSync(out).filter((e) => e.startsWith('..gen-')).length, 1, 'more than the current generation');
}

describe('datastore outages', () => {
  test('a 10 s etcd outage is logged once when it starts and once when it ends, with how long it lasted', async () => {
    const { etcd, w } = await etcdAndWatch('quiet');
    await new Promise((r) => setTimeout(r, 500));
    const from = w.output().length;
    const killed = Date.now();
    await etcd.kill();
    await new Promise((r) => setTimeout(r, 10_000));
    await etcd.launch();
    await until('back up', () => /"msg":"source (back up|synced)"/.test(w.output().slice(from)), 30_000);
    await new Promise((r) => setTimeout(r, 1000));
    const lines = linesSince(w, from);
    assert.ok(lines.length <= 3, `${lines.length} lines for one outage:\n${lines.join('\n')}`);
    assert.match(lines[0]!, /"level":40,.*"source":"etcdv3".*"msg":"source down: the last good files stay"/);
    const back = lines.find((l) => /"msg":"source (back up|synced)"/.test(l))!;
    const { downSeconds, time } = JSON.parse(back) as { downSeconds: number; time: number };
    assert.ok(downSeconds >= 9 && downSeconds <= (time - killed) / 1000 + 0.5, `down for ${downSeconds} s`);
  });

  test('SIGTERM with etcd unreachable ends the daemon within 2 s', async () => {
    const { etcd, w, out } = await etcdAndWatch('etcd-stop');
    await etcd.kill();
    await new Promise((r) => setTimeout(r, 3000));
    await stopsCleanly(w, out);
  });

  test('SIGTERM with the Kubernetes API unreachable ends the daemon within 2 s', async () => {
    const api = new FakeKubeApi();
    await api.start();
    api.set('nodes', { metadata: { name: 'a', annotations: { 'projectcalico.org/IPv4Address': '10.0.0.1/24' } } });
    const kubeconfig = join(work, 'kubeconfig');
    api.writeKubeconfig(kubeconfig);
    const out = join(work, 'kube-stop');
    const w = startWatch(['--datastore', 'kubernetes', '--node', 'a', '--out', out, '--no-reload', '--no-check'], { KUBECONFIG: kubeconfig, NAMESPACE: 'kube-system' });
    running.push(w);
    await until('applied', () => filesIn(out).size > 0, 20_000);
    await api.close();
    await new Promise((r) => setTimeout(r, 3000));
    await stopsCleanly(w, out);
  });
});

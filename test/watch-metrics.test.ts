import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { freePort, TestEtcd } from './helpers/etcd.js';
import { filesIn, sameFiles, startWatch, until, type WatchProcess } from './helpers/watch.js';

const work = mkdtempSync(join(tmpdir(), 'bird-confd-metrics-'));
let etcd: TestEtcd | null = null;
let w: WatchProcess | null = null;
after(async () => {
  await w?.stop();
  await etcd?.close();
  rmSync(work, { recursive: true, force: true });
});

async function get(url: string): Promise<{ status: number; body: string }> {
  const r = await fetch(url);
  return { status: r.status, body: await r.text() };
}

describe('metrics and health while watching a real etcd', () => {
  test('/metrics, /livez and /readyz follow the daemon', async () => {
    etcd = await TestEtcd.start();
    const client = etcd.client();
    const res = (plural: string, name: string) => `/calico/resources/v3/projectcalico.org/${plural}/${name}`;
    await client.put(res('nodes', 'a')).value(JSON.stringify({ spec: { bgp: { ipv4Address: '10.0.0.1/24' } } }));
    await client.put(res('nodes', 'b')).value(JSON.stringify({ spec: { bgp: { ipv4Address: '10.0.0.2/24' } } }));
    await client.put(res('bgppeers', 'tor')).value(JSON.stringify({ spec: { peerIP: '192.0.2.1', asNumber: 65001 } }));
    client.close();
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const reloads = join(work, 'reloads.log');
    const out = join(work, 'out');
    // --no-check: this is about probes and metrics, and runs also where Calico's BIRD is not built.
    w = startWatch(['--datastore', 'etcdv3', '--node', 'a', '--out', out, '--reload-cmd', `echo r >> ${reloads}`, '--reload-cmd6', `echo r6 >> ${reloads}`, '--no-check', '--metrics-address', `127.0.0.1:${port}`, '--degraded-after', '3'], { ETCD_ENDPOINTS: etcd.endpoint });
    await until('ready', async () => (await get(`${base}/readyz`).catch(() => ({ status: 0 }))).status === 200, 20_000);
    assert.equal((await get(`${base}/livez`)).status, 200);
    const m = (await get(`${base}/metrics`)).body;
    assert.match(m, /bird_confd_applies_total\{result="ok"\} 1/);
    assert.match(m, /bird_confd_renders_total\{result="ok"\} 1/);
    assert.match(m, /bird_confd_source_synced\{source="etcdv3"\} 1/);
    assert.match(m, /bird_confd_peers\{kind="mesh",family="ipv4"\} 1/);
    assert.match(m, /bird_confd_peers\{kind="global",family="ipv4"\} 1/);
    assert.match(m, /bird_confd_applied_config_info\{hash="[0-9a-f]{16}"\} 1/);
    assert.match(m, /bird_confd_last_apply_success_timestamp_seconds \d{10}/);
    assert.match(m, /bird_confd_render_duration_seconds_count 1/);

    // The datastore goes away: degraded after the threshold (live still), sync state 0; back: ready.
    await etcd.kill();
    const down = Date.now();
    await until('not ready while etcd is down', async () => (await get(`${base}/readyz`)).status === 503, 20_000);
    assert.ok(Date.now() - down >= 2500, 'degraded before the threshold');
    assert.match((await get(`${base}/readyz`)).body, /degraded: etcdv3 out of sync/);
    assert.equal((await get(`${base}/livez`)).status, 200);
    assert.match((await get(`${base}/metrics`)).body, /bird_confd_source_synced\{source="etcdv3"\} 0/);
    // A 30 s outage: files and BIRD untouched (no reload) all along.
    const files = filesIn(out);
    const reloadCount = readFileSync(reloads, 'utf8');
    while (Date.now() - down < 30_000) await new Promise((r) => setTimeout(r, 1000));
    assert.ok(sameFiles(filesIn(out), files), 'files changed during the outage');
    assert.equal(readFileSync(reloads, 'utf8'), reloadCount, 'BIRD was reloaded during the outage');
    assert.equal((await get(`${base}/readyz`)).status, 503);
    // Recovery: the node converges to a fresh render of the final state within 10 s.
    await etcd.launch();
    const c2 = etcd!.client();
    await c2.put(res('nodes', 'b')).value(JSON.stringify({ spec: { bgp: { ipv4Address: '10.0.0.7/24' } } }));
    c2.close();
    const back = Date.now();
    await until('converged after the outage', () => /neighbor 10\.0\.0\.7 as 64512;/.test(filesIn(out).get('bird.cfg') ?? ''), 10_000);
    assert.ok(Date.now() - back <= 10_000);
    await until('ready again', async () => (await get(`${base}/readyz`)).status === 200, 30_000);
  });
});

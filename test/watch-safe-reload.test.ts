import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BirdControl } from '../src/watch/bird-control.js';
import { BirdLab, established, protocolsOf, sleep, type LabBird } from './helpers/bird-lab.js';
import { calicoBird, calicoLabSkip, requireCalicoLab } from './helpers/calico-bird.js';
import { freePort } from './helpers/etcd.js';
import { runCli } from './helpers/run-cli.js';
import { y } from './helpers/snap.js';
import { startWatch, until, type WatchProcess } from './helpers/watch.js';

/**
 * The safe reload's rule on real BIRD (Calico's) in two network namespaces: node a (bird-confd's
 * BIRD) peers with a ToR whose config is written here. A change meant to drop a session (a new
 * password on bird-confd's side first) is kept; a change that drops a session whose own config
 * did not change (a new IPAM block pushes the ToR over its receive limit) is undone, reported,
 * and not tried again on the same files.
 */
const skip = calicoLabSkip();
const lab = new BirdLab('wsr', 155);
const [addrA, addrB] = lab.addresses;
const session = `Node_${addrB.replace(/\./g, '_')}`;

const cluster = (password: string, blocks: readonly string[], extra = '') =>
  extra +
  y.node('a', `{ipv4Address: ${addrA}/24}`) +
  y.peer('tor', `{node: a, peerIP: ${addrB}, asNumber: 65002, password: {secretKeyRef: {name: bgp, key: tor}}}`) +
  y.secret('bgp', `{tor: ${password}}`) +
  y.pool('pods', '{cidr: 10.244.0.0/16, ipipMode: Never}') +
  blocks.map((cidr, i) => y.block(`a-${i}`, `{node: a, cidr: ${cidr}, state: confirmed}`)).join('');

/** The ToR: one eBGP session to node a that accepts at most `limit` prefixes (then it shuts the session down). */
const tor = (password: string, limit: number | null) => `router id ${addrB};
protocol device { scan time 2; }
protocol bgp a {
  local as 65002;
  neighbor ${addrA} as 64512;
  password "${password}";
  ${limit === null ? '' : `receive limit ${limit} action disable;`}
  connect delay time 1;
  connect retry time 1;
  error wait time 1,2;
  import all;
  export none;
}
`;

/** The daemon's log lines about reloading bird (JSON), in order. */
function birdReloads(output: string): { msg: string; outcome?: string }[] {
  return output
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { msg: string; daemon?: string; outcome?: string })
    .filter((l) => l.daemon === 'bird' && (l.msg === 'reloaded' || l.msg.startsWith('reload undone')));
}

async function birdCommand(socket: string, command: string): Promise<string> {
  const c = await BirdControl.open(socket);
  try {
    return (await c.command(command)).lines.map((l) => l.text).join('\n');
  } finally {
    c.close();
  }
}

describe('safe reload: which sessions may drop (real BIRD in namespaces)', { skip }, () => {
  const dir = join(lab.dir, 'manifests');
  const out = join(lab.dir, 'out');
  const torFile = join(lab.dir, 'tor.cfg');
  let a: LabBird;
  let b: LabBird;
  let w: WatchProcess | null = null;
  let base = '';
  const watchArgs = () => ['-f', dir, '--node', 'a', '--out', out, '--socket', a.socket, '--reload-cmd6', 'true', '--check-cmd6', `${calicoBird().bird6} -p -c {file}`, '--debounce', '50', '--reload-grace', '6', '--reload-timeout', '14', '--drift-interval', '1'];
  const setCluster = (password: string, blocks: readonly string[], extra = '') => writeFileSync(join(dir, 'cluster.yaml'), cluster(password, blocks, extra));
  const setTor = async (password: string, limit: number | null) => {
    writeFileSync(torFile, tor(password, limit));
    await birdCommand(b.socket, 'configure');
  };
  const routes = async () => birdCommand(a.socket, 'show route');

  before(async () => {
    requireCalicoLab();
    lab.setUp();
    mkdirSync(dir);
    setCluster('fake-pw-1', ['10.244.1.0/26']);
    const first = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'watch', '-f', dir, '--node', 'a', '--out', out, '--oneshot', '--no-reload', '--check-cmd', `${calicoBird().bird} -p -c {file}`, '--check-cmd6', `${calicoBird().bird6} -p -c {file}`], { encoding: 'utf8' });
    assert.equal(first.status, 0, first.stderr);
    writeFileSync(torFile, tor('fake-pw-1', 1));
    a = await lab.start(0, join(out, 'bird.cfg'), 'a', calicoBird().bird);
    b = await lab.start(1, torFile, 'b', calicoBird().bird);
    await established(a.socket, session, 30_000);
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    w = startWatch([...watchArgs(), '--metrics-address', `127.0.0.1:${port}`]);
    await until('the daemon synced', () => /source synced/.test(w!.output()), 20_000);
  });
  after(async () => {
    await w?.stop();
    if (process.env.DEBUG_WATCH) process.stderr.write(w?.output() ?? '');
    await lab.close();
  });

  test('a password rotated on our side first is kept: the session stays down until the peer changes too, then comes up', async () => {
    const seen = birdReloads(w!.output()).length;
    setCluster('fake-pw-2', ['10.244.1.0/26']);
    await until('the reload settled', () => birdReloads(w!.output()).length > seen, 30_000);
    const [reload] = birdReloads(w!.output()).slice(seen);
    assert.deepEqual([reload!.msg, reload!.outcome], ['reloaded', 'confirmed']);
    assert.match(w!.output(), new RegExp(`"sessions":\\["${session}"\\],"msg":"reconfigured sessions may stay down`));
    // The peer still expects the old password: the session stays down (for longer than the grace period).
    for (let i = 0; i < 8; i++) {
      assert.notEqual((await protocolsOf(a.socket)).find((p) => p.name === session)?.bgp?.state, 'Established');
      await sleep(1000);
    }
    assert.equal(birdReloads(w!.output()).length, seen + 1, 'reloaded or undone again');
    await setTor('fake-pw-2', 1);
    await established(a.socket, session, 30_000);
    assert.doesNotMatch(w!.output(), /reload undone/);
  });

  test('a change that drops a session whose config did not change is undone, reported, and not retried on the same files', async () => {
    const seen = birdReloads(w!.output()).length;
    // A second block: two prefixes, one more than the ToR accepts; it shuts the session down. The
    // change also adds a session nobody answers: once undone, BIRD lacks it, which the drift check
    // would see as drift.
    setCluster('fake-pw-2', ['10.244.1.0/26', '10.244.2.0/26'], y.peer('nobody', '{node: a, peerIP: 10.77.155.99, asNumber: 65099}'));
    await until('the reload settled', () => birdReloads(w!.output()).length > seen, 40_000);
    const [undo] = birdReloads(w!.output()).slice(seen);
    assert.equal(undo!.msg, `reload undone: ${session} did not come back within the grace period; bird runs the previous config until the next change`);
    assert.match(w!.output(), /"level":50[^\n]*reload undone/, 'not logged as an error');
    assert.doesNotMatch(await routes(), /10\.244\.2\.0\/26/, 'BIRD runs the new config');
    assert.ok(!(await protocolsOf(a.socket)).some((p) => p.name === 'Node_10_77_155_99'), 'BIRD runs the new config');
    const metrics = await (await fetch(`${base}/metrics`)).text();
    assert.match(metrics, /bird_confd_rollbacks_total\{daemon="bird"\} 1/);
    const ready = await fetch(`${base}/readyz`);
    assert.equal(ready.status, 503);
    assert.match(await ready.text(), new RegExp(`degraded: bird runs the previous config: its reload was undone at .* \\(${session} did not come back\\)`));
    const status = await runCli(['status', '--out', out, '--socket', a.socket, '--socket6', join(lab.dir, 'no-bird6.ctl')]);
    assert.equal(status.code, 1, status.stdout + status.stderr);
    assert.match(status.stdout, new RegExp(`^bird RUNS THE PREVIOUS CONFIG: the reload of the files in .* was undone at .*, because ${session} did not come back`, 'm'));

    // No loop: neither the drift check (every second) nor anything else reloads the same files again.
    await sleep(5000);
    assert.equal(birdReloads(w!.output()).length, seen + 1, 'reloaded again on the same files');
    assert.doesNotMatch(w!.output().split('reload undone')[1]!, /drift: BIRD runs something other/);
    assert.doesNotMatch(await routes(), /10\.244\.2\.0\/26/);
    assert.ok(!(await protocolsOf(a.socket)).some((p) => p.name === 'Node_10_77_155_99'));

    // The session comes back on the previous config once the ToR is enabled again.
    await birdCommand(b.socket, 'enable a');
    await established(a.socket, session, 30_000);
    // The next change that applies ends the degraded state.
    await setTor('fake-pw-2', 2);
    setCluster('fake-pw-2', ['10.244.1.0/26', '10.244.3.0/27']);
    await until('the next reload', () => birdReloads(w!.output()).length > seen + 1, 40_000);
    assert.equal(birdReloads(w!.output()).at(-1)!.outcome, 'confirmed');
    await until('ready again', async () => (await fetch(`${base}/readyz`)).status === 200, 10_000);
    const after = await runCli(['status', '--out', out, '--socket', a.socket, '--socket6', join(lab.dir, 'no-bird6.ctl')]);
    assert.doesNotMatch(after.stdout, /PREVIOUS CONFIG/);
  });

  test('stopped during the grace period: BIRD undoes the change by its timeout; the next start notices and reloads', async () => {
    const seen = birdReloads(w!.output()).length;
    const applies = () => (w!.output().match(/"msg":"applied a new file set"/g) ?? []).length;
    const applied = applies();
    setCluster('fake-pw-2', ['10.244.1.0/26', '10.244.3.0/27', '10.244.4.0/27']);
    await until('applied', () => applies() > applied, 20_000);
    await until('the session dropped', async () => (await protocolsOf(a.socket)).find((p) => p.name === session)?.bgp?.state !== 'Established', 10_000);
    const stopped = await w!.stop();
    assert.ok(stopped.ms < 2000, `stopping took ${stopped.ms} ms`);
    assert.equal(birdReloads(w!.output()).length, seen, 'the reload settled before the stop');
    assert.match(await routes(), /10\.244\.4\.0\/27/, 'the change was not running');
    await until("BIRD's own undo", async () => !/10\.244\.4\.0\/27/.test(await routes()), 30_000);
    // The ToR accepts three prefixes now; the files on disk are the new set, BIRD runs the old one.
    await setTor('fake-pw-2', 3);
    await birdCommand(b.socket, 'enable a');
    w = startWatch(watchArgs());
    await until('the start-up reload', () => birdReloads(w!.output()).length > 0, 40_000);
    assert.match(w!.output(), /BIRD does not run the files in place; reloading/);
    assert.equal(birdReloads(w!.output())[0]!.outcome, 'confirmed');
    assert.match(await routes(), /10\.244\.4\.0\/27/);
  });
});

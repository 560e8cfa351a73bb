import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BirdLab, labAvailable, protocolsOf } from './helpers/bird-lab.js';
import { cliPath } from './helpers/calico-bird.js';
import { y } from './helpers/snap.js';
import { filesIn, startWatch, until, type WatchProcess } from './helpers/watch.js';

const skip = labAvailable();
const lab = new BirdLab('wb', 152);
const [addrA, addrB] = lab.addresses;

describe('watch reloads a real BIRD', { skip: skip ?? false }, () => {
  const dir = join(lab.dir, 'manifests');
  const out = join(lab.dir, 'out');
  let socket = '';
  let w: WatchProcess | null = null;
  before(async () => {
    lab.setUp();
    mkdirSync(dir);
    // An IP-in-IP pool, so the check and BIRD read Calico's krt_tunnel filter. No blocks, and b runs
    // no BIRD: no route through tunl0 (which this kernel cannot make) is ever installed.
    writeFileSync(join(dir, 'cluster.yaml'), y.node('a', `{ipv4Address: ${addrA}/24}`) + y.node('b', `{ipv4Address: ${addrB}/24}`) + y.pool('ipip', '{cidr: 10.244.0.0/16, ipipMode: CrossSubnet}'));
    const first = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'watch', '-f', dir, '--node', 'a', '--out', out, '--oneshot', '--no-reload'], { encoding: 'utf8', env: { PATH: cliPath() } });
    assert.equal(first.status, 0, first.stderr);
    assert.match(readFileSync(join(out, 'bird_ipam.cfg'), 'utf8'), /krt_tunnel ?= ?"tunl0";/);
    socket = (await lab.start(0, join(out, 'bird.cfg'), 'a')).socket;
  });
  after(async () => {
    await w?.stop();
    await lab.close();
  });

  test('a BGPPeer added in the datastore shows up in BIRD; a change the check rejects changes nothing', async () => {
    const marker = '203.0.113.66';
    const check = `sh -c '! grep -q ${marker} "$0" && bird -p -c "$0"' {file}`;
    w = startWatch(['-f', dir, '--node', 'a', '--out', out, '--debounce', '50', '--socket', socket, '--check-cmd', check, '--reload-grace', '5']);
    await until('the daemon synced', () => /source synced/.test(w!.output()));

    writeFileSync(join(dir, 'peer.yaml'), y.peer('tor', '{peerIP: 192.0.2.1, asNumber: 65001}'));
    await until('BIRD runs the new protocol', async () => (await protocolsOf(socket)).some((p) => p.name === 'Global_192_0_2_1'), 30_000);

    const filesBefore = filesIn(out);
    const protocolsBefore = (await protocolsOf(socket)).map((p) => p.name).sort();
    writeFileSync(join(dir, 'bad-peer.yaml'), y.peer('bad', `{peerIP: ${marker}, asNumber: 65002}`));
    await until('the check failure is reported', () => /check failed/.test(w!.output()));
    assert.deepEqual(filesIn(out), filesBefore, 'files on disk changed despite the failed check');
    assert.deepEqual((await protocolsOf(socket)).map((p) => p.name).sort(), protocolsBefore, "BIRD's running config changed");
    assert.doesNotMatch(readFileSync(join(out, 'bird.cfg'), 'utf8'), /203_0_113_66/);

    // A later valid change applies normally.
    writeFileSync(join(dir, 'bad-peer.yaml'), y.peer('bad', '{peerIP: 192.0.2.7, asNumber: 65002}'));
    await until('the next valid change is applied', async () => (await protocolsOf(socket)).some((p) => p.name === 'Global_192_0_2_7'), 30_000);
  });
});

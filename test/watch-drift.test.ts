import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BirdControl } from '../src/watch/bird-control.js';
import { BirdLab, labAvailable, protocolsOf } from './helpers/bird-lab.js';
import { cliPath } from './helpers/calico-bird.js';
import { y } from './helpers/snap.js';
import { startWatch, until, type WatchProcess } from './helpers/watch.js';

const skip = labAvailable();
const lab = new BirdLab('dr', 153);
const [addrA, addrB] = lab.addresses;

describe('the daemon finds drift and repairs it', { skip: skip ?? false }, () => {
  const dir = join(lab.dir, 'manifests');
  const out = join(lab.dir, 'out');
  let socket = '';
  let w: WatchProcess | null = null;
  before(async () => {
    lab.setUp();
    mkdirSync(dir);
    writeFileSync(join(dir, 'cluster.yaml'), y.node('a', `{ipv4Address: ${addrA}/24}`) + y.node('b', `{ipv4Address: ${addrB}/24}`) + y.peer('tor', '{peerIP: 192.0.2.1, asNumber: 65001}'));
    const first = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'watch', '-f', dir, '--node', 'a', '--out', out, '--oneshot', '--no-reload'], { encoding: 'utf8', env: { PATH: cliPath() } });
    assert.equal(first.status, 0, first.stderr);
    socket = (await lab.start(0, join(out, 'bird.cfg'), 'a')).socket;
  });
  after(async () => {
    await w?.stop();
    await lab.close();
  });

  test('a protocol removed from BIRD by hand is noticed and BIRD is reloaded with the applied files', async () => {
    w = startWatch(['-f', dir, '--node', 'a', '--out', out, '--socket', socket, '--socket6', join(lab.dir, 'no-bird6.ctl'), '--reload-mode', 'plain', '--drift-interval', '1']);
    // The first turn (which also compares what BIRD runs) is over before BIRD is changed by hand.
    await until('the first turn', () => /the files in place are up to date/.test(w!.output()));
    assert.ok((await protocolsOf(socket)).some((p) => p.name === 'Global_192_0_2_1'));
    // Someone reconfigures BIRD by hand with a config that lacks the session.
    const hand = join(lab.dir, 'hand.cfg');
    writeFileSync(hand, `router id ${addrA};\nprotocol device {}\n`);
    const c = await BirdControl.open(socket);
    try {
      await c.configure(hand);
    } finally {
      c.close();
    }
    assert.ok(!(await protocolsOf(socket)).some((p) => p.name === 'Global_192_0_2_1'), 'the hand-made change did not take');
    await until('drift is reported', () => /drift: BIRD runs something other than the applied files/.test(w!.output()), 15_000);
    await until('BIRD runs the applied files again', async () => (await protocolsOf(socket)).some((p) => p.name === 'Global_192_0_2_1'), 15_000);
  });
});

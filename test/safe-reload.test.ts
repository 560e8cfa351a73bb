import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BirdControl, BirdCommandError } from '../src/watch/bird-control.js';
import { safeReload } from '../src/watch/safe-reload.js';
import { BirdLab, established, labAvailable, protocolsOf, type LabBird } from './helpers/bird-lab.js';

const skip = labAvailable();
const lab = new BirdLab('sr', 151);
const [addrA, addrB] = lab.addresses;

/** A small BIRD config: one eBGP session with fast timers, plus `extra` statements. */
function config(self: string, peer: string, localAs: number, peerAs: number, extra = ''): string {
  return `router id ${self};
protocol device { scan time 2; }
protocol bgp up1 {
  local as ${localAs};
  neighbor ${peer} as ${peerAs};
  connect delay time 1;
  connect retry time 1;
  error wait time 1,2;
  import all;
  export none;
}
${extra}
`;
}

async function withControl<T>(bird: LabBird, fn: (c: BirdControl) => Promise<T>): Promise<T> {
  const c = await BirdControl.open(bird.socket, { timeoutMs: 10_000 });
  try {
    return await fn(c);
  } finally {
    c.close();
  }
}

describe('safe reload against real BIRD', { skip: skip ?? false }, () => {
  const fileA = join(lab.dir, 'a.conf');
  let a: LabBird;
  before(async () => {
    lab.setUp();
    writeFileSync(fileA, config(addrA, addrB, 65001, 65002));
    const fileB = join(lab.dir, 'b.conf');
    writeFileSync(fileB, config(addrB, addrA, 65002, 65001));
    a = await lab.start(0, fileA, 'a');
    await lab.start(1, fileB, 'b');
    await established(a.socket, 'up1', 30_000);
  });
  after(() => lab.close());

  test('a change that keeps the session up is confirmed', async () => {
    const since = (await protocolsOf(a.socket)).find((p) => p.name === 'up1')!.since;
    writeFileSync(fileA, config(addrA, addrB, 65001, 65002, 'protocol static extra { route 192.0.2.0/24 blackhole; }'));
    const r = await withControl(a, (c) => safeReload(c, { mode: 'timeout', timeoutSeconds: 30, graceMs: 5000, pollMs: 300 }));
    assert.deepEqual(r, { outcome: 'confirmed', sessions: ['up1'] });
    const now = await protocolsOf(a.socket);
    assert.ok(now.some((p) => p.name === 'extra'), 'the new config is running');
    assert.equal(now.find((p) => p.name === 'up1')!.since, since, 'the session was not restarted');
  });

  test('a change that breaks the session is rolled back by BIRD and reported', async () => {
    writeFileSync(fileA, config(addrA, addrB, 65001, 65099));
    const r = await withControl(a, (c) => safeReload(c, { mode: 'timeout', timeoutSeconds: 30, graceMs: 4000, pollMs: 300 }));
    assert.deepEqual(r, { outcome: 'rolled-back', lost: ['up1'] });
    // The old config runs again: the session comes back with the old neighbour AS.
    const p = await established(a.socket, 'up1', 30_000);
    assert.equal(p.bgp?.neighborAs, '65002');
  });

  test('a config BIRD rejects is refused before anything changes', async () => {
    writeFileSync(fileA, 'router id 1.2.3.4;\nprotocol bgp broken { this is not bird }\n');
    await assert.rejects(withControl(a, (c) => safeReload(c, { mode: 'timeout', timeoutSeconds: 30, graceMs: 2000 })), BirdCommandError);
    assert.equal((await protocolsOf(a.socket)).find((p) => p.name === 'up1')?.bgp?.state, 'Established');
  });
});

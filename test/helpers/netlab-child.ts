/**
 * A lab for the clean-up test: builds two namespaces, starts a BIRD in one, prints its
 * namespaces and the BIRD's process id, then waits to be interrupted.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NetLab } from './netlab.js';

const lab = new NetLab('intr');
lab.joinSegment('a', '10.78.9.1/24');
lab.joinSegment('b', '10.78.9.2/24');
const dir = lab.folder('a');
writeFileSync(join(dir, 'bird.cfg'), 'router id 10.78.9.1;\nprotocol device { }\n');
// A hand-written config: which BIRD runs it does not matter to the clean-up.
await lab.startBird('a', join(dir, 'bird.cfg'), dir, { make: 'debian' });
const pid = readFileSync(join(lab.dir, 'a.pid'), 'utf8').trim();
process.stdout.write(`${JSON.stringify({ namespaces: [lab.ns('br'), lab.ns('a'), lab.ns('b')], pid: Number(pid) })}\n`);
setInterval(() => undefined, 1000);

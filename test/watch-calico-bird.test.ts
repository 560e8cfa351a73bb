import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { StatusReport } from '../src/inspect/compare.js';
import { BirdLab, protocolsOf, run, type LabBird } from './helpers/bird-lab.js';
import { existsSync } from 'node:fs';
import { calicoBird, calicoLabSkip, requireCalicoLab } from './helpers/calico-bird.js';
import { runCli } from './helpers/run-cli.js';
import { expectedFiles, filesIn } from './helpers/watch.js';

const skip = calicoLabSkip();
const lab = new BirdLab('cb', 154);
const example = join('fixtures', 'example');
// The sidecar's PATH: Debian's stock bird (which rejects krt_tunnel) is there, Calico's is not.
const sidecarPath = `${process.env.PATH ?? ''}:/usr/sbin:/sbin`;

/** Runs `bird-confd watch ARGS` to its end (it is --oneshot), with the sidecar's PATH. */
function watchOnce(args: readonly string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'watch', ...args], { env: { PATH: sidecarPath }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (output += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (output += c));
    child.on('close', (code) => resolve({ code, output }));
  });
}

/** The BGP protocol names a config file set defines for one daemon. */
function bgpNames(files: ReadonlyMap<string, string>, main: string): string[] {
  return [...(files.get(main) ?? '').matchAll(/^protocol bgp (\S+)/gm)].map((m) => m[1]!).sort();
}

describe("watch with Calico's BIRD over its control sockets (fixtures/example: an IP-in-IP pool)", { skip }, () => {
  const out = join(lab.dir, 'out');
  let bird: LabBird;
  let bird6: LabBird;
  before(async () => {
    requireCalicoLab();
    lab.setUp();
    const [ns] = lab.namespaces;
    // node-a's addresses, so that BIRD can bind its sessions' source address.
    run('ip', ['-n', ns, 'addr', 'add', '172.20.1.11/32', 'dev', 'lo']);
    run('ip', ['-n', ns, 'addr', 'add', 'fd00:20:1::11/128', 'dev', 'lo']);
    // What BIRD runs before bird-confd's first apply: a minimal config at the fixed paths.
    mkdirSync(out);
    writeFileSync(join(out, 'bird.cfg'), 'router id 172.20.1.11;\nprotocol device {}\n');
    writeFileSync(join(out, 'bird6.cfg'), 'router id 172.20.1.11;\nprotocol device {}\n');
    bird = await lab.start(0, join(out, 'bird.cfg'), 'bird', calicoBird().bird);
    bird6 = await lab.start(0, join(out, 'bird6.cfg'), 'bird6', calicoBird().bird6);
  });
  after(() => lab.close());

  test('watch --oneshot with the default check and reload exits 0; diff then sees no change; status lists the sessions as rendered', async () => {
    const r = await watchOnce(['--datastore', 'file', '-f', example, '--node', 'node-a', '--out', out, '--socket', bird.socket, '--socket6', bird6.socket, '--oneshot']);
    assert.equal(r.code, 0, r.output);
    const want = await expectedFiles([example], 'node-a');
    assert.deepEqual(filesIn(out), want);
    assert.match(want.get('bird_ipam.cfg')!, /krt_tunnel ?= ?"tunl0"/, 'the example has no IP-in-IP pool any more');
    for (const [socket, main] of [[bird.socket, 'bird.cfg'], [bird6.socket, 'bird6.cfg']] as const) {
      const running = (await protocolsOf(socket)).filter((p) => p.proto === 'BGP').map((p) => p.name).sort();
      assert.deepEqual(running, bgpNames(want, main), `${main}: BIRD does not run the rendered sessions`);
      assert.ok(running.length > 0);
    }

    const diff = await runCli(['diff', '--out', out, '-f', example, '--node', 'node-a']);
    assert.equal(diff.code, 0, diff.stdout + diff.stderr);
    assert.match(diff.stdout, /^No change/);

    const status = await runCli(['status', '--out', out, '--socket', bird.socket, '--socket6', bird6.socket, '--output', 'json']);
    assert.notEqual(status.code, 2, status.stdout + status.stderr);
    const report = JSON.parse(status.stdout) as StatusReport;
    for (const d of report.daemons) {
      const names = d.sessions.map((s) => s.name).sort();
      assert.deepEqual(names, bgpNames(want, `${d.daemon}.cfg`));
      for (const s of d.sessions) assert.ok(s.state === 'established' || s.state === 'down', `${s.name}: ${s.state} (${s.problem})`);
    }
    assert.equal(report.summary.drift, 0);
  });

  test('a set the running BIRD rejects is not swapped in; the error names the file and line', async () => {
    const before = filesIn(out);
    const templates = mkdtempSync(join(tmpdir(), 'bird-confd-bad-tpl-'));
    try {
      writeFileSync(join(templates, 'bird.cfg.hbs'), '{{#with ipv4}}\n{{> main}}\n{{/with}}\nprotocol bgp broken { this is not bird; }\n');
      const r = await watchOnce(['-f', example, '--node', 'node-a', '--out', out, '--socket', bird.socket, '--socket6', bird6.socket, '--oneshot', '--templates', templates]);
      assert.equal(r.code, 1, r.output);
      const line = (await expectedFiles([example], 'node-a', { templateDir: templates })).get('bird.cfg')!.split('\n').findIndex((l) => l.includes('this is not bird')) + 1;
      assert.match(r.output, new RegExp(`BIRD at \\S+ rejects bird\\.cfg: bird\\.cfg:${line}:\\d+ `));
      assert.match(r.output, /check failed: the old files stay/);
      assert.deepEqual(filesIn(out), before);
      assert.ok(!(await protocolsOf(bird.socket)).some((p) => p.name === 'broken'));
    } finally {
      rmSync(templates, { recursive: true, force: true });
    }
  });

  test("without a socket the default check is bird -p; a stock BIRD's krt_tunnel error says what to do", { skip: existsSync('/usr/sbin/bird') ? false : "Debian's bird is not installed (/usr/sbin/bird)" }, async () => {
    const other = join(lab.dir, 'out-parse');
    const r = await watchOnce(['-f', example, '--node', 'node-a', '--out', other, '--no-reload', '--oneshot']);
    assert.equal(r.code, 1, r.output);
    assert.match(r.output, /bird\.cfg rejected by bird: bird_ipam\.cfg:\d+:\d+ You may set only variables/);
    assert.match(r.output, /krt_tunnel, Calico's extension of BIRD, which this BIRD lacks: check with Calico's BIRD/);
    assert.deepEqual(filesIn(other), new Map());
    // Calico's BIRD as the parser accepts the same set.
    const ok = await watchOnce(['-f', example, '--node', 'node-a', '--out', other, '--no-reload', '--oneshot', '--check-cmd', `${calicoBird().bird} -p -c {file}`, '--check-cmd6', `${calicoBird().bird6} -p -c {file}`]);
    assert.equal(ok.code, 0, ok.output);
  });
});

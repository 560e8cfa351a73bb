import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { y } from './helpers/snap.js';
import { filesIn, startWatch, until } from './helpers/watch.js';

/** A unique fake password: it must show up in the BIRD config that needs it, and nowhere else. */
const canary = `canary-${process.pid}-${Date.now().toString(36)}`;
const work = mkdtempSync(join(tmpdir(), 'bird-confd-secrets-'));
after(() => rmSync(work, { recursive: true, force: true }));

const manifests = join(work, 'manifests');
mkdirSync(manifests);
writeFileSync(
  join(manifests, 'cluster.yaml'),
  y.node('a', '{ipv4Address: 10.0.0.1/24}') + y.node('b', '{ipv4Address: 10.0.0.2/24}') +
    y.peer('tor', '{peerIP: 192.0.2.1, asNumber: 65001, password: {secretKeyRef: {name: bgp, key: tor}}}') + y.secret('bgp', `{tor: ${canary}}`),
);

function cli(args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { encoding: 'utf8', env: { PATH: `${process.env.PATH}:/usr/sbin` } });
  return { code: r.status, output: `${r.stdout}${r.stderr}` };
}

describe('a canary password reaches only the BIRD file that needs it', () => {
  test('render --out: only bird.cfg holds it, mode 0600', () => {
    const out = join(work, 'render');
    assert.equal(cli(['render', '--node', 'a', '--out', out, '-f', manifests]).code, 0);
    // Every file in place (the folder holds links into the current generation).
    assert.ok(filesIn(out).size >= 6);
    for (const [name, text] of filesIn(out)) assert.equal(text.includes(canary), name === 'bird.cfg', name);
    assert.equal(statSync(join(out, 'bird.cfg')).mode & 0o777, 0o600);
  });

  test('--passwords separate-file: only bird_passwords.cfg holds it, mode 0600', () => {
    const out = join(work, 'separate');
    assert.equal(cli(['render', '--node', 'a', '--out', out, '--passwords', 'separate-file', '-f', manifests]).code, 0);
    assert.ok(filesIn(out).has('bird_passwords.cfg'));
    for (const [name, text] of filesIn(out)) assert.equal(text.includes(canary), name === 'bird_passwords.cfg', name);
    assert.equal(statSync(join(out, 'bird_passwords.cfg')).mode & 0o777, 0o600);
    assert.equal(statSync(join(out, 'bird.cfg')).mode & 0o777, 0o644);
  });

  test('previews, the view and diffs mask it', () => {
    const preview = cli(['render', '--node', 'a', '-f', manifests]);
    assert.equal(preview.code, 0);
    assert.match(preview.output, /password "\*\*\*";/);
    const view = cli(['view', '--node', 'a', '-f', manifests]);
    assert.equal(view.code, 0);
    const diff = cli(['diff', '--node', 'a', '--out', join(work, 'nowhere'), '-f', manifests]);
    assert.equal(diff.code, 1, diff.output);
    for (const r of [preview, view, diff]) assert.ok(!r.output.includes(canary), r.output.slice(0, 300));
  });

  test('watch at debug level, a failing check quoting the password line and a failing reload log no secret', async () => {
    const out = join(work, 'watch');
    // The check prints the staged file (as a BIRD error quoting a line would) and fails once the marker appears.
    const check = `sh -c 'cat "$0"; ! grep -q 198.51.100.99 "$0"' {file}`;
    const reload = `sh -c 'cat ${join(out, 'bird.cfg')}; exit 1'`;
    const w = startWatch(['-f', manifests, '--node', 'a', '--out', out, '--debounce', '20', '--log-level', 'debug', '--check-cmd', check, '--check-cmd6', 'true', '--reload-cmd', reload, '--reload-cmd6', 'true'], { BGP_LOGSEVERITYSCREEN: 'debug' });
    try {
      await until('applied', () => (filesIn(out).get('bird.cfg') ?? '').includes(canary));
      await until('the reload failed', () => /reload failed/.test(w.output()));
      writeFileSync(join(manifests, 'bad.yaml'), y.peer('bad', '{peerIP: 198.51.100.99, asNumber: 65009}'));
      await until('the check failed', () => /check failed/.test(w.output()));
      assert.match(w.output(), /password \\?"\*\*\*\\?"/, 'the quoted password line is masked');
    } finally {
      await w.stop();
      rmSync(join(manifests, 'bad.yaml'), { force: true });
    }
    assert.ok(!w.output().includes(canary), 'the canary appears in the daemon output');
    assert.equal(statSync(join(out, 'bird.cfg')).mode & 0o777, 0o600);
  });
});

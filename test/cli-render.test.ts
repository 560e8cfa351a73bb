import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { y } from './helpers/snap.js';

const work = mkdtempSync(join(tmpdir(), 'bird-confd-cli-'));
after(() => rmSync(work, { recursive: true, force: true }));

/** Runs the built CLI (npm test builds first). */
function cli(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, ['bin/bird-confd.js', ...args], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '', ...env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

let n = 0;
function manifest(text: string, ext = 'yaml'): string {
  const file = join(work, `m${++n}.${ext}`);
  writeFileSync(file, text);
  return file;
}

/**
 * The packages a CLI run loads: a module hook logs every module resolved through `import`, and
 * the CommonJS cache is read at exit (the YAML parsers are loaded with `require`).
 */
function packagesLoaded(args: string[]): { code: number | null; packages: Set<string> } {
  const log = join(work, `modules-${++n}.txt`);
  const hook = join(work, 'module-hook.mjs');
  writeFileSync(hook, [
    "import { appendFileSync } from 'node:fs';",
    'export async function resolve(specifier, context, next) { const r = await next(specifier, context); appendFileSync(process.env.MODULE_LOG, `${r.url}\\n`); return r; }',
  ].join('\n'));
  const setup = join(work, 'module-setup.mjs');
  writeFileSync(setup, [
    "import { register, createRequire } from 'node:module'; import { appendFileSync } from 'node:fs';",
    `register(${JSON.stringify(`file://${hook}`)});`,
    "process.on('exit', () => appendFileSync(process.env.MODULE_LOG, Object.keys(createRequire(import.meta.url).cache).join('\\n')));",
  ].join('\n'));
  const r = spawnSync(process.execPath, ['--import', setup, 'bin/bird-confd.js', ...args], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '', MODULE_LOG: log } });
  const packages = new Set([...readFileSync(log, 'utf8').matchAll(/node_modules\/((?:@[^/]+\/)?[^/]+)/g)].map((m) => m[1]!));
  return { code: r.status, packages };
}

const good = y.node('a', '{ipv4Address: 10.0.0.1/24}') + y.node('b', '{ipv4Address: 10.0.0.2/24}');

describe('bird-confd render', () => {
  test('a reader that stops early (| head) ends the preview quietly, one node or all', () => {
    for (const args of [['--node', 'node-a'], ['--all-nodes']]) {
      const r = spawnSync('sh', ['-c', `"${process.execPath}" bin/bird-confd.js render -f fixtures/example ${args.join(' ')} | head -1 > /dev/null`], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } });
      assert.equal(r.status, 0, r.stderr);
      assert.doesNotMatch(r.stderr, /EPIPE|Unhandled|throw er/, args.join(' '));
    }
  });

  test('prints every file under a header without --out', () => {
    const r = cli(['render', '--node', 'a', '-f', manifest(good)]);
    assert.equal(r.code, 0, r.stderr);
    const headers = r.stdout.split('\n').filter((l) => l.startsWith('==> '));
    assert.deepEqual(headers, ['==> bird.cfg <==', '==> bird6.cfg <==', '==> bird_aggr.cfg <==', '==> bird6_aggr.cfg <==', '==> bird_ipam.cfg <==', '==> bird6_ipam.cfg <==']);
    assert.match(r.stdout, /protocol bgp Mesh_10_0_0_2 from bgp_template/);
  });

  test('--out writes the six files as watch does: links into one generation, swapped as a whole', () => {
    const out = join(work, 'out');
    const pw = good + y.peer('p', '{peerIP: 192.0.2.1, asNumber: 65000, password: {secretKeyRef: {name: s, key: k}}}') + y.secret('s', '{k: fake-secret-2}');
    assert.equal(cli(['render', '--node', 'a', '--out', out, '--passwords', 'separate-file', '-f', manifest(pw)]).code, 0);
    assert.ok(existsSync(join(out, 'bird_passwords.cfg')));
    assert.equal(cli(['render', '--node', 'b', '--out', out, '-f', manifest(good)]).code, 0);
    const six = ['bird.cfg', 'bird6.cfg', 'bird6_aggr.cfg', 'bird6_ipam.cfg', 'bird_aggr.cfg', 'bird_ipam.cfg'];
    // A file of the previous set that the new one lacks is gone; one generation is left.
    assert.deepEqual(readdirSync(out).filter((f) => !f.startsWith('..')).sort(), six);
    assert.equal(readdirSync(out).filter((f) => f.startsWith('..gen-')).length, 1);
    for (const f of six) assert.equal(readlinkSync(join(out, f)), join('..data', f));
    assert.match(readFileSync(join(out, 'bird.cfg'), 'utf8'), /router id 10\.0\.0\.2;/);
    assert.deepEqual(readdirSync(out).filter((f) => f.startsWith('..tmp-')), [], 'staging debris left');
  });

  test('NODENAME and CALICO_ROUTER_ID come from the environment', () => {
    const r = cli(['render', '-f', manifest(good)], { NODENAME: 'b', CALICO_ROUTER_ID: '192.0.2.1' });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /router id 192\.0\.2\.1;/);
  });

  test('a config with a password is written with mode 0600', () => {
    const out = join(work, 'pw');
    const yaml = good + y.peer('p', '{peerIP: 192.0.2.1, asNumber: 65000, password: {secretKeyRef: {name: s, key: k}}}') + y.secret('s', '{k: fake-secret-1}');
    assert.equal(cli(['render', '--node', 'a', '--out', out, '-f', manifest(yaml)]).code, 0);
    assert.equal(statSync(join(out, 'bird.cfg')).mode & 0o777, 0o600);
    assert.equal(statSync(join(out, 'bird_aggr.cfg')).mode & 0o777, 0o644);
  });

  const bad: [string, string, RegExp][] = [
    ['invalid YAML', 'kind: Node\nmetadata: {name: a\n', /m\d+\.yaml: invalid YAML\/JSON: line \d+, column \d+/],
    ['invalid IP', y.node('a', '{ipv4Address: 10.0.0.300/24}'), /m\d+\.yaml#1: Node\/a: spec\.bgp\.ipv4Address: not an IP address or CIDR/],
    ['invalid CIDR', good + y.pool('p', '{cidr: 10.0.0.0/33}'), /IPPool\/p: spec\.cidr: not a CIDR/],
    ['AS number out of range', y.node('a', '{ipv4Address: 10.0.0.1/24, asNumber: 4294967296}'), /Node\/a: spec\.bgp\.asNumber: AS number out of range/],
    ['bad selector', good + y.peer('p', '{nodeSelector: "has(a) &&", peerIP: 192.0.2.1, asNumber: 65000}'), /BGPPeer\/p: spec\.nodeSelector: unexpected end of selector at position 9/],
    ['bad port', good + y.peer('p', '{peerIP: "192.0.2.1:0x50", asNumber: 65000}'), /m\d+\.yaml: BGPPeer\/p: spec\.peerIP: port must be a decimal number from 1 to 65535/],
    ['port out of range', good + y.peer('p', '{peerIP: "192.0.2.1:70000", asNumber: 65000}'), /BGPPeer\/p: spec\.peerIP: port must be/],
    ['listen port out of range', good + y.config('{listenPort: 99999}'), /BGPConfiguration\/default: spec\.listenPort/],
    ['password with a quote', good + y.peer('p', '{peerIP: 192.0.2.1, asNumber: 65000, password: {secretKeyRef: {name: s, key: k}}}') + y.secret('s', `{k: 'fake"quote'}`), /BGPPeer\/p: spec\.password\.secretKeyRef: Secret kube-system\/s key "k": .*double quote/],
    ['password with a newline', good + y.peer('p', '{peerIP: 192.0.2.1, asNumber: 65000, password: {secretKeyRef: {name: s, key: k}}}') + y.secret('s', `{k: "fake\\nline"}`), /BGPPeer\/p: spec\.password\.secretKeyRef: .*line break/],
  ];
  for (const [what, text, expected] of bad) {
    test(`bad input (${what}): exit 1, one clear line, nothing written`, () => {
      const out = join(work, `bad-${n}`);
      const r = cli(['render', '--node', 'a', '--out', out, '-f', manifest(text)]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, expected);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'stack trace printed');
      assert.doesNotMatch(r.stderr, /fake"quote|fake\nline/, 'secret value printed');
      assert.equal(existsSync(out), false, 'output written despite bad input');
    });
  }

  test('a failed run leaves an existing output folder as it was', () => {
    const out = join(work, 'keep');
    assert.equal(cli(['render', '--node', 'a', '--out', out, '-f', manifest(good)]).code, 0);
    const before = readFileSync(join(out, 'bird.cfg'), 'utf8');
    assert.equal(cli(['render', '--node', 'a', '--out', out, '-f', manifest('kind: [')]).code, 1);
    assert.equal(readFileSync(join(out, 'bird.cfg'), 'utf8'), before);
  });

  test('bad usage exits 2; --help documents the options', () => {
    assert.equal(cli(['render', '-f', manifest(good)]).code, 2);
    assert.equal(cli(['render', '--node', 'a']).code, 2);
    // Every command that reads manifests asks for -f the same way.
    for (const args of [['render', '--node', 'a'], ['render', '--all-nodes'], ['view', '--node', 'a'], ['diff', '--node', 'a'], ['graph']]) {
      const r = cli(args);
      assert.equal(r.code, 2, args.join(' '));
      assert.match(r.stderr, new RegExp(`${args[0]} needs at least one -f PATH`), args.join(' '));
    }
    assert.equal(cli(['render', '--bogus']).code, 2);
    assert.equal(cli(['frobnicate']).code, 2);
    const help = cli(['render', '--help']);
    assert.equal(help.code, 0);
    for (const flag of ['--file', '--node', '--out', '--target', '--router-id', 'NODENAME', 'CALICO_ROUTER_ID', 'NAMESPACE']) assert.ok(help.stdout.includes(flag), flag);
  });

  test('unknown kinds are skipped with a warning; unknown fields are ignored', () => {
    const r = cli(['render', '--node', 'a', '-f', manifest(`apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n---\n${good.replace('{bgp:', '{someNewField: 1, bgp:')}`)]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /warning: .*unknown kind ConfigMap/);
  });

  test('resource limits: a file with too many documents is refused with a clear error', () => {
    const many = manifest('---\n'.repeat(200_001));
    const r = cli(['render', '--node', 'a', '-f', manifest(good), '-f', many]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /more than 200000 documents/);
  });

  test('a JSON manifest renders as its YAML form; invalid JSON is reported with line and column', () => {
    const docs = { apiVersion: 'v1', kind: 'List', items: [1, 2].map((i) => ({ apiVersion: 'projectcalico.org/v3', kind: 'Node', metadata: { name: 'ab'[i - 1] }, spec: { bgp: { ipv4Address: `10.0.0.${i}/24` } } })) };
    const json = cli(['render', '--node', 'a', '-f', manifest(JSON.stringify(docs, null, 2), 'json')]);
    assert.equal(json.code, 0, json.stderr);
    assert.equal(json.stdout, cli(['render', '--node', 'a', '-f', manifest(good)]).stdout);
    const broken = cli(['render', '--node', 'a', '-f', manifest('{\n  "kind": "Node",\n  "metadata": {"name": "a"\n', 'json')]);
    assert.equal(broken.code, 1);
    assert.match(broken.stderr, /m\d+\.json: invalid YAML\/JSON: line \d+, column \d+/);
  });

  test('YAML 1.2: 100:6532 is a string, not a sexagesimal number; a duplicate key takes the last value', () => {
    const config = 'apiVersion: projectcalico.org/v3\nkind: BGPConfiguration\nmetadata: {name: default}\nspec:\n  communities: [{name: c, value: 100:6532}]\n  prefixAdvertisements: [{cidr: 10.0.0.0/24, communities: [c]}]\n---\n';
    const r = cli(['render', '--node', 'a', '-f', manifest(config + good.replace('{name: a,', '{name: x, name: a,'))]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /bgp_community\.add\(\(100, 6532\)\);/);
  });

  test('each command loads only what it uses: --version and --help no package, render no daemon client, a JSON manifest no YAML parser', () => {
    for (const args of [['--version'], ['--help']]) {
      const r = packagesLoaded(args);
      assert.equal(r.code, 0);
      assert.deepEqual([...r.packages], [], args.join(' '));
    }
    const json = packagesLoaded(['render', '--node', 'a', '-f', manifest(JSON.stringify({ apiVersion: 'projectcalico.org/v3', kind: 'Node', metadata: { name: 'a' }, spec: { bgp: { ipv4Address: '10.0.0.1/24' } } }), 'json')]);
    assert.equal(json.code, 0);
    assert.ok(json.packages.has('zod') && json.packages.has('handlebars'), [...json.packages].join(' '));
    for (const p of ['pino', 'prom-client', 'etcd3', '@kubernetes/client-node', 'chokidar', 'yaml', 'js-yaml']) assert.ok(!json.packages.has(p), `render loaded ${p}`);
    const yaml = packagesLoaded(['render', '--node', 'a', '-f', manifest(good)]);
    assert.ok(yaml.packages.has('js-yaml') && !yaml.packages.has('yaml'), [...yaml.packages].join(' '));
  });

  test('later files replace earlier documents of the same kind and name', () => {
    const r = cli(['render', '--node', 'a', '-f', manifest(good), '-f', manifest(y.node('b', '{ipv4Address: 10.0.0.99/24}'))]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /neighbor 10\.0\.0\.99 as 64512;/);
    assert.doesNotMatch(r.stdout, /10\.0\.0\.2\b/);
  });
});

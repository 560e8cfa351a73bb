import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { generateDocuments } from '../bench/generate.js';
import { readOutputDir } from '../src/watch/output-dir.js';
import { y } from './helpers/snap.js';

const work = mkdtempSync(join(tmpdir(), 'bird-confd-all-'));
after(() => rmSync(work, { recursive: true, force: true }));

/** Runs the built CLI as a whole process (npm test builds first). */
function cli(args: string[]) {
  const r = spawnSync(process.execPath, ['bin/bird-confd.js', ...args], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '' }, maxBuffer: 256 * 2 ** 20 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

let n = 0;
const fresh = (name: string) => join(work, `${name}-${++n}`);

/** A folder's files, per node folder. */
function tree(dir: string): Map<string, Map<string, string>> {
  const out = new Map<string, Map<string, string>>();
  for (const node of readdirSync(dir).filter((e) => !e.startsWith('.')).sort()) out.set(node, readOutputDir(join(dir, node))!);
  return out;
}

/** One node's files as `render --node` writes them. */
function single(files: string[], node: string, extra: string[] = []): Map<string, string> {
  const dir = fresh(`one-${node}`);
  const r = cli(['render', ...files.flatMap((f) => ['-f', f]), '--node', node, '--out', dir, ...extra]);
  assert.equal(r.code, 0, r.stderr);
  return readOutputDir(dir)!;
}

// A route-reflector cluster from the benchmark's generator (reflectors, racks, ToR passwords,
// Services), small enough for a test: the shapes where a reflector's peers are the same records
// for every reflector, which a store that keeps no node views must still render the same.
const benchCluster = join(work, 'rr-cluster.json');
writeFileSync(benchCluster, JSON.stringify({ apiVersion: 'v1', kind: 'List', items: generateDocuments(120, 'rr', 1, 200) }));

describe('bird-confd render --all-nodes', () => {
  test('writes every node\'s files into DIR/NODE/, the same as render --node of each, in one or more threads', () => {
    for (const files of [['fixtures/example'], [benchCluster]]) {
      const trees = [1, 2, 3].map((jobs) => {
        const dir = fresh('all');
        const r = cli(['render', ...files.flatMap((f) => ['-f', f]), '--all-nodes', '--out', dir, '--jobs', String(jobs)]);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stderr, /rendered \d+ nodes into /);
        assert.ok(existsSync(join(dir, '.bird-confd-all-nodes')));
        return tree(dir);
      });
      assert.deepEqual(trees[1], trees[0]);
      assert.deepEqual(trees[2], trees[0]);
      const nodes = [...trees[0]!.keys()];
      assert.ok(nodes.length >= 3, `${files}: ${nodes.length} nodes`);
      // Every node of the example; a sample of the generated one (reflectors among them).
      const checked = files[0] === 'fixtures/example' ? nodes : nodes.filter((_, i) => i % 40 < 3 || i % 29 === 0);
      for (const node of checked) assert.deepEqual(trees[0]!.get(node), single(files, node), `${node} of ${files}`);
    }
  });

  test('in the Calico v3.17 profile and with the Windows scripts too', () => {
    const extra = ['--calico-version', '3.17', '--target', 'all'];
    const dir = fresh('v317');
    const r = cli(['render', '-f', 'fixtures/example', '--all-nodes', '--out', dir, '--jobs', '2', ...extra]);
    assert.equal(r.code, 0, r.stderr);
    const all = tree(dir);
    for (const [node, files] of all) {
      assert.ok(files.has('peerings.ps1') && files.has('bird.cfg'));
      assert.deepEqual(files, single(['fixtures/example'], node, extra), node);
    }
  });

  test('files holding a password are mode 0600, the others 0644', () => {
    // The generated cluster's files come in several pieces (template text, peer lists): each is searched.
    for (const manifest of ['fixtures/example', benchCluster]) {
      const dir = fresh('modes');
      assert.equal(cli(['render', '-f', manifest, '--all-nodes', '--out', dir]).code, 0);
      checkModes(dir);
    }
  });

  function checkModes(dir: string): void {
    for (const node of readdirSync(dir).filter((e) => !e.startsWith('.'))) {
      for (const file of readdirSync(join(dir, node))) {
        const text = readFileSync(join(dir, node, file), 'utf8');
        assert.equal(statSync(join(dir, node, file)).mode & 0o777, text.includes('password "') ? 0o600 : 0o644, `${node}/${file}`);
      }
    }
  }

  test('without --out prints every file under NODE/FILE headers in node order, passwords masked', () => {
    const r = cli(['render', '-f', 'fixtures/example', '--all-nodes', '--jobs', '2']);
    assert.equal(r.code, 0, r.stderr);
    const headers = [...r.stdout.matchAll(/^==> (\S+) <==$/gm)].map((m) => m[1]!);
    const nodes = [...new Set(headers.map((h) => h.split('/')[0]!))];
    assert.deepEqual(nodes, [...nodes].sort());
    assert.ok(nodes.length >= 3);
    assert.equal(headers.length, nodes.length * 6);
    assert.doesNotMatch(r.stdout, /example-only-r1|example-only-r2/);
    assert.match(r.stdout, /password "\*\*\*";/);
    // Each node's part is what the single-node preview prints for it.
    for (const node of nodes) {
      const one = cli(['render', '-f', 'fixtures/example', '--node', node]);
      const part = r.stdout.split(/^(?===> )/m).filter((s) => s.startsWith(`==> ${node}/`)).join('');
      assert.equal(part, one.stdout.replace(/^==> /gm, `==> ${node}/`));
    }
  });

  test('a folder it did not write is refused; one it wrote is replaced whole, nodes gone included', () => {
    const foreign = fresh('foreign');
    mkdirSync(foreign);
    writeFileSync(join(foreign, 'notes.txt'), 'keep me');
    const refused = cli(['render', '-f', 'fixtures/example', '--all-nodes', '--out', foreign]);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /not empty and was not written by render --all-nodes/);
    assert.deepEqual(readdirSync(foreign), ['notes.txt']);

    const dir = join(fresh('parent'), 'not', 'yet', 'there');
    assert.equal(cli(['render', '-f', 'fixtures/example', '--all-nodes', '--out', dir]).code, 0, 'missing parents are made');
    mkdirSync(join(dir, 'node-gone'));
    writeFileSync(join(dir, 'node-gone', 'bird.cfg'), 'old');
    const before = tree(dir);
    assert.equal(cli(['render', '-f', 'fixtures/example', '--all-nodes', '--out', dir]).code, 0);
    const afterRun = tree(dir);
    assert.ok(!afterRun.has('node-gone'));
    before.delete('node-gone');
    assert.deepEqual(afterRun, before);
    // No staging folder is left beside it.
    assert.deepEqual(readdirSync(join(dir, '..')).filter((e) => e.includes('.staging-')), []);
  });

  test('bad input: each problem printed once, exit 1, and the folder left as it was', () => {
    const dir = fresh('kept');
    assert.equal(cli(['render', '-f', 'fixtures/example', '--all-nodes', '--out', dir]).code, 0);
    const before = tree(dir);
    // A password BIRD cannot hold: the BGPPeer selecting every node is an error on every node.
    const bad = join(work, 'bad.yaml');
    writeFileSync(bad, y.secret('tor', '{key: "has\\"quote"}') + y.peer('everyone', '{peerIP: 192.0.2.1, asNumber: 65001, password: {secretKeyRef: {name: tor, key: key}}}'));
    for (const jobs of ['1', '2']) {
      const r = cli(['render', '-f', 'fixtures/example', '-f', bad, '--all-nodes', '--out', dir, '--jobs', jobs]);
      assert.equal(r.code, 1, r.stderr);
      const lines = r.stderr.split('\n').filter((l) => l.includes('BGPPeer/everyone'));
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0]!, /^error: .*spec\.password\.secretKeyRef.*double quote/);
      assert.ok(lines[0]!.includes('bad.yaml'), `the problem names the file of the BGPPeer: ${lines[0]}`);
      assert.doesNotMatch(r.stderr, /has"quote/);
      assert.match(r.stderr, /left as it was/);
      assert.deepEqual(tree(dir), before);
    }
    // A manifest that does not load: nothing rendered, the load problem once.
    const broken = join(work, 'broken.yaml');
    writeFileSync(broken, y.node('x', '{ipv4Address: not-an-address}'));
    const r = cli(['render', '-f', 'fixtures/example', '-f', broken, '--all-nodes', '--out', dir]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr.split('\n').filter((l) => l.includes('Node/x')).length, 1, r.stderr);
    assert.deepEqual(tree(dir), before);
  });

  test('stopped by a signal: the staged files go, DIR is not made', async () => {
    // Large enough that loading it alone outlasts the wait for the staging folder.
    const big = join(work, 'rr-3000.json');
    writeFileSync(big, JSON.stringify({ apiVersion: 'v1', kind: 'List', items: generateDocuments(3000, 'rr', 1, 3000) }));
    const parent = fresh('signal');
    mkdirSync(parent);
    const dir = join(parent, 'out');
    const child = spawn(process.execPath, ['bin/bird-confd.js', 'render', '-f', big, '--all-nodes', '--out', dir], { stdio: 'ignore' });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const staged = () => readdirSync(parent).some((e) => e.includes('.staging-'));
    for (let i = 0; i < 500 && !staged(); i++) await new Promise((r) => setTimeout(r, 10));
    assert.ok(staged(), 'the run staged its folder');
    child.kill('SIGTERM');
    assert.equal(await exited, 143);
    assert.deepEqual(readdirSync(parent), []);
  });

  test('usage: --node and --all-nodes together, --jobs without --all-nodes, a bad --jobs', () => {
    for (const [args, message] of [
      [['--all-nodes', '--node', 'node-a'], /--node NAME or --all-nodes, not both/],
      [['--node', 'node-a', '--jobs', '2'], /--jobs goes with --all-nodes/],
      [['--all-nodes', '--jobs', '0'], /--jobs must be a whole number/],
    ] as const) {
      const r = cli(['render', '-f', 'fixtures/example', ...args]);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
    }
  });
});

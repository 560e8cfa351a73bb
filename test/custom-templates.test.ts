import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { Ajv } from 'ajv';
import { loadManifestPaths, snapshotOf } from '../src/model/load.js';
import Handlebars from 'handlebars';
import { compileTemplates, renderNode, TemplateError } from '../src/render/index.js';
import { calicoVersions, type CalicoVersion } from '../src/render/profiles.js';
import { loadTemplates, readTemplateSources, renderNodeWithTemplates } from '../src/watch/template-files.js';
import { checkParses } from './helpers/bird.js';
import { goldenCases, renderCase } from './helpers/golden.js';
import { runCli } from './helpers/run-cli.js';

const custom = join('fixtures', 'custom-templates');
const work = mkdtempSync(join(tmpdir(), 'bird-confd-tpl-'));
after(() => rmSync(work, { recursive: true, force: true }));

async function example(node: string, templateDir?: string, calicoVersion?: CalicoVersion) {
  const loaded = await loadManifestPaths([join('fixtures', 'example')]);
  return renderNodeWithTemplates(snapshotOf(loaded.resources), node, { templateDir, calicoVersion });
}

/** The config without BFD: the lines a BFD override adds removed. */
function withoutBfd(text: string): string {
  return text
    .replace(/\n# BFD:[^\n]*\nprotocol bfd \{\n {2}multihop \{[^}]*\};\n\}\n?/, '\n')
    .split('\n')
    .filter((l) => l.trim() !== 'bfd on;')
    .join('\n')
    .replace(/\n+$/, '\n');
}

describe('custom templates', () => {
  test('a BFD override renders, passes bird -p, and leaves everything else as shipped', async (t) => {
    const shipped = await example('node-a');
    const bfd = await example('node-a', join(custom, 'bfd'));
    assert.ok(shipped.files && bfd.files);
    const birdCfg = bfd.files.get('bird.cfg')!;
    assert.match(birdCfg, /protocol bfd \{/);
    const sessions = [...birdCfg.matchAll(/^protocol bgp /gm)].length;
    assert.ok(sessions >= 3);
    assert.equal([...birdCfg.matchAll(/^ {2}bfd on;$/gm)].length, sessions, 'every BGP session has bfd on');
    for (const [name, text] of shipped.files) assert.equal(withoutBfd(bfd.files.get(name)!), text.replace(/\n+$/, '\n'), `${name} changed beyond BFD`);
    const dir = join(work, 'bfd');
    mkdirSync(dir);
    for (const [name, text] of bfd.files) writeFileSync(join(dir, name), text);
    await checkParses(t, [dir], "Calico's BIRD parses the files with BFD");
  });

  test('an extra template renders an extra file; shipped partials stay available', async () => {
    const r = await example('node-a', join(custom, 'bfd'));
    assert.equal(r.files!.get('peers.txt'), 'Mesh_172_20_1_12 172.20.1.12 AS 64512 (mesh)\nMesh_172_20_2_13 172.20.2.13 AS 64512 (mesh)\nNode_172_20_1_1 172.20.1.1 AS 65001 (node)\n');
    // bird.cfg.hbs of the override uses the shipped `main` partial, which uses the user's `peer` partial.
    assert.match(r.files!.get('bird.cfg')!, /source address 172\.20\.1\.11;/);
  });

  test('an extra BIRD file that bird.cfg does not include gets a warning', async () => {
    const dir = join(work, 'extra-cfg');
    mkdirSync(dir);
    writeFileSync(join(dir, 'bird_extra.cfg.hbs'), '# nothing\n');
    const r = await example('node-a', dir);
    assert.ok(r.diagnostics.some((d) => d.severity === 'warning' && d.object === 'template bird_extra.cfg.hbs' && /not included/.test(d.message)));
  });

  test('a field name typo fails at render time naming the template file and line', async () => {
    await assert.rejects(example('node-a', join(custom, 'typo')), (err: Error) => {
      assert.ok(err instanceof TemplateError);
      assert.match(err.message, /fixtures\/custom-templates\/typo\/bird\.cfg\.hbs: line 3, column \d+: "nodeNmae" is not a field of the view here/);
      return true;
    });
  });

  test('a syntax error fails at start-up naming the file and line', () => {
    assert.throws(() => loadTemplates({ target: 'linux', userDir: join(custom, 'syntax') }), /syntax\/bird\.cfg\.hbs: line 3: syntax error/);
  });

  test('the JSON Schema of the view validates the view of every fixture, in both profiles', async () => {
    const schema = JSON.parse(readFileSync(join('dist', 'view.schema.json'), 'utf8'));
    const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);
    const checked = new Map<string, number>();
    const check = (view: unknown, what: string) => {
      const json = JSON.parse(JSON.stringify(view)) as { calicoVersion: string };
      assert.ok(validate(json), `${what}: ${JSON.stringify(validate.errors)}`);
      checked.set(json.calicoVersion, (checked.get(json.calicoVersion) ?? 0) + 1);
      return json;
    };
    for (const calicoVersion of calicoVersions) {
      for (const c of goldenCases(join('fixtures', 'bird'))) {
        for (const node of c.nodes) check((await renderCase(c, node, { calicoVersion })).view, `${c.name}/${node} (Calico ${calicoVersion})`);
      }
      for (const node of ['node-a', 'node-b', 'node-c']) check((await example(node, undefined, calicoVersion)).view, `example/${node} (Calico ${calicoVersion})`);
    }
    for (const v of calicoVersions) assert.ok((checked.get(v) ?? 0) >= 15, `views of ${v} checked: ${checked.get(v)}`);
    // The schema is strict enough to reject a wrong view, and a view of one profile in the other's shape.
    assert.equal(validate({ viewVersion: 1, nodeName: 'x' }), false);
    const v317 = JSON.parse(JSON.stringify((await example('node-a', undefined, '3.17')).view));
    assert.equal(validate({ ...v317, calicoVersion: '3.32' }), false, 'a v3.17 view that claims to be v3.32 passed');
    // Every family view says which profile it belongs to.
    assert.match(schema.definitions.FamilyView.description, /v3\.17 profile/);
    assert.match(schema.definitions.FamilyView332.description, /v3\.32 profile/);
  });

  test('any rendered file that prints a password is mode 0600, whatever its name; others stay 0644', async () => {
    const dir = join(work, 'pw-report');
    mkdirSync(dir, { recursive: true });
    // An extra output of the user's that lists each BGP session with its options (the password among them).
    writeFileSync(join(dir, 'sessions.txt.hbs'), '{{#each ipv4.sessions}}{{name}}{{#each options}} {{this}}{{/each}}\n{{/each}}');
    writeFileSync(join(dir, 'names.txt.hbs'), '{{#each ipv4.sessions}}{{name}}\n{{/each}}');
    const out = join(work, 'pw-out');
    const r = await runCli(['render', '--node', 'node-a', '-f', join('fixtures', 'example'), '--templates', dir, '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    const report = readFileSync(join(out, 'sessions.txt'), 'utf8');
    assert.match(report, /password "/, 'the example has a peer with a password');
    assert.equal(statSync(join(out, 'sessions.txt')).mode & 0o777, 0o600);
    assert.equal(statSync(join(out, 'names.txt')).mode & 0o777, 0o644);
    assert.equal(statSync(join(out, 'bird_aggr.cfg')).mode & 0o777, 0o644);
  });
});

describe('template compilation', () => {
  test('every template is compiled when the set is compiled, none at the first render', async () => {
    // Handlebars' own compile waits for a template's first call; a daemon would pay for it in its first render.
    const compiler = (Handlebars as unknown as { JavaScriptCompiler: { prototype: { compile: (...a: unknown[]) => unknown } } }).JavaScriptCompiler.prototype;
    const original = compiler.compile;
    let calls = 0;
    compiler.compile = function (this: unknown, ...a: unknown[]) {
      calls++;
      return original.apply(this, a);
    };
    try {
      for (const calicoVersion of calicoVersions) {
        calls = 0;
        const templates = compileTemplates(readTemplateSources({ target: 'all', calicoVersion }));
        const atCompile = calls;
        assert.ok(atCompile >= templates.files.size, `${calicoVersion}: ${atCompile} compilations for ${templates.files.size} file templates`);
        const loaded = await loadManifestPaths([join('fixtures', 'example')]);
        const r = renderNode(snapshotOf(loaded.resources), 'node-a', { templates, calicoVersion });
        assert.ok(r.files && r.files.size >= 6 && r.files.get('bird.cfg')!.includes('protocol bgp'), `${calicoVersion}: rendered`);
        assert.equal(calls, atCompile, `${calicoVersion}: the first render compiled nothing more`);
      }
    } finally {
      compiler.compile = original;
    }
  });
});

describe('the lines helper', () => {
  const view = { a: ['one;', 'two;'], none: [], s: 'single;', nothing: null, n: 65001, obj: { x: 1 }, mixed: ['ok;', { x: 1 }] };
  const run = (text: string) => {
    const set = compileTemplates({ files: [{ name: 'out.txt', file: 'out.txt.hbs', text }], partials: [] });
    return set.files.get('out.txt')!.run(view as never, { peerBlocks: () => '' });
  };

  test('prints statements, lists of them and nothing for null, each on its own line after the indent', () => {
    assert.equal(run('{\n{{lines a s nothing n indent=2 ~}}\n}\n'), '{\n  one;\n  two;\n  single;\n  65001\n}\n');
    assert.equal(run('x\n{{lines none nothing indent=4 ~}}\ny\n'), 'x\ny\n', 'empty lists and null leave no line');
    assert.equal(run('{{lines a ~}}\n'), 'one;\ntwo;\n', 'no indent by default');
    // What it replaces: an each loop printing the same lines.
    assert.equal(run('{{#each a}}\n  {{this}}\n{{/each}}\n'), run('{{lines a indent=2 ~}}\n'));
  });

  test('anything but statements is an error naming the template and line', () => {
    for (const [text, message] of [
      ['\n{{lines obj}}', /out\.txt\.hbs: line 2, column 1: lines: argument 1 is not a statement, a list of statements or null/],
      ['{{lines mixed}}', /lines: entry 1 of argument 1 is not a statement/],
      ['{{lines a indent="  "}}', /lines: indent must be a whole number of spaces/],
    ] as const) {
      assert.throws(() => run(text), (err: unknown) => err instanceof TemplateError && message.test(err.message), text);
    }
  });
});

describe('peer lists', () => {
  const peers = [{ name: 'A' }, { name: 'B' }, { name: 'C' }];
  const printed = (partials: { name: string; text: string }[]) => {
    const set = compileTemplates({ files: [], partials: partials.map((p) => ({ ...p, file: `${p.name}.hbs` })) });
    return set.peer!.runList(peers as never);
  };

  test('a peer partial that uses Handlebars data (@index, @first) still gets it', () => {
    assert.equal(printed([{ name: 'peer', text: '{{@index}}:{{name}}{{#if @first}}!{{/if}}\n' }]), '0:A!\n1:B\n2:C\n');
  });

  test('so does a partial it calls, and one that takes none prints the same without it', () => {
    assert.equal(printed([{ name: 'peer', text: '{{> inner}}' }, { name: 'inner', text: '{{@index}}:{{name}}\n' }]), '0:A\n1:B\n2:C\n');
    assert.equal(printed([{ name: 'peer', text: '{{#if skip}}skipped{{else}}{{name}}{{/if}}\n' }]), 'A\nB\nC\n');
  });
});

/**
 * The shape of the code, checked so it cannot drift: layers point one way (cli -> watch ->
 * inspect -> render -> model), render is pure (no file system, no child processes, no
 * environment, no module-level mutable state), and no file or function grows past the sizes of
 * ../shared/STYLE.md (400 lines a file, 80 a function).
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, test } from 'node:test';
import ts from 'typescript';

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

const files = sourceFiles('src').map((path) => ({ path, text: readFileSync(path, 'utf8') }));
const layerOf = (path: string) => relative('src', path).split('/')[0]!;
/** What each layer may import from (besides itself and packages). */
const allowed: Record<string, readonly string[]> = {
  model: [],
  render: ['model'],
  inspect: ['render', 'model'],
  watch: ['inspect', 'render', 'model'],
  cli: ['watch', 'inspect', 'render', 'model'],
};

function imports(text: string): string[] {
  return [...text.matchAll(/(?:from|import)\s*\(?\s*'([^']+)'/g)].map((m) => m[1]!);
}

describe('architecture', () => {
  test('every source file is in a known layer', () => {
    for (const f of files) assert.ok(layerOf(f.path) in allowed, `${f.path}: not in ${Object.keys(allowed).join(', ')}`);
  });

  test('layers import only downwards: cli -> watch -> inspect -> render -> model', () => {
    for (const f of files) {
      const layer = layerOf(f.path);
      for (const spec of imports(f.text).filter((s) => s.startsWith('.'))) {
        const target = layerOf(join(f.path, '..', spec));
        if (target === layer) continue;
        assert.ok(allowed[layer]!.includes(target), `${f.path} imports ${spec} (${layer} -> ${target})`);
      }
    }
  });

  test('render is pure: no file system, no child processes, no environment, no module-level let', () => {
    for (const f of files.filter((x) => layerOf(x.path) === 'render')) {
      for (const spec of imports(f.text)) assert.ok(!/^(node:)?(fs|child_process|fs\/promises|url)$/.test(spec), `${f.path} imports ${spec}`);
      assert.doesNotMatch(f.text, /process\.env|process\.cwd|import\.meta/, `${f.path} reads the process environment`);
      assert.doesNotMatch(f.text, /^(export\s+)?(let|var)\s/m, `${f.path} has module-level mutable state`);
    }
  });

  test('no file over 400 lines, no function over 80', () => {
    for (const f of files) {
      const lines = f.text.split('\n').length;
      assert.ok(lines <= 400, `${f.path}: ${lines} lines`);
      const source = ts.createSourceFile(f.path, f.text, ts.ScriptTarget.Latest, true);
      const visit = (node: ts.Node): void => {
        if (ts.isFunctionLike(node) && 'body' in node && node.body) {
          const start = source.getLineAndCharacterOfPosition(node.getStart()).line;
          const end = source.getLineAndCharacterOfPosition(node.getEnd()).line;
          assert.ok(end - start + 1 <= 80, `${f.path}:${start + 1}: a function of ${end - start + 1} lines`);
        }
        ts.forEachChild(node, visit);
      };
      visit(source);
    }
  });
});

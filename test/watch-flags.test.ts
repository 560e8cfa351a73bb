import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { runCli } from './helpers/run-cli.js';

const work = mkdtempSync(join(tmpdir(), 'bird-confd-flags-'));
after(() => rmSync(work, { recursive: true, force: true }));

describe('watch flags', () => {
  // Each would otherwise run (this is a complete --oneshot command line) with the value as NaN.
  const base = ['watch', '-f', join('fixtures', 'example'), '--node', 'node-a', '--out', join(work, 'out'), '--oneshot', '--no-reload', '--no-check'];
  const cases: [flag: string, value: string][] = [
    ['--debounce', 'soon'],
    ['--debounce', '1.5'],
    ['--reload-timeout', 'abc'],
    ['--reload-timeout', '0'],
    ['--reload-grace', '-5'],
    ['--reload-grace', ''],
    ['--drift-interval', '1m'],
    ['--degraded-after', 'NaN'],
    ['--check', 'maybe'],
  ];
  for (const [flag, value] of cases) {
    test(`${flag} ${JSON.stringify(value)} is a usage error naming the flag`, async () => {
      const r = await runCli([...base, `${flag}=${value}`]);
      assert.equal(r.code, 2, r.stdout + r.stderr);
      assert.match(r.stderr, new RegExp(`bird-confd watch: ${flag} must be `));
    });
  }

  test('good values are accepted', async () => {
    const r = await runCli([...base, '--debounce', '0', '--reload-timeout', '30', '--reload-grace', '2.5', '--drift-interval', '0', '--degraded-after', '10']);
    assert.equal(r.code, 0, r.stderr);
  });
});

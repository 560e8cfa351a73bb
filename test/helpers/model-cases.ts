import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatDiagnostic, type Diagnostic } from '../../src/model/diagnostics.js';
import { documentToResource } from '../../src/model/load.js';
import type { Resource } from '../../src/model/resources.js';

/** A manifest document, as a plain object. */
export type Doc = Record<string, unknown>;

/** One table row: a document and either what it loads to, or the field and message of its error. */
export interface ModelCase {
  readonly name: string;
  readonly doc: Doc;
  /** Checks the loaded resource (the document must load without an error). */
  readonly ok?: (resource: Resource, diagnostics: readonly Diagnostic[]) => void;
  /** The field the error names and a pattern of its message (the document must be refused). */
  readonly error?: readonly [field: string, message: RegExp];
}

/** A document of a kind with a metadata.name and a spec. */
export function doc(kind: string, name: string, spec: unknown, apiVersion = 'projectcalico.org/v3', extra: Doc = {}): Doc {
  return { apiVersion, kind, metadata: { name }, spec, ...extra };
}

/** Loads one document as the loader does, with the diagnostics it gives. */
export function loadOne(d: Doc): { resource?: Resource; diagnostics: Diagnostic[] } {
  return documentToResource(d, 'case.yaml');
}

/** Runs table rows as tests: refused documents must name object and field in one diagnostic line. */
export function runCases(cases: readonly ModelCase[]): void {
  for (const c of cases) {
    test(c.name, () => {
      const r = loadOne(c.doc);
      const errors = r.diagnostics.filter((d) => d.severity === 'error');
      if (c.error) {
        const [field, message] = c.error;
        assert.equal(r.resource, undefined, 'a refused document must not load');
        const hit = errors.find((d) => d.field === field);
        assert.ok(hit, `no error on ${field}; got: ${r.diagnostics.map(formatDiagnostic).join(' | ') || 'nothing'}`);
        assert.match(hit.message, message);
        const meta = c.doc.metadata as { name: string };
        const line = formatDiagnostic(hit);
        // A name that is not a plain name is printed quoted.
        const name = /^[\w.-]+$/.test(meta.name) ? meta.name : JSON.stringify(meta.name);
        assert.ok(line.startsWith(`case.yaml: ${String(c.doc.kind)}/`) && line.includes(`${name}: ${field}: `), `object and field named: ${line}`);
        assert.ok(!line.includes('\n'), 'one line');
      } else {
        assert.deepEqual(errors.map(formatDiagnostic), []);
        assert.ok(r.resource, 'loaded');
        c.ok?.(r.resource, r.diagnostics);
      }
    });
  }
}

import { isAscii } from 'node:buffer';
import { createRequire } from 'node:module';
import type * as JsYaml from 'js-yaml';
import type * as Yaml from 'yaml';

// The two YAML libraries are loaded on first use, so that a JSON manifest (and every command that
// reads none) does not pay for them at start-up.
const require = createRequire(import.meta.url);

/**
 * The text of UTF-8 bytes, without a leading byte order mark (which JSON may not start with). Manifests
 * and API lists are nearly always plain ASCII, which is read as Latin-1 (the same characters, and
 * several times faster than a UTF-8 decode of tens of megabytes); anything else is decoded as UTF-8.
 */
export function textOfBytes(bytes: Uint8Array): string {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (isAscii(buffer)) return buffer.toString('latin1');
  const text = buffer.toString('utf8');
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** One document of a manifest text, or the error that made it unreadable. */
export type ParsedDocument = { readonly value: unknown } | { readonly error: string };

/** How many alias expansions a YAML document may make (a guard against "billion laughs"). */
export const maxAliasCount = 100;

/**
 * The documents of a YAML or JSON manifest text, in order. Three readers, fastest first, each
 * giving the same values: `JSON.parse` for a text that is JSON; js-yaml for YAML that uses no
 * aliases; the `yaml` package for the rest and for any text the others reject, so that an error
 * is always reported per document with its line and column, and alias expansion is bounded.
 */
export function parseDocuments(text: string): ParsedDocument[] {
  if (/^\s*[[{]/.test(text)) {
    try {
      return [{ value: JSON.parse(text) as unknown }];
    } catch {
      // Not JSON after all (a YAML flow collection, a comment, a second document): read as YAML.
    }
  }
  if (!mayHoldAlias(text)) {
    try {
      return fastYaml().loadAll(text, null, { schema: yaml12Schema(), json: true }).map((value) => ({ value }));
    } catch {
      // Invalid YAML, or a construct js-yaml does not take: the `yaml` package says where.
    }
  }
  return referenceYaml(text);
}

/**
 * Whether the text may use a YAML alias (`*name` after white space, `[`, `{`, `,` or `:`). Errs
 * on the side of yes (a quoted `" *"` counts): such texts take the reader that bounds expansion.
 */
function mayHoldAlias(text: string): boolean {
  return /(?:^|[\s,[{:])\*/.test(text);
}

/** The reference reader: per-document errors with line and column, and an alias limit. */
function referenceYaml(text: string): ParsedDocument[] {
  const yaml = require('yaml') as typeof Yaml;
  return yaml.parseAllDocuments(text, { uniqueKeys: false }).map((doc): ParsedDocument => {
    const e = doc.errors[0];
    if (!e) {
      try {
        return { value: doc.toJS({ maxAliasCount }) as unknown };
      } catch (err) {
        // Too many alias expansions: a problem of this document, reported like a syntax error.
        return { error: (err as Error).message };
      }
    }
    const pos = e.linePos?.[0];
    return { error: `${pos ? `line ${pos.line}, column ${pos.col}: ` : ''}${e.message.split('\n')[0]}` };
  });
}

function fastYaml(): typeof JsYaml {
  return require('js-yaml') as typeof JsYaml;
}

/** The js-yaml schema, built once. */
const schemas: JsYaml.Schema[] = [];

/** A plain-scalar rule of YAML 1.2's core schema: its tag, what it matches, and the value. */
function coreType(tag: string, pattern: RegExp, value: (data: string) => unknown): JsYaml.Type {
  const { Type } = fastYaml();
  return new Type(`tag:yaml.org,2002:${tag}`, { kind: 'scalar', resolve: (data: string | null) => pattern.test(data ?? ''), construct: (data: string | null) => value(data ?? '') });
}

/**
 * YAML 1.2's core schema (spec 1.2.2, 10.3.2), as the `yaml` package resolves plain scalars.
 * js-yaml's own core schema also reads YAML 1.1's `0b101` as a number and misses floats such as
 * `+.5`. So `100:6532` stays a string, as do `yes`, `on` and dates.
 */
function yaml12Schema(): JsYaml.Schema {
  if (schemas[0]) return schemas[0];
  const schema = fastYaml().FAILSAFE_SCHEMA.extend({
    implicit: [
      coreType('null', /^(?:~|null|Null|NULL|)$/, () => null),
      coreType('bool', /^(?:true|True|TRUE|false|False|FALSE)$/, (d) => d[0] === 't' || d[0] === 'T'),
      coreType('int', /^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$/, (d) => (d.startsWith('0o') ? parseInt(d.slice(2), 8) : d.startsWith('0x') ? parseInt(d.slice(2), 16) : Number(d))),
      coreType('float', /^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/, (d) =>
        /nan$/i.test(d) ? NaN : /inf$/i.test(d) ? (d.startsWith('-') ? -Infinity : Infinity) : Number(d)),
    ],
  });
  schemas.push(schema);
  return schema;
}

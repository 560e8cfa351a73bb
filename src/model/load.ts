import { readFileSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { z } from 'zod';
import { BGPConfiguration } from './bgp-configuration.js';
import { BGPFilter } from './bgp-filter.js';
import { BGPPeer } from './bgp-peer.js';
import { BlockAffinity } from './block-affinity.js';
import { formatFieldPath, type Diagnostic } from './diagnostics.js';
import { FelixConfiguration } from './felix-configuration.js';
import { IPPool } from './ip-pool.js';
import { EndpointSlice, plainEndpointSlice } from './k8s-endpoint-slice.js';
import { Endpoints } from './k8s-endpoints.js';
import { CalicoAnnotations, KubeNode, calicoNodeDocument } from './k8s-node.js';
import { Secret } from './k8s-secret.js';
import { Service, plainService } from './k8s-service.js';
import { JsonItemError, jsonList } from './json-list.js';
import { parseDocuments, textOfBytes, type ParsedDocument } from './manifest-text.js';
import { Node, plainNode } from './node.js';
import { describeId, namespaceOf, type Resource, type ResourceKind } from './resources.js';
import { Snapshot } from './snapshot.js';
import { compareText } from './sorted.js';
import { resourceWarnings } from './warnings.js';
import { WorkloadEndpointStatus } from './workload-endpoint-status.js';

/** Resources read from some input, with the problems found on the way. */
export interface LoadResult {
  resources: Resource[];
  diagnostics: Diagnostic[];
  /**
   * The file each resource came from (the same index), for diagnostics found later: a list beside
   * the resources rather than a weak map over tens of thousands of them, which the collector
   * would have to go through on every young-generation collection while they load.
   */
  origins: string[];
}

/** Limits that stop a hostile or broken input from exhausting memory. */
export const loadLimits = { maxFileBytes: 64 * 1024 * 1024, maxDocumentsPerFile: 200_000, maxObjects: 2_000_000 } as const;

const calicoGroups = new Set(['projectcalico.org/v3', 'crd.projectcalico.org/v1', '']);
const kubeGroups = new Set(['v1', '']);

type AnySchema = z.ZodType<unknown>;
const calicoSchemas: Partial<Record<string, AnySchema>> = {
  BGPConfiguration, BGPPeer, Node, IPPool, BlockAffinity, FelixConfiguration, BGPFilter,
};
const kubeSchemas: Partial<Record<string, AnySchema>> = { Service, Endpoints, Secret, Node: KubeNode };
/** The common-form readers of the kinds that come by the ten thousand (see common.ts), by schema. */
const plainReaders = new Map<AnySchema, (obj: Record<string, unknown>) => Resource | undefined>([
  [Service, plainService],
  [EndpointSlice, plainEndpointSlice],
  [Node, plainNode],
]);
/** Kinds of other API groups, by apiVersion (`bird-confd/v1` is this project's stand-in for Felix's status files). */
const groupSchemas: Partial<Record<string, Partial<Record<string, AnySchema>>>> = {
  'discovery.k8s.io/v1': { EndpointSlice },
  'bird-confd/v1': { WorkloadEndpointStatus },
};

/** Reads every document of a YAML or JSON text (multi-document, `List` kinds, JSON arrays). */
export function parseManifestText(text: string, file: string): LoadResult {
  const out: LoadResult = { resources: [], diagnostics: [], origins: [] };
  addText(text, file, out, {});
  return out;
}

/** The parsed documents of a manifest text, or none when it is over the limits (reported in `out`). */
function manifestDocuments(text: string, file: string, out: LoadResult): ParsedDocument[] {
  if (text.length > loadLimits.maxFileBytes) {
    out.diagnostics.push({ severity: 'error', file, message: `file is larger than ${loadLimits.maxFileBytes} bytes` });
    return [];
  }
  const list = parseDocuments(text);
  if (list.length > loadLimits.maxDocumentsPerFile) {
    // Many documents of one file are one List or many `---`; either way a bound, with a clear error.
    out.diagnostics.push({ severity: 'error', file, message: `more than ${loadLimits.maxDocumentsPerFile} documents` });
    return [];
  }
  return list;
}

/** Options of loading manifests. */
export interface LoadOptions {
  /** Kinds (by kind and apiVersion) the caller does not read: left out unvalidated, without a word. */
  readonly skip?: (kind: string, apiVersion: string) => boolean;
}

function addDocuments(list: ParsedDocument[], file: string, out: LoadResult, options: LoadOptions): void {
  list.forEach((doc, index) => {
    const where = list.length > 1 ? `${file}#${index + 1}` : file;
    if ('error' in doc) out.diagnostics.push({ severity: 'error', file, message: `invalid YAML/JSON: ${doc.error}` });
    else addDocument(doc.value, where, out, options);
  });
}

/**
 * Adds one parsed document (a resource, a `List`, or an array of them) to `out`. The items of a
 * `List` or an array are dropped from it as they are read, so that a large manifest is not held
 * twice, as parsed text and as resources (the documents are the loader's own).
 */
export function addDocument(doc: unknown, file: string, out: LoadResult, options: LoadOptions = {}): void {
  if (doc === null || doc === undefined) return;
  if (Array.isArray(doc)) {
    for (let i = 0; i < doc.length; i++) addDocument(takeItem(doc, i), file, out, options);
    return;
  }
  if (typeof doc !== 'object') {
    out.diagnostics.push({ severity: 'error', file, message: 'document is not an object' });
    return;
  }
  const obj = doc as Record<string, unknown>;
  const kind = typeof obj.kind === 'string' ? obj.kind : '';
  if (isList(obj)) {
    const items = obj.items as unknown[];
    addListItems(obj, items.length, (i) => takeItem(items, i), file, out, options);
    return;
  }
  if (options.skip?.(kind, typeof obj.apiVersion === 'string' ? obj.apiVersion : '')) return;
  const result = documentToResource(obj, file);
  if (result.diagnostics.length > 0) out.diagnostics.push(...result.diagnostics);
  if (result.resource) {
    out.resources.push(result.resource);
    out.origins.push(file.replace(/#\d+$/, ''));
  }
}

function isList(obj: Record<string, unknown>): boolean {
  const kind = typeof obj.kind === 'string' ? obj.kind : '';
  return (kind === 'List' || kind.endsWith('List')) && Array.isArray(obj.items);
}

/** The items of a `List` (a `FooList` gives its items without a kind the kind `Foo`). */
function addListItems(list: Record<string, unknown>, count: number, item: (i: number) => unknown, file: string, out: LoadResult, options: LoadOptions): void {
  const kind = list.kind as string;
  const itemKind = kind === 'List' ? undefined : kind.slice(0, -'List'.length);
  for (let i = 0; i < count; i++) {
    const it = item(i);
    const withKind = itemKind && it && typeof it === 'object' && !('kind' in it) ? { ...it, kind: itemKind, apiVersion: list.apiVersion } : it;
    addDocument(withKind, file, out, options);
  }
}

/**
 * Adds the documents of a manifest text. A JSON List is read item by item (see json-list.ts);
 * should an item prove not to be JSON, what it added is taken back and the whole text is read
 * the usual way, which reports the error as for any other text.
 */
function addText(text: string, file: string, out: LoadResult, options: LoadOptions): void {
  const list = text.length <= loadLimits.maxFileBytes && /^\s*\{/.test(text) ? jsonList(text) : null;
  if (list && isList(list.outer)) {
    const [resources, diagnostics] = [out.resources.length, out.diagnostics.length];
    try {
      addListItems(list.outer, list.count, (i) => list.item(i), file, out, options);
      return;
    } catch (err) {
      if (!(err instanceof JsonItemError)) throw err;
      out.resources.length = resources;
      out.origins.length = resources;
      out.diagnostics.length = diagnostics;
    }
  }
  addDocuments(manifestDocuments(text, file, out), file, out, options);
}

/** The item at `i`, removed from the array (so that it can be collected once read). */
function takeItem(items: unknown[], i: number): unknown {
  const item = items[i];
  items[i] = undefined;
  return item;
}

/** Validates one object document into a resource; unknown kinds are skipped with a warning. */
export function documentToResource(obj: Record<string, unknown>, file?: string): { resource?: Resource; diagnostics: Diagnostic[] } {
  const kind = typeof obj.kind === 'string' ? obj.kind : '';
  const apiVersion = typeof obj.apiVersion === 'string' ? obj.apiVersion : '';
  const schema = schemaFor(kind, apiVersion);
  // The usual form of a large kind is read without zod; anything else (and every problem) by the schema.
  const plain = schema && plainReaders.get(schema)?.(obj);
  if (plain) return { resource: plain, diagnostics: warningDiagnostics(plain, file, obj) };
  if (!schema) {
    const what = kind ? `unknown kind ${kind} (${apiVersion || 'no apiVersion'})` : 'document has no kind';
    return { diagnostics: [{ severity: 'warning', file, object: kind ? `${kind}/${nameOf(obj)}` : undefined, message: `${what}, skipped` }] };
  }
  const storedKind: ResourceKind = kind === 'Node' && apiVersion === 'v1' ? 'KubeNode' : (kind as ResourceKind);
  const object = objectOf(obj, storedKind);
  // The document itself is validated (zod returns new objects), copied only to rename a kind.
  const parsed = schema.safeParse(storedKind === kind ? obj : { ...obj, kind: storedKind });
  if (!parsed.success) return { diagnostics: zodDiagnostics(parsed.error, file, object) };
  if (storedKind !== 'KubeNode') return { resource: parsed.data as Resource, diagnostics: warningDiagnostics(parsed.data as Resource, file, obj) };
  return kubeNodeResource(parsed.data as KubeNode, file, object);
}

/** A document's name for a diagnostic: a name that is not a plain name is quoted and cut, so that a diagnostic stays one short line. */
function nameOf(obj: Record<string, unknown>): string {
  const meta = (obj.metadata ?? {}) as Record<string, unknown>;
  return typeof meta.name === 'string' && /^[\w.-]{1,253}$/.test(meta.name) ? meta.name : JSON.stringify(String(meta.name ?? '?')).slice(0, 80);
}

/** How a diagnostic names a document of a (stored) kind. */
function objectOf(obj: Record<string, unknown>, kind: ResourceKind): string {
  const meta = (obj.metadata ?? {}) as Record<string, unknown>;
  return describeId({ kind, namespace: namespaceOf(kind, meta.namespace as string | undefined), name: nameOf(obj) });
}

function schemaFor(kind: string, apiVersion: string): AnySchema | undefined {
  if (kind === 'Node') return apiVersion === 'v1' ? kubeSchemas.Node : calicoGroups.has(apiVersion) ? calicoSchemas.Node : undefined;
  if (calicoGroups.has(apiVersion) && calicoSchemas[kind]) return calicoSchemas[kind];
  if (kubeGroups.has(apiVersion) && kubeSchemas[kind]) return kubeSchemas[kind];
  return groupSchemas[apiVersion]?.[kind];
}

/** The warnings about a read resource, naming the document it was read from (named only when there are some). */
function warningDiagnostics(resource: Resource, file: string | undefined, obj: Record<string, unknown>): Diagnostic[] {
  const warnings = resourceWarnings(resource);
  if (warnings.length === 0) return [];
  const object = objectOf(obj, resource.kind);
  return warnings.map((w) => ({ severity: 'warning', file, object, field: w.field, message: w.message }));
}

const annotationOfField: Record<string, string> = {
  'spec.bgp.ipv4Address': CalicoAnnotations.ipv4,
  'spec.bgp.ipv6Address': CalicoAnnotations.ipv6,
  'spec.bgp.asNumber': CalicoAnnotations.asNumber,
  'spec.bgp.routeReflectorClusterID': CalicoAnnotations.rrClusterId,
};

function kubeNodeResource(node: KubeNode, file: string | undefined, object: string): { resource: Resource; diagnostics: Diagnostic[] } {
  const parsed = Node.safeParse(calicoNodeDocument(node));
  if (parsed.success) return { resource: { ...node, calicoNode: parsed.data }, diagnostics: [] };
  const diagnostics = zodDiagnostics(parsed.error, file, object).map((d) => ({
    ...d,
    field: d.field && annotationOfField[d.field] ? `metadata.annotations[${annotationOfField[d.field]}]` : d.field,
  }));
  return { resource: { ...node, calicoNode: null }, diagnostics };
}

function zodDiagnostics(error: z.ZodError, file: string | undefined, object: string): Diagnostic[] {
  return error.issues.map((issue) => ({
    severity: 'error' as const,
    file,
    object,
    field: formatFieldPath(issue.path),
    message: issue.code === 'invalid_type' && /received undefined/.test(issue.message) ? 'required field is missing' : issue.message,
  }));
}

/** Reads files and folders (every `*.yaml`, `*.yml`, `*.json` in a folder, sorted, not recursive into dot folders). */
export async function loadManifestPaths(paths: readonly string[], options: LoadOptions = {}): Promise<LoadResult> {
  const out: LoadResult = { resources: [], diagnostics: [], origins: [] };
  for (const path of paths) {
    if (out.resources.length > loadLimits.maxObjects) {
      out.diagnostics.push({ severity: 'error', file: path, message: `more than ${loadLimits.maxObjects} objects in all; not read` });
      break;
    }
    let files: string[];
    try {
      files = await manifestFiles(path);
    } catch (err) {
      out.diagnostics.push({ severity: 'error', file: path, message: `cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}` });
      continue;
    }
    // The text is an argument only while it is parsed: validation runs without it held.
    // Read and decoded at once, synchronously: the text is one flat string (a streamed decode gives
    // chunks, slow to scan), and the bytes it came from are garbage before the next collection.
    for (const file of files) addText(textOfBytes(readFileSync(file)), file, out, options);
  }
  return out;
}

/** The manifest files under a path: the path itself when it is a file, else its manifests, recursively and sorted. */
export async function manifestFiles(path: string): Promise<string[]> {
  const info = await stat(path);
  if (!info.isDirectory()) return [path];
  const entries = (await readdir(path, { withFileTypes: true })).sort((a, b) => compareText(a.name, b.name));
  const files: string[] = [];
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    const full = join(path, e.name);
    if (e.isDirectory()) files.push(...(await manifestFiles(full)));
    else if (/\.(ya?ml|json)$/i.test(e.name)) files.push(full);
  }
  return files;
}

/** A snapshot holding `resources`, later ones replacing earlier ones with the same identity. */
export function snapshotOf(resources: readonly Resource[]): Snapshot {
  const snap = new Snapshot();
  for (const r of resources) snap.apply(r);
  return snap;
}

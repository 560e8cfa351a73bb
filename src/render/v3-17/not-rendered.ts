import type { Diagnostic } from '../../model/diagnostics.js';
import { serviceNameOf } from '../../model/k8s-endpoint-slice.js';
import { describeId, idOf, type Resource, type ResourceKind } from '../../model/resources.js';
import type { Snapshot } from '../../model/snapshot.js';
import { unrenderedFields, type InputField } from '../input-fields.js';
import type { RenderStore } from '../store.js';

const message = 'not rendered by the Calico 3.17 profile (--calico-version 3.17); use 3.32';

/** The table's fields the v3.17 profile leaves out and reports, by kind. */
const unrendered = unrenderedFields('3.17');

/** The value at a dotted path of an object (undefined where the path ends). */
function valueAt(object: unknown, path: string): unknown {
  let v = object;
  for (const part of path.split('.')) v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[part] : undefined;
  return v;
}

/** Whether a value is set to anything at all: not null, empty, or an object of unset values. */
function isSet(v: unknown): boolean {
  if (v === null || v === undefined || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.values(v).some(isSet);
  return true;
}

function changesOutput(resource: Resource, f: InputField): boolean {
  if (f.only !== undefined && resource.metadata.name !== f.only) return false;
  const v = valueAt(resource, f.field);
  return isSet(v) && !(f.neutral ?? []).includes(v as string | number | boolean);
}

/**
 * The fields of one object that Calico v3.17's output leaves out although they are set and change
 * routing in v3.32 ('' for an object of a kind v3.17 does not read). Kept per object in the store.
 */
function unrenderedOf(store: RenderStore, resource: Resource): readonly string[] {
  let known = store.unrendered317.get(resource);
  if (!known) {
    known = (unrendered.get(resource.kind) ?? []).filter((f) => f.field === '' || changesOutput(resource, f)).map((f) => f.field);
    store.unrendered317.set(resource, known);
  }
  return known;
}

/** One warning per object: its fields, or the kind as a whole. */
function warningOf(resource: Resource, fields: readonly string[]): Diagnostic {
  const object = describeId(idOf(resource));
  if (resource.kind === 'EndpointSlice') {
    return { severity: 'warning', object, message: `Service ${serviceNameOf(resource)} has no v1 Endpoints, and EndpointSlices are ${message}` };
  }
  if (fields.includes('')) return { severity: 'warning', object, message: `this kind is ${message}` };
  return { severity: 'warning', object, field: fields.join(', '), message };
}

/**
 * An EndpointSlice matters to v3.17 only when its Service has no v1 Endpoints (Kubernetes keeps
 * both in step): then v3.17 advertises nothing for it, where v3.32 would.
 */
function sliceWithoutEndpoints(snapshot: Snapshot, resource: Resource): boolean {
  if (resource.kind !== 'EndpointSlice') return true;
  const service = serviceNameOf(resource);
  return service !== null && snapshot.get('Endpoints', service, resource.metadata.namespace || 'default') === undefined;
}

function kindRevision(snapshot: Snapshot, kind: ResourceKind): string {
  return kind === 'EndpointSlice' ? `${snapshot.kindRevision(kind)}/${snapshot.kindRevision('Endpoints')}` : String(snapshot.kindRevision(kind));
}

/**
 * Warnings for every object that sets what the v3.17 profile does not render (v3.32 fields and
 * kinds), one per object naming its fields: the profile is never silent about routing it drops.
 * Recomputed per kind only when that kind changed in the snapshot, from per-object results.
 */
export function notRenderedWarnings317(store: RenderStore, snapshot: Snapshot): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const kind of unrendered.keys()) {
    const revision = kindRevision(snapshot, kind);
    let cached = store.unrendered317Kinds.get(kind);
    if (cached?.snapshot !== snapshot || cached.revision !== revision) {
      const diagnostics: Diagnostic[] = [];
      for (const resource of snapshot.list(kind) as readonly Resource[]) {
        const fields = unrenderedOf(store, resource);
        if (fields.length > 0 && sliceWithoutEndpoints(snapshot, resource)) diagnostics.push(warningOf(resource, fields));
      }
      cached = { snapshot, revision, diagnostics };
      store.unrendered317Kinds.set(kind, cached);
    }
    out.push(...cached.diagnostics);
  }
  return out;
}

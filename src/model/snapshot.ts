import { idOf, resourceKinds, type Resource, type ResourceByKind, type ResourceId, type ResourceKind } from './resources.js';

/**
 * The in-memory datastore: resources keyed by kind, namespace and name. Pure, no I/O.
 * `revision` rises on every change, so callers can tell cheaply whether anything moved.
 */
export class Snapshot {
  private readonly byKind = new Map<ResourceKind, Map<string, Resource>>();
  private readonly sorted = new Map<ResourceKind, readonly Resource[]>();
  private rev = 0;

  constructor() {
    for (const kind of resourceKinds) this.byKind.set(kind, new Map());
  }

  /** The change counter. */
  get revision(): number {
    return this.rev;
  }

  /** Creates or replaces a resource (the same kind, namespace and name replaces, as `kubectl apply`). */
  apply(resource: Resource): void {
    const id = idOf(resource);
    this.table(id.kind).set(keyOf(id), resource);
    this.sorted.delete(id.kind);
    this.rev++;
  }

  /** Removes a resource; returns whether it was there. */
  delete(id: ResourceId): boolean {
    const removed = this.table(id.kind).delete(keyOf(id));
    if (removed) {
      this.sorted.delete(id.kind);
      this.rev++;
    }
    return removed;
  }

  /** One resource, or undefined. */
  get<K extends ResourceKind>(kind: K, name: string, namespace = ''): ResourceByKind[K] | undefined {
    return this.table(kind).get(`${namespace}/${name}`) as ResourceByKind[K] | undefined;
  }

  /** All resources of a kind, sorted by namespace and name so that results never depend on input order. */
  list<K extends ResourceKind>(kind: K): readonly ResourceByKind[K][] {
    let items = this.sorted.get(kind);
    if (!items) {
      const table = this.table(kind);
      items = [...table.keys()].sort(compareText).map((k) => table.get(k)!);
      this.sorted.set(kind, items);
    }
    return items as readonly ResourceByKind[K][];
  }

  /** How many resources of a kind are stored. */
  count(kind: ResourceKind): number {
    return this.table(kind).size;
  }

  /** A copy that can change independently (resources themselves are shared; they are never mutated). */
  clone(): Snapshot {
    const copy = new Snapshot();
    for (const [kind, table] of this.byKind) copy.byKind.set(kind, new Map(table));
    copy.rev = this.rev;
    return copy;
  }

  private table(kind: ResourceKind): Map<string, Resource> {
    return this.byKind.get(kind)!;
  }
}

function keyOf(id: ResourceId): string {
  return `${id.namespace}/${id.name}`;
}

/** Byte-wise (UTF-16 code unit) comparison, like Go's string order for ASCII. */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

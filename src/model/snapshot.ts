import { idOf, resourceKinds, type Resource, type ResourceByKind, type ResourceId, type ResourceKind } from './resources.js';

/**
 * The in-memory datastore: resources keyed by kind, namespace and name. Pure, no I/O.
 * `revision` rises on every change, so callers can tell cheaply whether anything moved.
 */
export class Snapshot {
  private readonly byKind = new Map<ResourceKind, Map<string, Resource>>();
  private readonly sorted = new Map<ResourceKind, readonly Resource[]>();
  private rev = 0;
  private readonly kindRev = new Map<ResourceKind, number>();

  constructor() {
    for (const kind of resourceKinds) this.byKind.set(kind, new Map());
  }

  /** The change counter. */
  get revision(): number {
    return this.rev;
  }

  /** The revision of the last change to one kind (0 when it never changed). */
  kindRevision(kind: ResourceKind): number {
    return this.kindRev.get(kind) ?? 0;
  }

  /**
   * Creates or replaces a resource (the same kind, namespace and name replaces, as `kubectl
   * apply`). Returns false, changing nothing, when an equal resource is already stored: resources
   * hold only the fields bird-confd reads, so an update of other fields is no change at all.
   */
  apply(resource: Resource): boolean {
    const id = idOf(resource);
    const table = this.table(id.kind);
    const key = keyOf(id);
    const old = table.get(key);
    if (old !== undefined && (old === resource || JSON.stringify(old) === JSON.stringify(resource))) return false;
    table.set(key, resource);
    this.touch(id.kind);
    return true;
  }

  /** Removes a resource; returns whether it was there. */
  delete(id: ResourceId): boolean {
    const removed = this.table(id.kind).delete(keyOf(id));
    if (removed) this.touch(id.kind);
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
    for (const [kind, rev] of this.kindRev) copy.kindRev.set(kind, rev);
    return copy;
  }

  private touch(kind: ResourceKind): void {
    this.sorted.delete(kind);
    this.rev++;
    this.kindRev.set(kind, this.rev);
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

import { compareText, lowerBound } from './sorted.js';
import { idOf, resourceKinds, type Resource, type ResourceByKind, type ResourceId, type ResourceKind } from './resources.js';

/** What `Snapshot.put` returns when an equal resource was already stored: nothing changed. */
export const UNCHANGED: unique symbol = Symbol('unchanged');

/**
 * The in-memory datastore: resources keyed by kind, namespace and name. Pure, no I/O.
 * `revision` rises on every change, so callers can tell cheaply whether anything moved.
 */
export class Snapshot {
  private readonly byKind = new Map<ResourceKind, Map<string, Resource>>();
  /** Per kind, when listed since the last full sort: the keys in order and the resources in the same order. */
  private readonly sorted = new Map<ResourceKind, { keys: readonly string[]; items: readonly Resource[] }>();
  private rev = 0;
  private readonly kindRev = new Map<ResourceKind, number>();
  /** Per kind, the keys changed recently, oldest first, with the revision of each change. */
  private readonly log = new Map<ResourceKind, { rev: number; key: string }[]>();
  /** Per kind, the newest revision the log no longer covers. */
  private readonly logFloor = new Map<ResourceKind, number>();

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
   * The keys (`namespace/name`) of one kind changed after `revision`, each once, or null when
   * the change log no longer reaches back that far (the caller then starts over). Lets derived
   * data follow a change in time proportional to the change, not to the snapshot.
   */
  changedSince(kind: ResourceKind, revision: number): string[] | null {
    if (revision < (this.logFloor.get(kind) ?? 0)) return null;
    const entries = this.log.get(kind) ?? [];
    const keys = new Set<string>();
    for (let i = entries.length - 1; i >= 0 && entries[i]!.rev > revision; i--) keys.add(entries[i]!.key);
    return [...keys];
  }

  /**
   * Creates or replaces a resource (the same kind, namespace and name replaces, as `kubectl
   * apply`). Returns false, changing nothing, when an equal resource is already stored: resources
   * hold only the fields bird-confd reads, so an update of other fields is no change at all.
   */
  apply(resource: Resource): boolean {
    return this.put(resource) !== UNCHANGED;
  }

  /**
   * `apply` that says what it replaced: the resource stored before under the same kind,
   * namespace and name, null when there was none, or UNCHANGED when an equal one is stored.
   */
  put(resource: Resource): Resource | null | typeof UNCHANGED {
    const id = idOf(resource);
    const table = this.table(id.kind);
    const key = keyOf(id);
    const old = table.get(key);
    if (old !== undefined && (old === resource || JSON.stringify(old) === JSON.stringify(resource))) return UNCHANGED;
    table.set(key, resource);
    this.patchSorted(id.kind, key, resource, old !== undefined);
    this.touch(id.kind, key);
    return old ?? null;
  }

  /** Removes a resource; returns whether it was there. */
  delete(id: ResourceId): boolean {
    return this.take(id) !== null;
  }

  /** Removes a resource; returns it, or null when it was not there. */
  take(id: ResourceId): Resource | null {
    const key = keyOf(id);
    const table = this.table(id.kind);
    const old = table.get(key);
    if (old === undefined) return null;
    table.delete(key);
    this.patchSorted(id.kind, key, null, true);
    this.touch(id.kind, key);
    return old;
  }

  /** One resource, or undefined. */
  get<K extends ResourceKind>(kind: K, name: string, namespace = ''): ResourceByKind[K] | undefined {
    return this.table(kind).get(`${namespace}/${name}`) as ResourceByKind[K] | undefined;
  }

  /** All resources of a kind, sorted by namespace and name so that results never depend on input order. */
  list<K extends ResourceKind>(kind: K): readonly ResourceByKind[K][] {
    return this.sortedEntry(kind).items as readonly ResourceByKind[K][];
  }

  /** The keys (`namespace/name`) of `list(kind)`, in the same order: made once, not again by each reader of the list. */
  keys(kind: ResourceKind): readonly string[] {
    return this.sortedEntry(kind).keys;
  }

  private sortedEntry(kind: ResourceKind): { keys: readonly string[]; items: readonly Resource[] } {
    let entry = this.sorted.get(kind);
    if (!entry) {
      const table = this.table(kind);
      const keys = [...table.keys()].sort(compareText);
      entry = { keys, items: keys.map((k) => table.get(k)!) };
      this.sorted.set(kind, entry);
    }
    return entry;
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
    // The copy has no history: asking it what changed before now starts over.
    for (const kind of resourceKinds) copy.logFloor.set(kind, this.rev);
    return copy;
  }

  /**
   * Keeps a kind's sorted list in step with one change, in place of a full sort on the next
   * `list`: lists already handed out stay as they were (a new array is made).
   */
  private patchSorted(kind: ResourceKind, key: string, resource: Resource | null, existed: boolean): void {
    const entry = this.sorted.get(kind);
    if (!entry) return;
    const at = lowerBound(entry.keys, key, (k) => k);
    const keys = entry.keys.slice();
    const items = entry.items.slice();
    if (existed && resource) items[at] = resource;
    else if (existed) {
      keys.splice(at, 1);
      items.splice(at, 1);
    } else if (resource) {
      keys.splice(at, 0, key);
      items.splice(at, 0, resource);
    }
    this.sorted.set(kind, { keys, items });
  }

  private touch(kind: ResourceKind, key: string): void {
    this.rev++;
    this.kindRev.set(kind, this.rev);
    let entries = this.log.get(kind);
    if (!entries) this.log.set(kind, (entries = []));
    entries.push({ rev: this.rev, key });
    if (entries.length > LOG_LIMIT) {
      const dropped = entries.splice(0, entries.length - LOG_LIMIT / 2);
      this.logFloor.set(kind, dropped[dropped.length - 1]!.rev);
    }
  }

  private table(kind: ResourceKind): Map<string, Resource> {
    return this.byKind.get(kind)!;
  }
}

/** How many changes per kind the log keeps (then it drops the older half). */
const LOG_LIMIT = 2048;

function keyOf(id: ResourceId): string {
  return `${id.namespace}/${id.name}`;
}

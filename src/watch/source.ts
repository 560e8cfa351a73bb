import type { Diagnostic } from '../model/diagnostics.js';
import type { Resource, ResourceId } from '../model/resources.js';

/**
 * What every datastore source emits into the daemon's snapshot.
 * - `upsert`: a resource was listed, created or changed.
 * - `delete`: a resource is gone.
 * - `reset`: the source starts a fresh list (first start, etcd compaction, Kubernetes 410), with
 *   the reason when it is not the first. The daemon keeps the last good files meanwhile; at the
 *   next `synced`, whatever this source held and did not upsert since the reset is deleted.
 * - `synced`: the source has delivered a complete list. Nothing renders before every source has
 *   said so once.
 * - `problem`: an object or file that cannot be used; it is reported and the last good version of
 *   the object stays.
 * - `status`: connection state changes, for logs, status and metrics. A source may repeat
 *   `disconnected` on every failed retry; the daemon logs transitions only.
 */
export type SourceEvent =
  | { readonly type: 'upsert'; readonly resource: Resource }
  | { readonly type: 'delete'; readonly id: ResourceId }
  | { readonly type: 'reset'; readonly reason?: string }
  | { readonly type: 'synced' }
  | { readonly type: 'problem'; readonly diagnostic: Diagnostic }
  | { readonly type: 'status'; readonly state: 'connected' | 'disconnected'; readonly detail?: string };

/** A datastore source: folder, etcd v3 or Kubernetes. */
export interface Source {
  /** A short name for logs and metrics, e.g. `file:/etc/manifests`, `etcdv3`, `kubernetes`. */
  readonly name: string;
  /**
   * Starts listing and watching; events go to `emit` in order. Resolves once the first complete
   * list has been emitted (`synced`), retrying meanwhile, or once `stop()` was called.
   */
  start(emit: (event: SourceEvent) => void): Promise<void>;
  /** Stops watching and releases connections; pending retries and streams are abandoned, not awaited. */
  stop(): Promise<void>;
}

/** The back-off delay after `attempt` failures: about 1 s doubling to 30 s. Injectable for tests. */
export type Backoff = (attempt: number) => number;

/** The default back-off: 1 s, 2 s, 4 s, ... capped at 30 s. */
export const defaultBackoff: Backoff = (attempt) => Math.min(30_000, 1000 * 2 ** Math.max(0, attempt));

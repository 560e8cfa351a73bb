import { readFileSync } from 'node:fs';
import { Etcd3, type IKeyValue, type Watcher } from 'etcd3';
import { documentToResource } from '../model/load.js';
import type { ResourceId } from '../model/resources.js';
import { defaultBackoff, type Backoff, type Source, type SourceEvent } from './source.js';

/** Connection settings, as calico-node's ETCD_* variables give them. */
export interface EtcdConfig {
  readonly endpoints: readonly string[];
  readonly caFile?: string;
  readonly certFile?: string;
  readonly keyFile?: string;
  readonly nodeName: string;
  readonly backoff?: Backoff;
}

const resourcePrefix = '/calico/resources/v3/projectcalico.org/';
const kinds: Record<string, string> = {
  bgpconfigurations: 'BGPConfiguration',
  bgppeers: 'BGPPeer',
  nodes: 'Node',
  ippools: 'IPPool',
  felixconfigurations: 'FelixConfiguration',
  bgpfilters: 'BGPFilter',
};

/**
 * What a node's source lists and watches: the prefix of each kind it reads, and its own block
 * affinities. Never the whole resource tree: in an etcd-backed Calico cluster it also holds a
 * WorkloadEndpoint per pod, the policies and the profiles, which every node would otherwise list
 * at start and hear about on every pod's churn.
 */
export function etcdPrefixes(nodeName: string): string[] {
  return [...Object.keys(kinds).map((plural) => `${resourcePrefix}${plural}/`), `/calico/ipam/v2/host/${nodeName}/`];
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The resource document a Calico etcd key and value stand for, or null for keys bird-confd does not read. */
export function etcdDocument(key: string, value: string, nodeName: string): Record<string, unknown> | null {
  if (key.startsWith(resourcePrefix)) {
    const [plural, name, extra] = key.slice(resourcePrefix.length).split('/');
    const kind = plural ? kinds[plural] : undefined;
    if (!kind || !name || extra !== undefined) return null;
    // A fresh parse: kind, version and name (the key's) are set in place.
    const parsed = JSON.parse(value) as unknown;
    const obj = (isPlainObject(parsed) ? parsed : {}) as Record<string, unknown>;
    obj.kind = kind;
    obj.apiVersion = 'projectcalico.org/v3';
    obj.metadata = isPlainObject(obj.metadata) ? Object.assign(obj.metadata, { name }) : { name };
    return obj;
  }
  const block = new RegExp(`^/calico/ipam/v2/host/${nodeName.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/ipv[46]/block/(.+)$`).exec(key);
  if (block) {
    const cidrKey = block[1]!;
    const dash = cidrKey.lastIndexOf('-');
    const cidr = `${cidrKey.slice(0, dash)}/${cidrKey.slice(dash + 1)}`;
    const v = (value ? JSON.parse(value) : {}) as { state?: string };
    return { apiVersion: 'crd.projectcalico.org/v1', kind: 'BlockAffinity', metadata: { name: `${nodeName}-${cidrKey.replace(/[^A-Za-z0-9.-]/g, '-')}` }, spec: { node: nodeName, cidr, state: v.state ?? '' } };
  }
  return null;
}

/**
 * Calico's etcd v3 datastore: v3 resources and this node's block affinities. Lists with a
 * revision, then watches from the next one. The client resumes a broken watch from the last seen
 * revision by itself; when that revision was compacted, the source lists again (`reset`, upserts,
 * `synced`), so what vanished meanwhile is deleted.
 */
export function createEtcdSource(config: EtcdConfig): Source {
  return new EtcdSource(config);
}

class EtcdSource implements Source {
  readonly name = 'etcdv3';
  private readonly client: Etcd3;
  private readonly prefixes: readonly string[];
  private readonly ids = new Map<string, ResourceId>();
  private readonly backoff: Backoff;
  private emit: (e: SourceEvent) => void = () => undefined;
  private watchers: Watcher[] = [];
  /** Watchers whose stream is down now: the source is connected again only once none is. */
  private readonly down = new Set<Watcher>();
  private stopped = false;
  private restarting = false;
  private attempt = 0;
  private wake: (() => void) | null = null;

  constructor(private readonly config: EtcdConfig) {
    const tls = config.caFile ? { rootCertificate: readFileSync(config.caFile), certChain: config.certFile ? readFileSync(config.certFile) : undefined, privateKey: config.keyFile ? readFileSync(config.keyFile) : undefined } : undefined;
    this.client = new Etcd3({ hosts: [...config.endpoints], credentials: tls, dialTimeout: 3000 });
    this.prefixes = etcdPrefixes(config.nodeName);
    this.backoff = config.backoff ?? defaultBackoff;
  }

  async start(emit: (e: SourceEvent) => void): Promise<void> {
    this.emit = emit;
    await this.restart();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    // Streams are abandoned, not awaited: with etcd away a cancel may never be answered.
    for (const w of this.watchers) void w.cancel().catch(() => undefined);
    this.client.close();
  }

  private handle(kv: IKeyValue, deleted: boolean): void {
    const key = kv.key.toString();
    if (deleted) {
      const id = this.ids.get(key);
      if (id) this.emit({ type: 'delete', id });
      this.ids.delete(key);
      return;
    }
    let doc: Record<string, unknown> | null;
    try {
      doc = etcdDocument(key, kv.value.toString(), this.config.nodeName);
    } catch {
      this.emit({ type: 'problem', diagnostic: { severity: 'error', file: key, message: 'value is not valid JSON; the last good version stays' } });
      return;
    }
    if (!doc) return;
    const r = documentToResource(doc, key);
    for (const d of r.diagnostics) this.emit({ type: 'problem', diagnostic: d });
    if (!r.resource) return;
    this.ids.set(key, { kind: r.resource.kind, namespace: '', name: r.resource.metadata.name });
    this.emit({ type: 'upsert', resource: r.resource });
  }

  private async listAndWatch(): Promise<void> {
    // The prefixes are listed at once; each is watched from the revision of its own list.
    const lists = await Promise.all(this.prefixes.map((prefix) => this.client.getAll().prefix(prefix).exec()));
    const revisions = lists.map((res) => res.header.revision);
    for (const res of lists) for (const kv of res.kvs) this.handle(kv, false);
    this.emit({ type: 'synced' });
    this.emit({ type: 'status', state: 'connected' });
    this.attempt = 0;
    this.watchers = await Promise.all(this.prefixes.map((prefix, i) => this.watch(prefix, String(BigInt(revisions[i]!) + 1n))));
  }

  private async watch(prefix: string, fromRevision: string): Promise<Watcher> {
    const w = await this.client.watch().prefix(prefix).startRevision(fromRevision).create();
    w.on('put', (kv) => this.handle(kv, false));
    w.on('delete', (kv) => this.handle(kv, true));
    w.on('disconnected', (err: Error) => {
      this.down.add(w);
      this.emit({ type: 'status', state: 'disconnected', detail: err.message });
    });
    w.on('connected', () => {
      this.down.delete(w);
      if (this.down.size === 0) this.emit({ type: 'status', state: 'connected' });
    });
    // A compacted start revision cancels the watch: list again from scratch.
    w.on('error', (err: Error) => void this.restart(`watch canceled (compacted history?): ${err.message}`));
    return w;
  }

  /** Lists and watches, retrying with back-off until it works or the source stops. */
  private async restart(reason?: string): Promise<void> {
    if (this.restarting || this.stopped) return;
    this.restarting = true;
    // A watcher the server already canceled may never answer a cancel: do not wait for it.
    for (const w of this.watchers) {
      w.removeAllListeners();
      void w.cancel().catch(() => undefined);
    }
    this.watchers = [];
    this.down.clear();
    this.emit({ type: 'reset', reason });
    while (!this.stopped) {
      try {
        await this.listAndWatch();
        break;
      } catch (err) {
        this.emit({ type: 'status', state: 'disconnected', detail: (err as Error).message });
        // The wait ends early on stop().
        await new Promise<void>((r) => {
          this.wake = r;
          setTimeout(r, this.backoff(this.attempt++)).unref();
        });
      }
    }
    this.restarting = false;
  }
}

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

/** The resource document a Calico etcd key and value stand for, or null for keys bird-confd does not read. */
export function etcdDocument(key: string, value: string, nodeName: string): Record<string, unknown> | null {
  if (key.startsWith(resourcePrefix)) {
    const [plural, name, extra] = key.slice(resourcePrefix.length).split('/');
    const kind = plural ? kinds[plural] : undefined;
    if (!kind || !name || extra !== undefined) return null;
    const obj = JSON.parse(value) as Record<string, unknown>;
    return { ...obj, kind, apiVersion: 'projectcalico.org/v3', metadata: { ...((obj.metadata as object) ?? {}), name } };
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
  const tls = config.caFile ? { rootCertificate: readFileSync(config.caFile), certChain: config.certFile ? readFileSync(config.certFile) : undefined, privateKey: config.keyFile ? readFileSync(config.keyFile) : undefined } : undefined;
  const client = new Etcd3({ hosts: [...config.endpoints], credentials: tls, dialTimeout: 3000 });
  const prefixes = [resourcePrefix, `/calico/ipam/v2/host/${config.nodeName}/`];
  const ids = new Map<string, ResourceId>();
  let watchers: Watcher[] = [];
  let stopped = false;
  let attempt = 0;
  const backoff = config.backoff ?? defaultBackoff;

  const handle = (emit: (e: SourceEvent) => void, kv: IKeyValue, deleted: boolean) => {
    const key = kv.key.toString();
    if (deleted) {
      const id = ids.get(key);
      if (id) emit({ type: 'delete', id });
      ids.delete(key);
      return;
    }
    let doc: Record<string, unknown> | null;
    try {
      doc = etcdDocument(key, kv.value.toString(), config.nodeName);
    } catch {
      emit({ type: 'problem', diagnostic: { severity: 'error', file: key, message: 'value is not valid JSON; the last good version stays' } });
      return;
    }
    if (!doc) return;
    const r = documentToResource(doc, key);
    for (const d of r.diagnostics) emit({ type: 'problem', diagnostic: d });
    if (!r.resource) return;
    ids.set(key, { kind: r.resource.kind, namespace: '', name: r.resource.metadata.name });
    emit({ type: 'upsert', resource: r.resource });
  };

  const listAndWatch = async (emit: (e: SourceEvent) => void): Promise<void> => {
    emit({ type: 'reset' });
    const revisions: string[] = [];
    for (const prefix of prefixes) {
      const res = await client.getAll().prefix(prefix).exec();
      for (const kv of res.kvs) handle(emit, kv, false);
      revisions.push(res.header.revision);
    }
    emit({ type: 'synced' });
    emit({ type: 'status', state: 'connected' });
    attempt = 0;
    watchers = await Promise.all(
      prefixes.map(async (prefix, i) => {
        const w = await client.watch().prefix(prefix).startRevision(String(BigInt(revisions[i]!) + 1n)).create();
        w.on('put', (kv) => handle(emit, kv, false));
        w.on('delete', (kv) => handle(emit, kv, true));
        w.on('disconnected', (err: Error) => emit({ type: 'status', state: 'disconnected', detail: err.message }));
        w.on('connected', () => emit({ type: 'status', state: 'connected' }));
        w.on('error', (err: Error) => {
          // A compacted start revision cancels the watch: list again from scratch.
          emit({ type: 'status', state: 'disconnected', detail: `watch canceled (compacted history?), listing again: ${err.message}` });
          void restart(emit);
        });
        return w;
      }),
    );
  };

  let restarting = false;
  const restart = async (emit: (e: SourceEvent) => void): Promise<void> => {
    if (restarting || stopped) return;
    restarting = true;
    // A watcher the server already canceled may never answer a cancel: do not wait for it.
    for (const w of watchers) {
      w.removeAllListeners();
      void w.cancel().catch(() => undefined);
    }
    watchers = [];
    while (!stopped) {
      try {
        await listAndWatch(emit);
        break;
      } catch (err) {
        emit({ type: 'status', state: 'disconnected', detail: (err as Error).message });
        await new Promise((r) => setTimeout(r, backoff(attempt++)));
      }
    }
    restarting = false;
  };

  return {
    name: 'etcdv3',
    async start(emit) {
      void restart(emit);
    },
    async stop() {
      stopped = true;
      await Promise.race([Promise.all(watchers.map((w) => w.cancel().catch(() => undefined))), new Promise((r) => setTimeout(r, 500))]);
      client.close();
    },
  };
}

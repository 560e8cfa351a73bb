import { writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';

type Obj = { metadata: { name: string; namespace?: string; resourceVersion?: string; [k: string]: unknown }; [k: string]: unknown };
interface Watcher { readonly collection: string; readonly namespace: string | null; readonly res: ServerResponse }

/** How the server listens: plain HTTP on 127.0.0.1 unless told otherwise. */
export interface FakeKubeApiOptions {
  /** Serve HTTPS with this key and certificate (PEM), as a real API server does. */
  readonly tls?: { readonly key: string; readonly cert: string };
  /** Answer 401 to any request without `Authorization: Bearer <token>`. */
  readonly token?: string;
  /** The address to listen on (default 127.0.0.1). */
  readonly host?: string;
}

/**
 * An in-process Kubernetes API server for tests, speaking the real list/watch protocol over HTTP:
 * lists carry a resourceVersion; `?watch=true&resourceVersion=N` streams newline-delimited watch
 * events from N on; a watch from before the compaction point gets a 410 Gone (an ERROR event with
 * a Status, as the API server sends) and the stream ends. Requests can be paused (held) or failed.
 */
export class FakeKubeApi {
  private rv = 100;
  private compactedBelow = 0;
  private readonly store = new Map<string, Map<string, Obj>>();
  private readonly log: { rv: number; collection: string; type: string; obj: Obj }[] = [];
  private readonly watchers = new Set<Watcher>();
  /**
   * List bodies already serialized, by collection and namespace, until the next change (a real API
   * server answers lists from its watch cache): a large list is not serialized again, in this
   * process, on every request while the client under test runs on the same cores.
   */
  private readonly listBodies = new Map<string, string>();
  private held: (() => void)[] = [];
  private paused = false;
  /** Every path asked for (list or watch), so that tests can hold them against RBAC rules. */
  readonly requestedPaths = new Set<string>();
  /** HTTP status to answer every request with (e.g. 503), or 0 to serve normally. */
  failWith = 0;
  private server: Server | null = null;
  port = 0;

  /** Requests refused for a missing or wrong bearer token. */
  unauthorized = 0;

  /** Starts listening on a free port (127.0.0.1, plain HTTP, no token checked, unless `options` say otherwise). */
  async start(options: FakeKubeApiOptions = {}): Promise<void> {
    const serve = (req: IncomingMessage, res: ServerResponse) => {
      if (options.token !== undefined && req.headers.authorization !== `Bearer ${options.token}`) {
        this.unauthorized++;
        res.writeHead(401, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Unauthorized', code: 401 }));
        return;
      }
      this.handle(req, res);
    };
    this.server = options.tls ? createHttpsServer({ key: options.tls.key, cert: options.tls.cert }, serve) : createServer(serve);
    await new Promise<void>((resolve) => this.server!.listen(0, options.host ?? '127.0.0.1', () => resolve()));
    this.port = (this.server.address() as { port: number }).port;
  }

  /** Writes a kubeconfig pointing at this server. */
  writeKubeconfig(file: string): void {
    writeFileSync(file, `apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster: {server: "http://127.0.0.1:${this.port}", insecure-skip-tls-verify: true}\nusers:\n- name: u\n  user: {token: fake-token}\ncontexts:\n- name: c\n  context: {cluster: fake, user: u}\ncurrent-context: c\n`);
  }

  /** Creates or replaces an object in a collection (`nodes`, `services`, `endpoints`, `endpointslices`, `secrets`, or a Calico plural). */
  set(collection: string, obj: Obj): void {
    const key = `${obj.metadata.namespace ?? ''}/${obj.metadata.name}`;
    const table = this.table(collection);
    const type = table.has(key) ? 'MODIFIED' : 'ADDED';
    const stored = { ...obj, metadata: { ...obj.metadata, resourceVersion: String(++this.rv) } };
    table.set(key, stored);
    this.record(collection, type, stored);
  }

  /** Deletes an object. */
  delete(collection: string, name: string, namespace?: string): void {
    const key = `${namespace ?? ''}/${name}`;
    const table = this.table(collection);
    const obj = table.get(key);
    if (!obj) return;
    table.delete(key);
    this.record(collection, 'DELETED', { ...obj, metadata: { ...obj.metadata, resourceVersion: String(++this.rv) } });
  }

  /** Every object of a collection now. */
  objects(collection: string): Obj[] {
    return [...this.table(collection).values()];
  }

  /** Forgets history: a watch from an older resourceVersion gets 410 Gone. */
  compact(): void {
    this.compactedBelow = this.rv;
  }

  /** Ends every open watch stream (clients reconnect from their last resourceVersion). */
  disconnectAll(): void {
    for (const w of this.watchers) w.res.end();
    this.watchers.clear();
  }

  /** Holds new requests until resume(). */
  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    const held = this.held;
    this.held = [];
    for (const go of held) go();
  }

  async close(): Promise<void> {
    this.disconnectAll();
    this.resume();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
    this.server?.closeAllConnections?.();
  }

  private table(collection: string): Map<string, Obj> {
    let t = this.store.get(collection);
    if (!t) this.store.set(collection, (t = new Map()));
    return t;
  }

  private record(collection: string, type: string, obj: Obj): void {
    this.listBodies.clear();
    this.log.push({ rv: this.rv, collection, type, obj });
    for (const w of this.watchers) if (w.collection === collection && (w.namespace === null || w.namespace === (obj.metadata.namespace ?? ''))) w.res.write(`${JSON.stringify({ type, object: obj })}\n`);
  }

  /** A list of a collection (in one namespace, or all), as JSON. */
  private listBody(collection: string, namespace: string | null): string {
    const key = `${collection}/${namespace ?? ''}`;
    let body = this.listBodies.get(key);
    if (body === undefined) {
      const items = [...this.table(collection).values()].filter((o) => namespace === null || (o.metadata.namespace ?? '') === namespace);
      body = JSON.stringify({ kind: 'List', apiVersion: 'v1', metadata: { resourceVersion: String(this.rv) }, items });
      this.listBodies.set(key, body);
    }
    return body;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    if (this.paused) {
      this.held.push(() => this.handle(req, res));
      return;
    }
    if (this.failWith) {
      res.writeHead(this.failWith, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code: this.failWith }));
      return;
    }
    const url = new URL(req.url ?? '/', 'http://x');
    this.requestedPaths.add(url.pathname);
    const route =
      /^\/api\/v1\/(?:namespaces\/([^/]+)\/)?(nodes|services|endpoints|secrets)$/.exec(url.pathname) ??
      /^\/apis\/discovery\.k8s\.io\/v1\/(?:namespaces\/([^/]+)\/)?(endpointslices)$/.exec(url.pathname) ??
      /^\/apis\/crd\.projectcalico\.org\/v1\/()([a-z]+)$/.exec(url.pathname);
    if (!route) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ kind: 'Status', code: 404 }));
      return;
    }
    const namespace = route[1] || null;
    const collection = route[2]!;
    if (url.searchParams.get('watch') !== 'true') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(this.listBody(collection, namespace));
      return;
    }
    const from = Number(url.searchParams.get('resourceVersion') ?? '0');
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    res.flushHeaders();
    if (from < this.compactedBelow) {
      res.end(`${JSON.stringify({ type: 'ERROR', object: { kind: 'Status', apiVersion: 'v1', status: 'Failure', message: 'too old resource version', reason: 'Expired', code: 410 } })}\n`);
      return;
    }
    for (const e of this.log) {
      if (e.rv > from && e.collection === collection && (namespace === null || (e.obj.metadata.namespace ?? '') === namespace)) res.write(`${JSON.stringify({ type: e.type, object: e.obj })}\n`);
    }
    const w: Watcher = { collection, namespace, res };
    this.watchers.add(w);
    req.on('close', () => this.watchers.delete(w));
  }
}

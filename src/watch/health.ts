import { createServer, type Server } from 'node:http';
import type { DaemonMetrics } from './metrics.js';

/** What the probes report. */
export interface HealthState {
  /** The process is alive and its loop turns. */
  readonly live: boolean;
  /** Every source synced, and the last apply succeeded (or nothing needed applying). */
  readonly ready: boolean;
  /** A short human reason, shown in the probe body. */
  readonly detail: string;
}

/**
 * Serves `/livez`, `/readyz` (200 or 503, usable as Kubernetes probes) and `/metrics` on
 * `address` (`host:port`; port 0 picks a free one). Resolves once listening.
 */
export async function startHealthServer(address: string, metrics: DaemonMetrics, state: () => HealthState): Promise<Server> {
  const colon = address.lastIndexOf(':');
  const host = address.slice(0, colon).replace(/^\[|\]$/g, '') || '0.0.0.0';
  const port = Number(address.slice(colon + 1));
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/metrics') {
      metrics.registry.metrics().then(
        (text) => {
          res.writeHead(200, { 'content-type': metrics.registry.contentType });
          res.end(text);
        },
        (err: Error) => {
          res.writeHead(500);
          res.end(err.message);
        },
      );
      return;
    }
    if (path === '/livez' || path === '/readyz') {
      const s = state();
      const ok = path === '/livez' ? s.live : s.ready;
      res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' });
      res.end(`${ok ? 'ok' : 'not ok'}: ${s.detail}\n`);
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found: try /livez, /readyz or /metrics\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return server;
}

import type { Logger } from 'pino';
import { Daemon } from '../watch/daemon.js';
import { daemonHeap } from './bulk-load.js';
import { startDriftCheck } from '../watch/drift.js';
import { daemonHealth, startHealthServer } from '../watch/health.js';
import { createLogger } from '../watch/logger.js';
import { DaemonMetrics } from '../watch/metrics.js';
import { cleanStale, readOutputDir } from '../watch/output-dir.js';
import { loopPreventionRules } from '../watch/policy-rule.js';
import { defaultSafeReload } from '../watch/safe-reload.js';
import { createSources } from '../watch/sources.js';
import { renderFlagsHelp } from './common.js';
import { checksOf, probeOf, reloaderOf, reloadsOverSocket } from './watch-parts.js';
import { watchSettings, type WatchSettings } from './watch-settings.js';

/** Help text of `bird-confd watch`. */
export const watchUsage = `Usage: bird-confd watch [--datastore file|etcdv3|kubernetes] [--node NAME] [--out DIR] [options]

Follows a datastore and keeps this node's BIRD files up to date: renders on every relevant
change (debounced), writes the complete set into a staging generation beside --out, checks it
with BIRD, swaps it in atomically and reloads each BIRD daemon whose files changed.

  -d, --datastore D     file (a folder of manifests, -f), etcdv3 or kubernetes
                        (default: env DATASTORE_TYPE, else file with -f, else kubernetes)
${renderFlagsHelp}
  -o, --out DIR         output folder (default /etc/calico/confd/config); files there are
                        symlinks into the current generation, swapped atomically
      --oneshot         wait for the first complete sync, render, check, apply, reload, exit
                        (0 on success, 1 on failure), like confd -onetime
      --debounce MS     changes within this window make one render (default 100)
      --check MODE      how a staged set is checked before the swap: socket (the running BIRD
                        checks it: configure check "<staged bird.cfg>" over --socket; the default
                        where BIRD is reloaded over its socket), parse (bird -p -c, bird6 -p -c;
                        the default otherwise) or none
      --check-cmd CMD   check the staged bird.cfg with this command, {file} = its path
                        (e.g. /opt/calico/bird -p -c {file})
      --check-cmd6 CMD  the same for bird6.cfg
      --no-check        the same as --check none
      --reload-cmd CMD  reload bird with a shell command instead of its control socket (with
                        --target windows the default is powershell -File OUT\\config-bgp.ps1)
      --reload-cmd6 CMD reload bird6 with a shell command
      --socket PATH     bird's control socket (default /var/run/calico/bird.ctl)
      --socket6 PATH    bird6's control socket (default /var/run/calico/bird6.ctl)
      --reload-mode M   timeout (default: configure check, configure timeout, then configure
                        confirm once the sessions that were up are up again, else undo; sessions
                        whose own configuration changed may stay down) or plain
      --reload-timeout S  BIRD undoes an unconfirmed reload after S seconds (default ${defaultSafeReload.timeoutSeconds})
      --reload-grace S  seconds sessions get to come back before the reload is undone (default ${defaultSafeReload.graceMs / 1000})
      --no-reload       write files only
      --drift-interval S  every S seconds compare what BIRD runs (over its socket) with the
                        applied files, as "status" does; on drift, log it and reload (default 60;
                        0 turns it off; only with the socket reload)
      --metrics-address HOST:PORT
                        serve /metrics, /livez and /readyz there
      --degraded-after S  /readyz reports degraded (503) once a datastore source has been out of
                        sync for S seconds (default 10); shorter blips do not flap the probe
      --log-level L     debug, info, warning, error (default: env BGP_LOGSEVERITYSCREEN, else info)
  -h, --help            this help

Environment (as calico-node): NODENAME, DATASTORE_TYPE, ETCD_ENDPOINTS, ETCD_CA_CERT_FILE,
ETCD_CERT_FILE, ETCD_KEY_FILE, KUBECONFIG, NAMESPACE, CALICO_ROUTER_ID, BGP_LOGSEVERITYSCREEN,
CALICO_ENDPOINT_STATUS_PATH_PREFIX (Felix's workload endpoint-status files for local workload
peering are read from PREFIX/endpoint-status/; default /var/run/calico; Calico 3.32, Linux).`;

/** How long a stop waits for the work in progress before it abandons it (the whole stop stays under 2 s). */
const STOP_WAIT_MS = 1500;

/** `bird-confd watch`: runs until SIGTERM/SIGINT (or once with --oneshot); returns the exit code. */
export async function watchCommand(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const settings = watchSettings(argv, env);
  if (!settings) {
    process.stdout.write(`${watchUsage}\n`);
    return 0;
  }
  const logger = createLogger(settings.logLevel);
  const metrics = new DaemonMetrics();
  const sources = await createSources(settings.datastore, { files: settings.files, env, node: settings.node, logger, target: settings.render.target, calicoVersion: settings.render.calicoVersion });
  const daemon = new Daemon({
    node: settings.node,
    out: settings.out,
    sources,
    debounceMs: settings.debounceMs,
    render: settings.render,
    checks: checksOf(settings, logger),
    reload: reloaderOf(settings, logger),
    probe: probeOf(settings),
    logger,
    metrics,
    afterRender: settings.render.target === 'windows' ? undefined : loopPreventionRules(logger, new Set(readOutputDir(settings.out)?.keys())),
  });
  const server = settings.metricsAddress ? await startHealthServer(settings.metricsAddress, metrics, () => daemonHealth(daemon, settings.degradedAfterMs)) : null;
  logger.info({ node: settings.node, datastore: settings.datastore, out: settings.out }, 'starting');
  try {
    return await run(daemon, settings, logger, metrics);
  } finally {
    server?.close();
    server?.closeAllConnections();
    // A source may still hold a retry timer or a half-open stream: they must not keep the process.
    // (After the exit code is set: the promise chain up to main's caller runs before an immediate.)
    setImmediate(() => process.exit()).unref();
  }
}

/** Runs the daemon until a signal (or, with --oneshot, the first apply), then stops it. */
async function run(daemon: Daemon, settings: WatchSettings, logger: Logger, metrics: DaemonMetrics): Promise<number> {
  const signalled = untilSignal();
  // Retry timers do not hold the process (so that a stop never waits for them): this does, until the stop.
  const keepAlive = setInterval(() => undefined, 1 << 30);
  // The first lists come in bulk, then changes one at a time: neither gains from pretenuring.
  daemonHeap();
  // start() resolves after the first sync; only its failure matters here.
  const failed = daemon.start().then(() => new Promise<never>(() => undefined));
  const stopDrift = startDrift(daemon, settings, logger, metrics);
  try {
    const first = settings.oneshot ? daemon.firstRun.then(() => null) : new Promise<never>(() => undefined);
    const signal = await Promise.race([signalled, first, failed]);
    if (signal) logger.info({ signal }, 'stopping');
  } finally {
    stopDrift();
    await stopWithin(daemon, settings.out, STOP_WAIT_MS);
    clearInterval(keepAlive);
    logger.info('stopped');
  }
  if (!settings.oneshot) return 0;
  const s = daemon.state;
  return s.firstRunDone && s.lastApplyOk && s.lastError === null && daemon.rollbacks().size === 0 && !daemon.reloadsPending() ? 0 : 1;
}

function startDrift(daemon: Daemon, settings: WatchSettings, logger: Logger, metrics: DaemonMetrics): () => void {
  const overSocket = reloadsOverSocket(settings, 'ipv4') || reloadsOverSocket(settings, 'ipv6');
  if (settings.oneshot || !overSocket || settings.driftMs <= 0) return () => undefined;
  return startDriftCheck(daemon, probeOf(settings), settings.driftMs, logger, metrics);
}

/** Resolves with the name of the first SIGTERM or SIGINT. */
function untilSignal(): Promise<string> {
  return new Promise((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
}

/**
 * Stops the daemon, waiting at most `ms` for the work in progress; then removes any generation
 * that was staged but not swapped in (a check still running), so no staging debris is left.
 */
async function stopWithin(daemon: Daemon, out: string, ms: number): Promise<void> {
  await Promise.race([daemon.stop(), new Promise((r) => setTimeout(r, ms).unref())]);
  cleanStale(out);
}

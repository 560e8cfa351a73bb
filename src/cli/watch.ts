import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { Daemon, type Reloader } from '../watch/daemon.js';
import { startHealthServer } from '../watch/health.js';
import { createLogger, logLevelOf } from '../watch/logger.js';
import { DaemonMetrics } from '../watch/metrics.js';
import { runCommand } from '../watch/apply.js';
import { BirdControl } from '../watch/bird-control.js';
import { safeReload } from '../watch/safe-reload.js';
import { createSources } from '../watch/sources.js';
import { syncLoopPreventionRule } from '../watch/policy-rule.js';
import { startDriftCheck } from '../watch/drift.js';
import { renderFlags, renderFlagsHelp, renderOptionsOf } from './common.js';
import { UsageError } from './errors.js';
import { windowsReloadCommand } from '../render/view/windows-view.js';

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
      --check-cmd CMD   check of the staged bird.cfg, {file} = its path (default: bird -p -c {file})
      --check-cmd6 CMD  the same for bird6.cfg (default: bird6 -p -c {file})
      --no-check        do not check staged files
      --reload-cmd CMD  reload bird with a shell command instead of its control socket (with
                        --target windows the default is powershell -File OUT\\config-bgp.ps1)
      --reload-cmd6 CMD reload bird6 with a shell command
      --socket PATH     bird's control socket (default /var/run/calico/bird.ctl)
      --socket6 PATH    bird6's control socket (default /var/run/calico/bird6.ctl)
      --reload-mode M   timeout (default: configure check, configure timeout, then configure
                        confirm once the sessions that were up are up again, else undo) or plain
      --reload-timeout S  BIRD undoes an unconfirmed reload after S seconds (default 120)
      --reload-grace S  seconds sessions get to come back before the reload is undone (default 60)
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

/** `bird-confd watch`: runs until SIGTERM/SIGINT (or once with --oneshot); returns the exit code. */
export async function watchCommand(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      ...renderFlags,
      datastore: { type: 'string', short: 'd' },
      out: { type: 'string', short: 'o' },
      oneshot: { type: 'boolean' },
      debounce: { type: 'string' },
      'check-cmd': { type: 'string' },
      'check-cmd6': { type: 'string' },
      'no-check': { type: 'boolean' },
      'reload-cmd': { type: 'string' },
      'reload-cmd6': { type: 'string' },
      socket: { type: 'string' },
      socket6: { type: 'string' },
      'reload-mode': { type: 'string' },
      'reload-timeout': { type: 'string' },
      'reload-grace': { type: 'string' },
      'no-reload': { type: 'boolean' },
      'metrics-address': { type: 'string' },
      'drift-interval': { type: 'string' },
      'degraded-after': { type: 'string' },
      'log-level': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    process.stdout.write(`${watchUsage}\n`);
    return 0;
  }
  const node = values.node ?? env.NODENAME;
  if (!node) throw new UsageError('watch needs --node NAME (or env NODENAME)');
  const datastore = values.datastore ?? env.DATASTORE_TYPE ?? (values.file?.length ? 'file' : 'kubernetes');
  if (!['file', 'etcdv3', 'kubernetes'].includes(datastore)) throw new UsageError(`--datastore must be file, etcdv3 or kubernetes, not ${JSON.stringify(datastore)}`);
  if (datastore === 'file' && !values.file?.length) throw new UsageError('--datastore file needs -f PATH');
  const debounceMs = Number(values.debounce ?? 100);
  if (!Number.isInteger(debounceMs) || debounceMs < 0) throw new UsageError('--debounce must be a whole number of milliseconds');
  const render = renderOptionsOf(values, env);
  const target = render.target;
  const reloadMode = values['reload-mode'] ?? 'timeout';
  if (reloadMode !== 'timeout' && reloadMode !== 'plain') throw new UsageError('--reload-mode must be timeout or plain');

  const logger = createLogger(logLevelOf(values['log-level'] ?? env.BGP_LOGSEVERITYSCREEN));
  const metrics = new DaemonMetrics();
  const out = values.out ?? '/etc/calico/confd/config';
  const checks = new Map<string, string>();
  if (!values['no-check'] && target !== 'windows') {
    checks.set('bird.cfg', values['check-cmd'] ?? 'bird -p -c {file}');
    checks.set('bird6.cfg', values['check-cmd6'] ?? 'bird6 -p -c {file}');
  }
  const sockets = { ipv4: values.socket ?? '/var/run/calico/bird.ctl', ipv6: values.socket6 ?? '/var/run/calico/bird6.ctl' };
  // On a Windows node the scripts are applied by Calico's config-bgp.ps1 in the output folder.
  const commands = { ipv4: values['reload-cmd'] ?? (target === 'windows' ? windowsReloadCommand(out) : undefined), ipv6: values['reload-cmd6'] ?? (target === 'windows' ? 'true' : undefined) };
  const reload: Reloader | null = values['no-reload']
    ? null
    : async (family) => {
        const command = commands[family];
        if (command) return runCommand(command);
        const control = await BirdControl.open(sockets[family], { timeoutMs: 10_000 });
        try {
          const r = await safeReload(control, { mode: reloadMode, timeoutSeconds: Number(values['reload-timeout'] ?? 120), graceMs: Number(values['reload-grace'] ?? 60) * 1000 });
          return r.outcome;
        } finally {
          control.close();
        }
      };
  const sources = await createSources(datastore as 'file' | 'etcdv3' | 'kubernetes', { files: values.file ?? [], env, node, logger, target, calicoVersion: render.calicoVersion });
  const daemon = new Daemon({
    node,
    out,
    sources,
    debounceMs,
    checks,
    reload,
    logger,
    metrics,
    render,
    afterRender: async (view) => {
      if (target === 'windows') return;
      // Keep the loop-prevention policy rule in step with the mode (idempotent; logged on change).
      for (const f of [view.ipv4, view.ipv6]) {
        const lp = f.loopPrevention;
        const action = await syncLoopPreventionRule(lp.enabled, lp.kernelTable, f.family === 'ipv4' ? 4 : 6);
        if (action === 'added' || action === 'removed') logger.info({ family: f.family, table: lp.kernelTable, action }, 'loop prevention policy rule');
      }
    },
  });
  const degradedAfterMs = Number(values['degraded-after'] ?? 10) * 1000;
  const server = values['metrics-address']
    ? await startHealthServer(values['metrics-address'], metrics, () => ({
        live: true,
        ready: daemon.state.firstRunDone && daemon.degradedSources(degradedAfterMs).length === 0 && daemon.state.lastApplyOk,
        detail: daemon.degradedSources(degradedAfterMs).length
          ? `degraded: ${daemon.degradedSources(degradedAfterMs).join(', ')} out of sync for ${degradedAfterMs / 1000} s or more; the last good files stay`
          : !daemon.state.firstRunDone
            ? 'waiting for the first sync'
            : daemon.state.lastError ?? (daemon.allSourcesSynced() ? 'in sync' : 'a source is reconnecting'),
      }))
    : null;
  logger.info({ node, datastore, out: join(out) }, 'starting');
  await daemon.start();
  const driftSeconds = Number(values['drift-interval'] ?? 60);
  const stopDrift = reload && !commands.ipv4 && driftSeconds > 0 && target !== 'windows' ? startDriftCheck(daemon, sockets, driftSeconds * 1000, logger, metrics) : () => undefined;
  if (values.oneshot) {
    stopDrift();
    await daemon.firstRun;
    await daemon.stop();
    server?.close();
    return daemon.state.lastApplyOk && daemon.state.lastError === null ? 0 : 1;
  }
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      logger.info({ signal }, 'stopping');
      stopDrift();
      const deadline = new Promise((r) => setTimeout(r, 1500));
      void Promise.race([daemon.stop(), deadline]).then(() => {
        server?.close();
        resolve();
      });
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  return 0;
}

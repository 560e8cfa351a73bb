import { parseArgs } from 'node:util';
import type { Target } from '../render/index.js';
import type { RenderSettings } from '../watch/template-files.js';
import { logLevelOf, type LogLevel } from '../watch/logger.js';
import { defaultConfigDir } from '../watch/output-dir.js';
import type { Family } from '../watch/reloads.js';
import { defaultSafeReload, type SafeReloadOptions } from '../watch/safe-reload.js';
import { renderFlags, renderOptionsOf } from './common.js';
import { UsageError } from './errors.js';
import { numberFlag } from './flags.js';

/** How staged files are checked: by the running BIRD over its socket, by `bird -p`, or not. */
export type CheckMode = 'socket' | 'parse' | 'none';
/** A datastore type. */
export type Datastore = 'file' | 'etcdv3' | 'kubernetes';

/** Everything `watch` runs with, validated. */
export interface WatchSettings {
  readonly node: string;
  readonly datastore: Datastore;
  readonly files: readonly string[];
  readonly out: string;
  readonly oneshot: boolean;
  readonly debounceMs: number;
  readonly render: RenderSettings & { target: Target };
  /** `--check`, or null for the default (socket where the family reloads over its socket, else parse). */
  readonly check: CheckMode | null;
  readonly checkCommands: Readonly<Partial<Record<Family, string>>>;
  readonly reload: boolean;
  readonly reloadCommands: Readonly<Partial<Record<Family, string>>>;
  readonly sockets: Readonly<Record<Family, string>>;
  readonly safeReload: SafeReloadOptions;
  readonly driftMs: number;
  readonly metricsAddress: string | null;
  readonly degradedAfterMs: number;
  readonly logLevel: LogLevel;
}

const watchFlags = {
  ...renderFlags,
  datastore: { type: 'string', short: 'd' },
  out: { type: 'string', short: 'o' },
  oneshot: { type: 'boolean' },
  debounce: { type: 'string' },
  check: { type: 'string' },
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
} as const;

/** Parses and validates the flags of `watch` (with calico-node's environment); null for --help. */
export function watchSettings(argv: string[], env: NodeJS.ProcessEnv): WatchSettings | null {
  const { values } = parseArgs({ args: argv, options: watchFlags, strict: true, allowPositionals: false });
  if (values.help) return null;
  const node = values.node ?? env.NODENAME;
  if (!node) throw new UsageError('watch needs --node NAME (or env NODENAME)');
  const datastore = values.datastore ?? env.DATASTORE_TYPE ?? (values.file?.length ? 'file' : 'kubernetes');
  if (datastore !== 'file' && datastore !== 'etcdv3' && datastore !== 'kubernetes') throw new UsageError(`--datastore must be file, etcdv3 or kubernetes, not ${JSON.stringify(datastore)}`);
  if (datastore === 'file' && !values.file?.length) throw new UsageError('--datastore file needs -f PATH');
  const mode = values.check;
  if (mode !== undefined && mode !== 'socket' && mode !== 'parse' && mode !== 'none') throw new UsageError(`--check must be socket, parse or none, not ${JSON.stringify(mode)}`);
  const check = values['no-check'] ? 'none' : (mode ?? null);
  return {
    node,
    datastore,
    files: values.file ?? [],
    out: values.out ?? defaultConfigDir,
    oneshot: values.oneshot ?? false,
    debounceMs: numberFlag('debounce', values.debounce, 100, { integer: true, unit: 'milliseconds' }),
    render: renderOptionsOf(values, env),
    check,
    checkCommands: { ipv4: values['check-cmd'], ipv6: values['check-cmd6'] },
    reload: !values['no-reload'],
    reloadCommands: { ipv4: values['reload-cmd'], ipv6: values['reload-cmd6'] },
    sockets: { ipv4: values.socket ?? '/var/run/calico/bird.ctl', ipv6: values.socket6 ?? '/var/run/calico/bird6.ctl' },
    safeReload: safeReloadOf(values),
    driftMs: numberFlag('drift-interval', values['drift-interval'], 60, { unit: 'seconds' }) * 1000,
    metricsAddress: values['metrics-address'] ?? null,
    degradedAfterMs: numberFlag('degraded-after', values['degraded-after'], 10, { unit: 'seconds' }) * 1000,
    logLevel: logLevelOf(values['log-level'] ?? env.BGP_LOGSEVERITYSCREEN),
  };
}

function safeReloadOf(values: { 'reload-mode'?: string; 'reload-timeout'?: string; 'reload-grace'?: string }): SafeReloadOptions {
  const mode = values['reload-mode'] ?? defaultSafeReload.mode;
  if (mode !== 'timeout' && mode !== 'plain') throw new UsageError('--reload-mode must be timeout or plain');
  return {
    ...defaultSafeReload,
    mode,
    timeoutSeconds: numberFlag('reload-timeout', values['reload-timeout'], defaultSafeReload.timeoutSeconds, { integer: true, min: 1, unit: 'seconds' }),
    graceMs: numberFlag('reload-grace', values['reload-grace'], defaultSafeReload.graceMs / 1000, { unit: 'seconds' }) * 1000,
  };
}

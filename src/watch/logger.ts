import pino, { type Logger } from 'pino';
import { maskSecrets } from '../render/mask.js';

/** Log levels accepted from --log-level and BGP_LOGSEVERITYSCREEN (Calico's names included). */
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';

/** Calico's logSeverityScreen values and pino's own, to a pino level; unknown values give info. */
export function logLevelOf(text: string | undefined): LogLevel {
  const t = (text ?? '').trim().toLowerCase();
  const map: Record<string, LogLevel> = { trace: 'trace', debug: 'debug', info: 'info', warning: 'warn', warn: 'warn', error: 'error', fatal: 'fatal', panic: 'fatal', none: 'silent', silent: 'silent' };
  return map[t] ?? 'info';
}


/**
 * The daemon's structured logger: JSON lines on stderr, or pretty output when stderr is a
 * terminal. Fields that can hold secrets are redacted, and every message and error text is
 * scrubbed of BIRD password statements.
 */
export function createLogger(level: LogLevel, options: { pretty?: boolean; destination?: NodeJS.WritableStream } = {}): Logger {
  const pretty = options.pretty ?? (process.stderr.isTTY === true && !options.destination);
  const base = {
    level,
    base: { name: 'bird-confd' },
    redact: { paths: ['password', '*.password', 'values', '*.values', 'secret', '*.secret', 'stringData', 'data'], censor: '***' },
    hooks: {
      logMethod(args: unknown[], method: (...a: unknown[]) => void) {
        method.apply(this, args.map((a) => (typeof a === 'string' ? maskSecrets(a) : a instanceof Error ? Object.assign(new Error(maskSecrets(a.message)), { name: a.name }) : a)));
      },
    },
    serializers: { err: (e: Error) => ({ type: e.name, message: maskSecrets(e.message) }) },
  };
  if (pretty) return pino({ ...base, transport: { target: 'pino-pretty', options: { destination: 2, colorize: true } } });
  return pino(base, (options.destination as pino.DestinationStream | undefined) ?? pino.destination(2));
}

import type { Logger } from 'pino';
import { reconfiguredSessions } from '../inspect/reload-impact.js';
import { runCommand } from './apply.js';
import { withBirdControl } from './bird-control.js';
import { daemonOf, type Family, type Reloader } from './reloads.js';
import { safeReload, type SafeReloadOptions } from './safe-reload.js';

/** The default reload on Windows: Calico's BGP configuration script in the output folder. */
export const windowsReloadCommand = (outDir: string) => `powershell -NoProfile -ExecutionPolicy Bypass -File "${outDir}\\config-bgp.ps1"`;

/**
 * Reloads over BIRD's control sockets with a safe reload. Sessions whose own configuration
 * changed in this reload (a new password, AS number or other option, also through their
 * template) are expected to drop until the other side changes too: they are exempt from the
 * rule that sessions must come back.
 */
export function socketReloader(sockets: Readonly<Record<Family, string>>, options: SafeReloadOptions, logger: Logger): Reloader {
  return (family, request, signal) => {
    const exempt = new Set(request.before ? reconfiguredSessions(request.before, request.after, daemonOf(family)) : []);
    if (exempt.size > 0) logger.info({ daemon: daemonOf(family), sessions: [...exempt] }, 'reconfigured sessions may stay down until the peer changes too; they are not grounds for an undo');
    return withBirdControl(sockets[family], (c) => safeReload(c, options, { exempt, signal }), { timeoutMs: 10_000 });
  };
}

/** Reloads with a shell command. */
export function commandReloader(command: string): Reloader {
  return async () => {
    await runCommand(command);
    return { outcome: 'reloaded' };
  };
}

/** One reloader per family. */
export function familyReloader(byFamily: Readonly<Record<Family, Reloader>>): Reloader {
  return (family, request, signal) => byFamily[family](family, request, signal);
}

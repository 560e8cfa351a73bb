import type { Logger } from 'pino';
import type { StagedCheck } from '../watch/apply.js';
import { explainedCommandCheck, socketCheck } from '../watch/checks.js';
import type { BirdProbe } from '../watch/daemon.js';
import { socketProbe } from '../watch/drift.js';
import { commandReloader, familyReloader, socketReloader, windowsReloadCommand } from '../watch/reloaders.js';
import type { Family, Reloader } from '../watch/reloads.js';
import type { WatchSettings } from './watch-settings.js';

const families = ['ipv4', 'ipv6'] as const;
const mainFile: Record<Family, string> = { ipv4: 'bird.cfg', ipv6: 'bird6.cfg' };
const parser: Record<Family, string> = { ipv4: 'bird', ipv6: 'bird6' };

/** The reload command of a family, if it reloads by command (on Windows: Calico's script). */
function reloadCommand(s: WatchSettings, family: Family): string | undefined {
  if (s.render.target === 'windows') return s.reloadCommands[family] ?? (family === 'ipv4' ? windowsReloadCommand(s.out) : 'true');
  return s.reloadCommands[family];
}

/** Whether a family's BIRD is reloaded over its control socket. */
export function reloadsOverSocket(s: WatchSettings, family: Family): boolean {
  return s.reload && reloadCommand(s, family) === undefined;
}

/**
 * The check of each staged main file. The judge of a config is the BIRD that will load it: by
 * default, where the daemon reloads over a control socket, that running BIRD checks the staged
 * file (`configure check`); elsewhere `bird -p` (`bird6 -p`) does. `--check-cmd` replaces either.
 */
export function checksOf(s: WatchSettings, logger: Logger): Map<string, StagedCheck> {
  const checks = new Map<string, StagedCheck>();
  if (s.check === 'none' || s.render.target === 'windows') return checks;
  for (const family of families) {
    const command = s.checkCommands[family];
    const mode = s.check ?? (reloadsOverSocket(s, family) ? 'socket' : 'parse');
    const check = command ? explainedCommandCheck(command) : mode === 'socket' ? socketCheck(s.sockets[family], logger) : explainedCommandCheck(`${parser[family]} -p -c {file}`);
    checks.set(mainFile[family], check);
  }
  return checks;
}

/** How each family's BIRD is reloaded: a command, or a safe reload over its socket; null with --no-reload. */
export function reloaderOf(s: WatchSettings, logger: Logger): Reloader | null {
  if (!s.reload) return null;
  const overSocket = socketReloader(s.sockets, s.safeReload, logger);
  const of = (family: Family) => {
    const command = reloadCommand(s, family);
    return command === undefined ? overSocket : commandReloader(command);
  };
  return familyReloader({ ipv4: of('ipv4'), ipv6: of('ipv6') });
}

/** Asks the BIRDs reloaded over their sockets what they run (families reloaded by command are not asked). */
export function probeOf(s: WatchSettings): BirdProbe {
  const probe = socketProbe(s.sockets);
  return async (family, files, swappedAt) => (reloadsOverSocket(s, family) ? probe(family, files, swappedAt) : null);
}

import { readFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join } from 'node:path';
import type { Logger } from 'pino';
import { commandCheck, CommandError, type StagedCheck } from './apply.js';
import { BirdCommandError, BirdControlError, withBirdControl } from './bird-control.js';
import { maskSecrets } from '../render/mask.js';

/**
 * Asks the BIRD that will load the files: `configure check "<staged bird.cfg>"` over its control
 * socket. BIRD parses the staged file and its includes (which sit beside it) as it would on a
 * reload, Calico's extensions included, and changes nothing. BIRD must see the staged path as
 * this process does (calico-node and the sidecar share the config folder at the same path).
 * When no BIRD answers, nothing runs that the files could break: they are applied unchecked
 * (BIRD checks them itself when it starts) and the reload that follows is retried.
 */
export function socketCheck(socket: string, logger: Logger): StagedCheck {
  return async (file) => {
    if (/["\n]/.test(file)) throw new CommandError(`cannot check ${file}: the path holds a quote or a line break`);
    try {
      await withBirdControl(socket, (c) => c.command(`configure check "${file}"`), { timeoutMs: 30_000 });
    } catch (err) {
      if (err instanceof BirdCommandError) throw new CommandError(checkMessage(`BIRD at ${socket} rejects ${basename(file)}`, birdErrorText(err), dirname(file)), { cause: err });
      if (err instanceof BirdControlError) {
        logger.info({ socket, file: basename(file) }, 'no BIRD answers to check the staged file: applied unchecked (BIRD checks it when it starts)');
        return;
      }
      throw err;
    }
  };
}

/** A check by shell command (`bird -p -c {file}`), whose failure explains a missing Calico extension. */
export function explainedCommandCheck(command: string): StagedCheck {
  const check = commandCheck(command);
  return async (file) => {
    try {
      await check(file);
    } catch (err) {
      if (!(err instanceof CommandError)) throw err;
      // The message starts with the program's name, once from runCommand and once from BIRD itself.
      const detail = err.message.replace(/^(\S*bird6?: )+/, '');
      throw new CommandError(checkMessage(`${basename(file)} rejected by ${command.split(' ')[0]}`, detail, dirname(file)), { cause: err });
    }
  };
}

/** The error lines of BIRD's reply, without the `Reading configuration from ...` line. */
function birdErrorText(err: BirdCommandError): string {
  return err.reply.lines
    .filter((l) => l.code >= 8000)
    .map((l) => l.text)
    .join(' ')
    .trim();
}

/**
 * A check failure as one line: BIRD's `FILE:LINE:COL message` with the staging folder left out.
 * When the line BIRD points at sets `krt_tunnel`, the BIRD that checked is not Calico's: say so.
 */
export function checkMessage(what: string, detail: string, stagedDir: string): string {
  const text = maskSecrets(detail.replaceAll(`${stagedDir}/`, ''));
  const hint = krtTunnelAt(detail, stagedDir)
    ? `; that line sets krt_tunnel, Calico's extension of BIRD, which this BIRD lacks: check with Calico's BIRD (calico-node's, over --socket: the default when reloading over the socket; or --check-cmd with the path of Calico's bird binary)`
    : '';
  return `${what}: ${text}${hint}`;
}

function krtTunnelAt(detail: string, stagedDir: string): boolean {
  for (const m of detail.matchAll(/(\S+\.cfg):(\d+):\d+/g)) {
    const path = isAbsolute(m[1]!) ? m[1]! : join(stagedDir, basename(m[1]!));
    try {
      const line = readFileSync(path, 'utf8').split('\n')[Number(m[2]) - 1] ?? '';
      if (/\bkrt_tunnel\b/.test(line)) return true;
    } catch {
      // The file BIRD names is not readable here: no hint.
    }
  }
  return false;
}

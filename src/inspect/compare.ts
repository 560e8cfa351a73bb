import { bgpNeighbor, effectiveStatements, readBirdConfig } from './bird-config.js';
import type { Daemon } from './reload-impact.js';
import type { DaemonStatus, ProtocolStatus } from './bird-replies.js';
import { compareText } from '../model/sorted.js';

/** What one session's comparison found. */
export type SessionState = 'established' | 'down' | 'missing' | 'not-rendered' | 'differs';

/** One BGP session: rendered, running, or both. */
export interface SessionStatus {
  readonly name: string;
  /** `mesh`, `global`, `node` from the protocol name (Calico's naming), else `other`. */
  readonly kind: 'mesh' | 'global' | 'node' | 'other';
  readonly neighbor: string | null;
  readonly as: string | null;
  readonly state: SessionState;
  /** BIRD's protocol state (`up`, `start`, ...) and BGP state, or null when not running. */
  readonly birdState: string | null;
  readonly bgpState: string | null;
  readonly since: string | null;
  readonly lastError: string | null;
  /** Human explanation of anything but `established`. */
  readonly problem: string | null;
}

/** What was expected of one daemon: the BGP sessions of its main file on disk. */
export interface RenderedDaemon {
  readonly routerId: string | null;
  readonly sessions: readonly { readonly name: string; readonly neighbor: string | null; readonly as: string | null }[];
}

/** What one daemon runs, or why it could not be asked. */
export type RunningDaemon =
  | { readonly reachable: true; readonly status: DaemonStatus; readonly protocols: readonly ProtocolStatus[] }
  | { readonly reachable: false; readonly error: string };

/** The comparison for one daemon. */
export interface DaemonReport {
  readonly daemon: Daemon;
  readonly socket: string;
  readonly reachable: boolean;
  readonly error: string | null;
  readonly routerId: { readonly rendered: string | null; readonly running: string | null };
  readonly sessions: readonly SessionStatus[];
  /** Whether this daemon was skipped: it has no rendered BGP session and its socket is absent. */
  readonly skipped: boolean;
}

/** How the files on disk compare with a fresh render from manifests. */
export interface FileCheck {
  readonly name: string;
  readonly state: 'same' | 'differs' | 'missing-on-disk' | 'not-rendered';
}

/** The complete status, as `status --output json` prints it. */
export interface StatusReport {
  readonly node: string | null;
  readonly out: string;
  readonly ok: boolean;
  readonly daemons: readonly DaemonReport[];
  /** Present when manifests were given. */
  readonly files: readonly FileCheck[] | null;
  readonly summary: { readonly established: number; readonly down: number; readonly drift: number; readonly filesOutOfDate: number; readonly unreachable: number };
}

/** The BGP sessions a daemon's files on disk configure. */
export function renderedDaemon(files: ReadonlyMap<string, string>, main: string): RenderedDaemon | null {
  if (!files.has(main)) return null;
  const config = readBirdConfig(files, main);
  const sessions = config.protocols
    .filter((p) => p.type === 'bgp')
    .map((p) => {
      const n = bgpNeighbor(effectiveStatements(p, config));
      return { name: p.name, neighbor: n?.address ?? null, as: n?.as ?? null };
    });
  return { routerId: config.routerId, sessions };
}

/** Calico's protocol names say where a session comes from. */
export function sessionKind(name: string): SessionStatus['kind'] {
  return name.startsWith('Mesh_') ? 'mesh' : name.startsWith('Global_') ? 'global' : name.startsWith('Node_') ? 'node' : 'other';
}

/** Compares one daemon's rendered sessions with what it runs. Pure. */
export function compareDaemon(daemon: Daemon, socket: string, rendered: RenderedDaemon | null, running: RunningDaemon): DaemonReport {
  const expected = rendered?.sessions ?? [];
  if (!running.reachable) {
    const skipped = expected.length === 0;
    return { daemon, socket, reachable: false, error: running.error, routerId: { rendered: rendered?.routerId ?? null, running: null }, sessions: [], skipped };
  }
  const live = new Map(running.protocols.filter((p) => p.proto === 'BGP').map((p) => [p.name, p]));
  const sessions: SessionStatus[] = [];
  for (const r of expected) {
    const p = live.get(r.name);
    live.delete(r.name);
    if (!p) {
      sessions.push({ ...base(r.name, r.neighbor, r.as), state: 'missing', problem: 'rendered but not running in BIRD (drift: not reloaded, or the reload failed)' });
      continue;
    }
    const differs = configDifference(r, p);
    sessions.push(fromRunning(p, r.neighbor, r.as, differs));
  }
  for (const p of [...live.values()]) {
    sessions.push({ ...fromRunning(p, p.bgp?.neighborAddress ?? null, p.bgp?.neighborAs ?? null, null), state: 'not-rendered', problem: 'running in BIRD but not in the files on disk (drift)' });
  }
  sessions.sort((a, b) => compareText(a.name, b.name));
  return { daemon, socket, reachable: true, error: null, routerId: { rendered: rendered?.routerId ?? null, running: running.status.routerId }, sessions, skipped: false };
}

function base(name: string, neighbor: string | null, as: string | null): Omit<SessionStatus, 'state' | 'problem'> {
  return { name, kind: sessionKind(name), neighbor, as, birdState: null, bgpState: null, since: null, lastError: null };
}

function fromRunning(p: ProtocolStatus, neighbor: string | null, as: string | null, differs: string | null): SessionStatus {
  const bgpState = p.bgp?.state ?? (p.info || null);
  const running = { ...base(p.name, neighbor, as), birdState: p.state, bgpState, since: p.since, lastError: p.bgp?.lastError ?? null };
  if (differs) return { ...running, state: 'differs', problem: `BIRD runs a different config: ${differs} (drift)` };
  if (p.state === 'up' && bgpState === 'Established') return { ...running, state: 'established', problem: null };
  const why = p.bgp?.lastError ? `, last error: ${p.bgp.lastError}` : '';
  return { ...running, state: 'down', problem: `not Established: ${p.state}/${bgpState ?? '?'} since ${p.since}${why}` };
}

/** The neighbor BIRD runs a protocol with, against the rendered one (BIRD reports both). */
function configDifference(r: RenderedDaemon['sessions'][number], p: ProtocolStatus): string | null {
  const diffs: string[] = [];
  if (r.neighbor && p.bgp?.neighborAddress && r.neighbor !== p.bgp.neighborAddress) diffs.push(`neighbor ${p.bgp.neighborAddress}, rendered ${r.neighbor}`);
  if (r.as && p.bgp?.neighborAs && r.as !== p.bgp.neighborAs) diffs.push(`neighbor AS ${p.bgp.neighborAs}, rendered ${r.as}`);
  return diffs.length ? diffs.join('; ') : null;
}

/** Compares the files on disk with a fresh render (only the names either side has). */
export function compareFiles(onDisk: ReadonlyMap<string, string>, rendered: ReadonlyMap<string, string>): FileCheck[] {
  const names = [...new Set([...onDisk.keys(), ...rendered.keys()])].sort();
  return names.map((name) => {
    const a = onDisk.get(name);
    const b = rendered.get(name);
    const state = a === undefined ? 'missing-on-disk' : b === undefined ? 'not-rendered' : a === b ? 'same' : 'differs';
    return { name, state };
  });
}

/** Puts the parts together: `ok` is false on any drift, session down, unreachable daemon or outdated file. */
export function statusReport(node: string | null, out: string, daemons: readonly DaemonReport[], files: readonly FileCheck[] | null): StatusReport {
  const all = daemons.flatMap((d) => d.sessions);
  const routerIdDrift = daemons.filter((d) => d.reachable && d.routerId.rendered !== null && d.routerId.rendered !== d.routerId.running).length;
  const summary = {
    established: all.filter((s) => s.state === 'established').length,
    down: all.filter((s) => s.state === 'down').length,
    drift: all.filter((s) => s.state === 'missing' || s.state === 'not-rendered' || s.state === 'differs').length + routerIdDrift,
    filesOutOfDate: (files ?? []).filter((f) => f.state !== 'same').length,
    unreachable: daemons.filter((d) => !d.reachable && !d.skipped).length,
  };
  const ok = summary.down === 0 && summary.drift === 0 && summary.filesOutOfDate === 0 && summary.unreachable === 0;
  return { node, out, ok, daemons, files, summary };
}

/**
 * BIRD 1.6 control protocol replies, parsed. Pure. A reply is a run of lines, each with a 4-digit
 * code: `1002-...` (more lines follow), ` ...` (continues the previous code), and a last line
 * `0000 ...` (code and a space). 0xxx ends a successful command, 8xxx and 9xxx are errors.
 */

/** One reply line with its code (continuation lines carry the code they continue). */
export interface ReplyLine {
  readonly code: number;
  readonly text: string;
}

/** A complete reply to one command. */
export interface BirdReply {
  readonly lines: readonly ReplyLine[];
  /** The code of the last line. */
  readonly code: number;
  /** 8xxx (runtime error) or 9xxx (parse error). */
  readonly isError: boolean;
}

/** Feeds raw control socket text line by line and yields complete replies. */
export class ReplyParser {
  private lines: ReplyLine[] = [];
  private lastCode = 0;
  private partial = '';

  /** Adds received text; returns the replies it completed. */
  push(chunk: string): BirdReply[] {
    const done: BirdReply[] = [];
    const parts = (this.partial + chunk).split('\n');
    this.partial = parts.pop() ?? '';
    for (const raw of parts) {
      const m = /^(\d{4})([ -])(.*)$/.exec(raw);
      if (m) {
        this.lastCode = Number(m[1]);
        this.lines.push({ code: this.lastCode, text: m[3]! });
        if (m[2] === ' ') {
          done.push({ lines: this.lines, code: this.lastCode, isError: this.lastCode >= 8000 });
          this.lines = [];
        }
      } else {
        // ` text`: a continuation of the previous code.
        this.lines.push({ code: this.lastCode, text: raw.startsWith(' ') ? raw.slice(1) : raw });
      }
    }
    return done;
  }
}

/** One protocol as `show protocols all` reports it. */
export interface ProtocolStatus {
  readonly name: string;
  /** `BGP`, `Kernel`, `Static`, ... */
  readonly proto: string;
  readonly table: string;
  /** `up`, `start`, `down`, ... */
  readonly state: string;
  /** When the state last changed, in BIRD's time format (e.g. `12:01:33` or `2024-05-01`). */
  readonly since: string;
  /** The info column: for BGP the session state (`Established`, `Active`, `Connect`, ...). */
  readonly info: string;
  /** BGP details, when the protocol is BGP. */
  readonly bgp: BgpDetails | null;
}

/** BGP details of `show protocols all`. */
export interface BgpDetails {
  readonly state: string;
  readonly neighborAddress: string | null;
  readonly neighborAs: string | null;
  readonly lastError: string | null;
}

/** Parses the reply to `show protocols` or `show protocols all`. */
export function parseProtocols(reply: BirdReply): ProtocolStatus[] {
  const out: ProtocolStatus[] = [];
  let details: string[] | null = null;
  const finish = () => {
    const last = out[out.length - 1];
    if (last && details) out[out.length - 1] = { ...last, bgp: last.proto === 'BGP' ? bgpDetails(details, last.info) : null };
    details = null;
  };
  for (const line of reply.lines) {
    if (line.code === 1002) {
      finish();
      const row = protocolRow(line.text);
      if (row) out.push(row);
    } else if (line.code === 1006) {
      (details ??= []).push(line.text);
    }
  }
  finish();
  return out;
}

function protocolRow(text: string): ProtocolStatus | null {
  // name proto table state since info; since may be `2024-05-01 12:01:33` with some time formats.
  const m = /^(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d|\S+)\s*(.*?)\s*$/.exec(text);
  if (!m) return null;
  const proto = m[2]!;
  return { name: m[1]!, proto, table: m[3]!, state: m[4]!, since: m[5]!, info: m[6]!, bgp: proto === 'BGP' ? bgpDetails([], m[6]!) : null };
}

function bgpDetails(lines: readonly string[], info: string): BgpDetails {
  const field = (label: string) => {
    for (const l of lines) {
      const m = new RegExp(`^\\s*${label}:\\s*(.*?)\\s*$`).exec(l);
      if (m) return m[1]!;
    }
    return null;
  };
  return { state: field('BGP state') ?? (info.split(/\s+/)[0] || 'unknown'), neighborAddress: field('Neighbor address'), neighborAs: field('Neighbor AS'), lastError: field('Last error') };
}

/** What `show status` reports. */
export interface DaemonStatus {
  readonly version: string | null;
  readonly routerId: string | null;
  readonly lastReboot: string | null;
  readonly lastReconfiguration: string | null;
}

/** Parses the reply to `show status`. */
export function parseStatus(reply: BirdReply): DaemonStatus {
  let version: string | null = null;
  let routerId: string | null = null;
  let lastReboot: string | null = null;
  let lastReconfiguration: string | null = null;
  for (const { code, text } of reply.lines) {
    if (code === 1000) version = text.trim();
    const id = /^Router ID is (\S+)/.exec(text);
    if (id) routerId = id[1]!;
    const reboot = /^Last reboot on (.*)$/.exec(text);
    if (reboot) lastReboot = reboot[1]!.trim();
    const reconf = /^Last reconfiguration on (.*)$/.exec(text);
    if (reconf) lastReconfiguration = reconf[1]!.trim();
  }
  return { version, routerId, lastReboot, lastReconfiguration };
}

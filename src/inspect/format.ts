import type { StatusReport } from './compare.js';

/** Lays rows out in columns separated by two spaces (the last column is not padded). */
export function table(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n');
}

const familyOf = { bird: 'IPv4', bird6: 'IPv6' } as const;

/** The human form of a status report. */
export function formatStatus(report: StatusReport): string {
  const parts: string[] = [];
  for (const d of report.daemons) {
    const head = `${d.daemon} (${familyOf[d.daemon]}) at ${d.socket}`;
    if (d.skipped) {
      parts.push(`${head}: not running, and no BGP session rendered for it`);
      continue;
    }
    if (!d.reachable) {
      parts.push(`${head}: UNREACHABLE: ${d.error}`);
      continue;
    }
    const rid = d.routerId.rendered !== null && d.routerId.rendered !== d.routerId.running ? `router id ${d.routerId.running}, rendered ${d.routerId.rendered} (drift)` : `router id ${d.routerId.running ?? '?'}`;
    parts.push(`${head}: ${rid}`);
    if (d.sessions.length === 0) {
      parts.push('  no BGP sessions');
      continue;
    }
    const rows = [['SESSION', 'KIND', 'NEIGHBOR', 'AS', 'STATE', 'SINCE', 'PROBLEM']];
    for (const s of d.sessions) {
      rows.push([s.name, s.kind, s.neighbor ?? '-', s.as ?? '-', s.bgpState ?? '-', s.since ?? '-', s.problem ?? '']);
    }
    parts.push(table(rows).replace(/^/gm, '  '));
  }
  if (report.files) {
    const stale = report.files.filter((f) => f.state !== 'same');
    parts.push(stale.length === 0 ? `files in ${report.out}: the same as a fresh render of the manifests` : `files in ${report.out} that differ from a fresh render of the manifests:\n${stale.map((f) => `  ${f.name}: ${f.state}`).join('\n')}`);
  }
  const s = report.summary;
  parts.push(`${report.ok ? 'OK' : 'NOT OK'}: ${s.established} established, ${s.down} down, ${s.drift} drift, ${s.unreachable} unreachable daemon(s)${report.files ? `, ${s.filesOutOfDate} file(s) out of date` : ''}`);
  return `${parts.join('\n')}\n`;
}

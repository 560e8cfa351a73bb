import { createHash } from 'node:crypto';
import { ResourceName } from './common.js';
import { formatFieldPath, type Diagnostic } from './diagnostics.js';
import { WorkloadEndpointStatus, localWorkloadPeer } from './workload-endpoint-status.js';

/** What one endpoint-status file gives: an active status, or nothing (with why, when it matters). */
export interface EndpointStatusResult {
  /** The status when the file asks for a BGP peer and its addresses parse; else null. */
  readonly resource: WorkloadEndpointStatus | null;
  readonly diagnostics: Diagnostic[];
}

/**
 * The resource name a status file goes by. Felix's file names hold spaces and `%` escapes
 * (`k8s default%2Fpod-1 eth0`), which no resource name may: those are made name-safe and given a
 * short hash of the real name, so that two files never share a name.
 */
export function endpointStatusName(fileName: string): string {
  if (ResourceName.safeParse(fileName).success) return fileName;
  const safe = fileName.replace(/[^A-Za-z0-9_.-]+/g, '-').replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '').slice(0, 200);
  const hash = createHash('sha256').update(fileName).digest('hex').slice(0, 10);
  return safe ? `${safe}-${hash}` : `status-${hash}`;
}

/**
 * Turns the JSON text of one Felix endpoint-status file into a WorkloadEndpointStatus, by confd
 * v3.32's rules: only a file with a non-empty `bgpPeerName` is active; its peer addresses are the
 * first `ipv4Nets` and `ipv6Nets` entries; a file whose first entry does not parse, or that has
 * neither, is skipped. A file that is not JSON (half-written) is an error for that file only.
 */
export function parseEndpointStatusFile(fileName: string, text: string): EndpointStatusResult {
  const file = fileName;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { resource: null, diagnostics: [{ severity: 'error', file, message: 'not valid JSON (an endpoint-status file); skipped' }] };
  }
  const name = endpointStatusName(fileName);
  const object = `WorkloadEndpointStatus/${name}`;
  const parsed = WorkloadEndpointStatus.safeParse({ kind: 'WorkloadEndpointStatus', metadata: { name }, spec: json });
  if (!parsed.success) {
    const diagnostics = parsed.error.issues.map((i): Diagnostic => ({ severity: 'error', file, object, field: formatFieldPath(i.path), message: i.message }));
    return { resource: null, diagnostics };
  }
  const peer = localWorkloadPeer(parsed.data);
  if (!('skipped' in peer)) return { resource: parsed.data, diagnostics: [] };
  // A workload without a BGP peer is the common case, not a problem.
  if (!parsed.data.spec.bgpPeerName) return { resource: null, diagnostics: [] };
  return { resource: null, diagnostics: [{ severity: 'warning', file, object, field: peer.field, message: peer.skipped }] };
}

/** The Calico releases whose confd output bird-confd reproduces, oldest first. */
export const calicoVersions = ['3.17', '3.32'] as const;

/** A supported Calico release: selects the output profile (view and templates). */
export type CalicoVersion = (typeof calicoVersions)[number];

/** The newest supported release: what renders when nothing else is asked for. */
export const defaultCalicoVersion: CalicoVersion = calicoVersions[calicoVersions.length - 1]!;

/** Whether `text` names a supported Calico release. */
export function isCalicoVersion(text: string): text is CalicoVersion {
  return (calicoVersions as readonly string[]).includes(text);
}

/**
 * Whether a profile reads no object of this kind at all (so a loader may leave such objects out
 * unvalidated): Calico v3.32 reads EndpointSlices, not v1 Endpoints. The v3.17 profile reads
 * (or warns about) every kind.
 */
export function kindUnread(version: CalicoVersion, kind: string, apiVersion: string): boolean {
  return version === '3.32' && kind === 'Endpoints' && apiVersion === 'v1';
}

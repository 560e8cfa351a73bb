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

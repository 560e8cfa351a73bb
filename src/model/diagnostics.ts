/** How bad a problem is: errors leave the object out, warnings only inform. */
export type Severity = 'error' | 'warning';

/** A data problem found while loading or rendering; collected as a value, never thrown. */
export interface Diagnostic {
  readonly severity: Severity;
  readonly message: string;
  /** The manifest file (or datastore key) the object came from, when known. */
  readonly file?: string;
  /** The object, as `Kind/name` or `Kind/namespace/name`. */
  readonly object?: string;
  /** The field path inside the object, such as `spec.peerIP`. */
  readonly field?: string;
}

/** One line naming file, object and field: `f.yaml: BGPPeer/rr: spec.peerIP: not an IP address`. */
export function formatDiagnostic(d: Diagnostic): string {
  return [d.file, d.object, d.field, d.message].filter((p) => p !== undefined && p !== '').join(': ');
}

/** True when any diagnostic is an error. */
export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === 'error');
}

/** A field path as diagnostics print it: `spec.importV4[2].interface`. */
export function formatFieldPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : acc ? `${acc}.${String(p)}` : String(p)), '');
}

import { parseManifestText, snapshotOf } from '../../src/model/load.js';
import type { Snapshot } from '../../src/model/snapshot.js';
import { formatDiagnostic } from '../../src/model/diagnostics.js';

/** A snapshot from inline YAML; load errors fail the test that builds it. */
export function snap(yaml: string): Snapshot {
  const r = parseManifestText(yaml, 'inline.yaml');
  const errors = r.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length) throw new Error(errors.map(formatDiagnostic).join('\n'));
  return snapshotOf(r.resources);
}

/** Compact YAML builders for table tests. */
export const y = {
  config: (spec: string, name = 'default') => `apiVersion: projectcalico.org/v3\nkind: BGPConfiguration\nmetadata: {name: ${name}}\nspec: ${spec}\n---\n`,
  node: (name: string, bgp: string, labels = '{}') => `apiVersion: projectcalico.org/v3\nkind: Node\nmetadata: {name: ${name}, labels: ${labels}}\nspec: {bgp: ${bgp}}\n---\n`,
  peer: (name: string, spec: string) => `apiVersion: projectcalico.org/v3\nkind: BGPPeer\nmetadata: {name: ${name}}\nspec: ${spec}\n---\n`,
  pool: (name: string, spec: string) => `apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: ${name}}\nspec: ${spec}\n---\n`,
  block: (name: string, spec: string) => `apiVersion: crd.projectcalico.org/v1\nkind: BlockAffinity\nmetadata: {name: ${name}}\nspec: ${spec}\n---\n`,
  secret: (name: string, data: string, ns = 'kube-system') => `apiVersion: v1\nkind: Secret\nmetadata: {name: ${name}, namespace: ${ns}}\nstringData: ${data}\n---\n`,
};

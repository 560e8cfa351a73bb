import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { loadManifestPaths, snapshotOf } from '../../src/model/load.js';
import type { Diagnostic } from '../../src/model/diagnostics.js';
import type { NodeView } from '../../src/render/view/view-types.js';
import { renderNodeWithTemplates, type RenderSettings as RenderOptions } from '../../src/watch/template-files.js';

/** One golden case: a folder with `case.yaml`, `input.yaml` or `input/`, and `expected/<node>/`. */
export interface GoldenCase {
  readonly name: string;
  readonly dir: string;
  readonly nodes: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  /** Render options beyond the environment (e.g. `passwords: separate-file`). */
  readonly options: RenderOptions;
  readonly inputs: readonly string[];
}

/** Set UPDATE_GOLDEN=1 to rewrite expected files from the current renderer (then review the diff). */
export const updateGolden = process.env.UPDATE_GOLDEN === '1';

/** The golden cases under a fixtures folder. */
export function goldenCases(root: string): GoldenCase[] {
  return readdirSync(root, { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(join(root, e.name, 'case.yaml')))
    .map((e) => {
      const dir = join(root, e.name);
      const meta = parse(readFileSync(join(dir, 'case.yaml'), 'utf8')) as { nodes: string[]; env?: Record<string, string>; options?: RenderOptions };
      const inputs = [join(dir, 'input.yaml'), join(dir, 'input')].filter((p) => existsSync(p));
      return { name: e.name, dir, nodes: meta.nodes, env: meta.env ?? {}, options: meta.options ?? {}, inputs };
    });
}

/** The render options a case's environment stands for (as the CLI maps the same variables). */
export function optionsFromEnv(env: Readonly<Record<string, string>>): RenderOptions {
  return {
    routerId: env.CALICO_ROUTER_ID,
    secretNamespace: env.NAMESPACE,
    k8sNodeRef: env.CALICO_K8S_NODE_REF,
    advertiseClusterIps: env.CALICO_ADVERTISE_CLUSTER_IPS,
  };
}

/** Renders one node of a case. */
export async function renderCase(c: GoldenCase, node: string, extra: RenderOptions = {}): Promise<{ files: Map<string, string>; view: NodeView; diagnostics: Diagnostic[] }> {
  const loaded = await loadManifestPaths(c.inputs);
  const result = renderNodeWithTemplates(snapshotOf(loaded.resources), node, { ...optionsFromEnv(c.env), ...c.options, ...extra });
  const diagnostics = [...loaded.diagnostics, ...result.diagnostics];
  if (!result.files || !result.view) throw new Error(`${c.name}/${node} did not render: ${JSON.stringify(diagnostics)}`);
  return { files: result.files, view: result.view, diagnostics };
}

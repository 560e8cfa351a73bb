import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compareText } from '../model/sorted.js';
import { defaultCalicoVersion, type CalicoVersion } from '../render/profiles.js';
import type { Snapshot } from '../model/snapshot.js';
import { compileTemplates, renderNode, type NodeRender, type RenderOptions, type RenderStore, type Target, type TemplateSet, type TemplateSource, type TemplateSources, type ViewOptions } from '../render/index.js';

/** The shipped template folder (`templates/` at the package root). */
export const shippedTemplateDir = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'templates');

/** Which templates to print a node with. */
export interface TemplateChoice {
  readonly target: Target;
  /** The Calico release whose templates print the BIRD files (default: the newest supported). */
  readonly calicoVersion?: CalicoVersion;
  /** A user folder layered over the shipped templates (see "Custom templates" in the README). */
  readonly userDir?: string;
}

/** The `*.hbs` files of a folder as sources named without `.hbs`, sorted (an absent folder has none). */
function hbsSources(dir: string): TemplateSource[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((n) => n.endsWith('.hbs'))
    .sort(compareText)
    .map((n) => ({ name: basename(n, '.hbs'), file: join(dir, n), text: readFileSync(join(dir, n), 'utf8') }));
}

/** Later sources replace earlier ones of the same name. */
function byName(...lists: TemplateSource[][]): TemplateSource[] {
  const out = new Map<string, TemplateSource>();
  for (const list of lists) for (const s of list) out.set(s.name, s);
  return [...out.values()];
}

/**
 * Reads the template sources of a target: the shipped folder's `*.hbs` and `partials/*.hbs` per
 * file set (`bird` for linux, `windows`, or both) with the BIRD partials of the Calico release
 * (`bird/calico-<version>/`), then the user folder's. A user template named like a shipped one
 * replaces it; any other user template renders to an extra file of its name (with the BIRD files
 * only). User partials replace or add to the shipped ones.
 */
export function readTemplateSources(choice: TemplateChoice): TemplateSources {
  const sets = choice.target === 'all' ? ['bird', 'windows'] : [choice.target === 'linux' ? 'bird' : 'windows'];
  const user = choice.userDir ? hbsSources(choice.userDir) : [];
  const files: TemplateSource[] = [];
  const partials: TemplateSource[][] = [];
  for (const set of sets) {
    const shipped = hbsSources(join(shippedTemplateDir, set));
    const names = new Set(shipped.map((s) => s.name));
    files.push(...byName(shipped, user.filter((s) => set === 'bird' || names.has(s.name))));
    partials.push(hbsSources(join(shippedTemplateDir, set, 'partials')));
    if (set === 'bird') partials.push(hbsSources(join(shippedTemplateDir, set, `calico-${choice.calicoVersion ?? defaultCalicoVersion}`)));
  }
  if (choice.userDir) partials.push(hbsSources(join(choice.userDir, 'partials')));
  return { files: byName(files), partials: byName(...partials) };
}

const compiled = new Map<string, TemplateSet>();

/**
 * The compiled template set of a choice, read and compiled once per process (syntax errors are
 * reported on the first call, which callers make at start-up).
 */
export function loadTemplates(choice: TemplateChoice): TemplateSet {
  const key = `${choice.target}\0${choice.calicoVersion ?? defaultCalicoVersion}\0${choice.userDir ?? ''}`;
  let set = compiled.get(key);
  if (!set) compiled.set(key, (set = compileTemplates(readTemplateSources(choice))));
  return set;
}

/** Render options as commands take them: the view's options, the target and a user template folder. */
export interface RenderSettings extends ViewOptions {
  readonly target?: Target;
  readonly templateDir?: string;
}

/** The render options of some settings: the view's options with the compiled templates of the target. */
export function renderOptions(settings: RenderSettings): RenderOptions {
  const { target = 'linux', templateDir, ...view } = settings;
  return { ...view, templates: loadTemplates({ target, userDir: templateDir, calicoVersion: view.calicoVersion }), userTemplates: templateDir !== undefined };
}

/** Renders one node with the shipped (and user) templates of its settings. */
export function renderNodeWithTemplates(snapshot: Snapshot, nodeName: string, settings: RenderSettings = {}, store?: RenderStore): NodeRender {
  return renderNode(snapshot, nodeName, renderOptions(settings), store);
}

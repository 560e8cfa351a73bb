import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { hasErrors } from '../model/diagnostics.js';
import { maskView } from '../render/mask.js';
import { loadAndRender, renderFlags, renderFlagsHelp, renderOptionsFrom } from './common.js';
import { InputError } from './errors.js';

/** Help text of `bird-confd view`. */
export const viewUsage = `Usage: bird-confd view -f PATH [-f PATH ...] [--node NAME] [--show-secrets]
       bird-confd view --schema

Prints the node view - every decision the templates print, as JSON - for writing custom
templates. Passwords are masked as "***" unless --show-secrets is given. --schema prints the
view's JSON Schema, generated from the types the renderer uses.

${renderFlagsHelp}
      --show-secrets    print passwords as they are
      --schema          print the JSON Schema of the view and exit
  -h, --help            this help`;

/** The JSON Schema of the view, generated at build time from src/render/view-types.ts. */
export function viewSchema(): unknown {
  const here = dirname(fileURLToPath(import.meta.url));
  return JSON.parse(readFileSync(join(here, '..', 'view.schema.json'), 'utf8'));
}

/** `bird-confd view`: returns the exit code. */
export async function viewCommand(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { ...renderFlags, 'show-secrets': { type: 'boolean' }, schema: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    process.stdout.write(`${viewUsage}\n`);
    return 0;
  }
  if (values.schema) {
    process.stdout.write(`${JSON.stringify(viewSchema(), null, 2)}\n`);
    return 0;
  }
  const { node, files, options } = renderOptionsFrom(values, env, 'view');
  const { result, diagnostics } = await loadAndRender(files, node, { ...options, target: 'linux' });
  if (!result?.view || hasErrors(diagnostics)) throw new InputError('no view');
  const view = values['show-secrets'] ? result.view : maskView(result.view);
  process.stdout.write(`${JSON.stringify(view, null, 2)}\n`);
  return 0;
}

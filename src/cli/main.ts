import { renderCommand, renderUsage } from './render.js';
import { viewCommand } from './view.js';
import { InputError, UsageError } from './errors.js';

const usage = `Usage: bird-confd <command> [options]

Commands:
  render    render one node's BIRD configuration from manifests (no cluster needed)
  view      print the node view (the data templates print) as JSON, or its JSON Schema

Run "bird-confd <command> --help" for the options of a command.

${renderUsage}`;

type Command = (argv: string[], env: NodeJS.ProcessEnv) => Promise<number>;
const commands: Record<string, Command> = { render: renderCommand, view: viewCommand };

/** Runs the CLI and returns the exit code; the only place where errors become exit codes. */
export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '-h' || name === '--help' || name === 'help') {
    process.stdout.write(`${usage}\n`);
    return name ? 0 : 2;
  }
  const command = commands[name];
  if (!command) {
    process.stderr.write(`bird-confd: unknown command ${JSON.stringify(name)}\n${usage}\n`);
    return 2;
  }
  try {
    return await command(rest, env);
  } catch (err) {
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`bird-confd ${name}: ${(err as Error).message}\nRun "bird-confd ${name} --help" for usage.\n`);
      return 2;
    }
    if (err instanceof InputError) {
      process.stderr.write(`bird-confd ${name}: ${err.message}\n`);
      return 1;
    }
    process.stderr.write(`bird-confd ${name}: ${(err as Error).message}\n`);
    return 1;
  }
}

// Run directly (`tsx src/cli/main.ts ...`) in development; the bin imports main() instead.
if (import.meta.url === `file://${process.argv[1]}`) process.exitCode = await main(process.argv.slice(2));

import { renderUsage } from './usage.js';
import { packageVersion } from './version.js';
import { InputError, UsageError } from './errors.js';

const usage = `Usage: bird-confd <command> [options]

Commands:
  render    render one node's BIRD configuration from manifests (no cluster needed)
  watch     follow a datastore and keep this node's BIRD files applied (the sidecar)
  view      print the node view (the data templates print) as JSON, or its JSON Schema
  status    compare the BGP sessions BIRD runs with the rendered files (drift, sessions down)
  diff      preview a change: file diffs (secrets masked) and what a reload does to each session
  graph     draw the cluster's BGP peering topology (Graphviz DOT or SVG)

Run "bird-confd <command> --help" for the options of a command.

${renderUsage}`;

type Command = (argv: string[], env: NodeJS.ProcessEnv) => Promise<number>;
// Each command's module is imported when that command runs: `render` never loads the datastore
// clients, logging or metrics of `watch`, and `--version` or `--help` load no command at all.
const commands: Record<string, () => Promise<Command>> = {
  watch: async () => (await import('./watch.js')).watchCommand,
  render: async () => (await import('./render.js')).renderCommand,
  view: async () => (await import('./view.js')).viewCommand,
  status: async () => (await import('./status.js')).statusCommand,
  diff: async () => (await import('./diff.js')).diffCommand,
  graph: async () => (await import('./graph.js')).graphCommand,
};

/** Runs the CLI and returns the exit code; the only place where errors become exit codes. */
export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '-h' || name === '--help' || name === 'help') {
    process.stdout.write(`${usage}\n`);
    return name ? 0 : 2;
  }
  if (name === '--version' || name === 'version') {
    // Also the container's health probe until the daemon serves /livez.
    process.stdout.write(`bird-confd ${packageVersion()}\n`);
    return 0;
  }
  const load = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (!load) {
    process.stderr.write(`bird-confd: unknown command ${JSON.stringify(name)}\n${usage}\n`);
    return 2;
  }
  // A preview piped into a reader that stops early (`| head`): stop quietly, as other tools do.
  // Not the daemon, whose standard output is its log: a closed log must not stop it unseen.
  if (name !== 'watch') process.stdout.on('error', (err: NodeJS.ErrnoException) => (err.code === 'EPIPE' ? process.exit(0) : undefined));
  try {
    const command = await load();
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

import { UsageError } from './errors.js';

/**
 * Runs a command whose exit code 1 means "found something" (as diff(1)): any failure other than
 * bad usage becomes exit code 2 here, so it cannot pass for a finding. Usage errors go on to main().
 */
export async function troubleIsTwo(command: string, run: () => Promise<number>): Promise<number> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) throw err;
    process.stderr.write(`bird-confd ${command}: ${(err as Error).message}\n`);
    return 2;
  }
}

/** Bad command-line usage: exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Bad input data, already reported line by line: exit code 1. */
export class InputError extends Error {
  override readonly name = 'InputError';
}

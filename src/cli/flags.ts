import { UsageError } from './errors.js';

/** Limits of a numeric flag. */
export interface NumberLimits {
  readonly min?: number;
  /** Whole numbers only (a count of milliseconds, say). */
  readonly integer?: boolean;
  /** What the number counts, for the error message (`seconds`, `milliseconds`). */
  readonly unit: string;
}

/**
 * The value of numeric flag `--name`, or `fallback` when it is absent. Anything that is not a
 * plain decimal number within the limits is a usage error naming the flag (exit 2), never NaN.
 */
export function numberFlag(name: string, text: string | undefined, fallback: number, limits: NumberLimits): number {
  if (text === undefined) return fallback;
  const pattern = limits.integer ? /^\d+$/ : /^\d+(\.\d+)?$/;
  const value = Number(text.trim());
  const min = limits.min ?? 0;
  if (!pattern.test(text.trim()) || !Number.isFinite(value) || value < min) {
    const what = limits.integer ? 'a whole number' : 'a number';
    throw new UsageError(`--${name} must be ${what} of ${limits.unit}${min > 0 ? ` (at least ${min})` : ''}, not ${JSON.stringify(text)}`);
  }
  return value;
}

/** The manifest paths (`-f`) of a command that reads manifests: at least one. */
export function manifestPathsFrom(values: { readonly file?: string[] }, command: string): string[] {
  if (!values.file?.length) throw new UsageError(`${command} needs at least one -f PATH`);
  return values.file;
}

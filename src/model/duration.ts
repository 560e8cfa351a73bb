import { z } from 'zod';

/** Nanoseconds per unit, as Go's time.ParseDuration knows them (both micro signs included). */
const units: Record<string, bigint> = {
  ns: 1n,
  us: 1000n,
  '\u00b5s': 1000n,
  '\u03bcs': 1000n,
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};

/** 1<<63: Go's bound for a duration's magnitude while it is summed. */
const limit = 1n << 63n;

/** One `<number><unit>` component of a duration: its nanoseconds, and the rest of the text. */
function component(s: string): { ns: bigint; rest: string } | string {
  const m = /^(\d*)(?:\.(\d*))?/.exec(s)!;
  const [whole, intText = '', fracText] = m;
  if (intText === '' && !fracText) return 'a number is missing';
  const int = BigInt(intText || '0');
  if (int > limit) return 'out of range';
  let rest = s.slice(whole.length);
  const unitText = /^[^\d.]*/.exec(rest)![0];
  const unit = units[unitText];
  if (unitText === '') return 'a unit (ns, us, ms, s, m, h) is missing';
  if (unit === undefined) return `unknown unit ${JSON.stringify(unitText.slice(0, 10))}`;
  rest = rest.slice(unitText.length);
  if (int > limit / unit) return 'out of range';
  let ns = int * unit;
  const frac = fraction(fracText ?? '');
  // Go adds the fraction through float64 and truncates; the same double arithmetic here.
  if (frac.value > 0n) ns += BigInt(Math.trunc(Number(frac.value) * (Number(unit) / frac.scale)));
  return ns > limit ? 'out of range' : { ns, rest };
}

/** The digits after the point as Go reads them: digits that would overflow are dropped. */
function fraction(digits: string): { value: bigint; scale: number } {
  let value = 0n;
  let scale = 1;
  for (const c of digits) {
    const next = value * 10n + BigInt(c);
    if (value > (limit - 1n) / 10n || next > limit) break;
    value = next;
    scale *= 10;
  }
  return { value, scale };
}

/**
 * Parses a duration as Go's time.ParseDuration does (what Kubernetes' metav1.Duration uses):
 * `10s`, `1m30s`, `1.5h`, `120ms`, `0`; an optional sign. Returns nanoseconds, or an error text.
 */
export function parseGoDuration(text: string): bigint | string {
  let s = text;
  let negative = false;
  if (s.startsWith('-') || s.startsWith('+')) {
    negative = s.startsWith('-');
    s = s.slice(1);
  }
  if (s === '0') return 0n;
  if (s === '') return 'empty';
  let total = 0n;
  while (s !== '') {
    const c = component(s);
    if (typeof c === 'string') return c;
    total += c.ns;
    if (total > limit) return 'out of range';
    s = c.rest;
  }
  if (!negative && total > limit - 1n) return 'out of range';
  return negative ? -total : total;
}

/** Whole seconds of a duration, rounded half away from zero as Go's math.Round(d.Seconds()). */
export function roundedSeconds(ns: bigint): number {
  const seconds = Number(ns / 1_000_000_000n) + Number(ns % 1_000_000_000n) / 1e9;
  return Math.sign(seconds) * Math.round(Math.abs(seconds));
}

/** The largest number BIRD's configuration lexer accepts (a 32-bit unsigned value). */
const birdNumberMax = 4294967295;

/**
 * A Kubernetes duration (`10s`, `1m30s`, `120ms`), read as Calico stores it for BIRD: the whole
 * seconds, rounded half away from zero, as decimal text (`graceful restart time 10;`). Negative
 * values and values beyond BIRD's number range are refused: BIRD would reject the file.
 */
export const Duration = z.string({ error: 'not a duration (a text such as 120s, 1m30s or 500ms)' }).transform((text, ctx) => {
  const ns = parseGoDuration(text);
  const quoted = JSON.stringify(text.slice(0, 40));
  if (typeof ns === 'string') {
    ctx.addIssue({ code: 'custom', message: `not a duration (such as 120s, 1m30s or 500ms): ${ns}: ${quoted}` });
    return z.NEVER;
  }
  const seconds = roundedSeconds(ns);
  if (ns < 0n || seconds > birdNumberMax) {
    ctx.addIssue({ code: 'custom', message: `must be 0s..${birdNumberMax}s: ${quoted}` });
    return z.NEVER;
  }
  return String(seconds);
});

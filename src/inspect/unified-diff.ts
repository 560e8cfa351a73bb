import { diffArrays } from 'diff';

/** One line of an edit script: kept, removed from the old text, or added in the new one. */
export interface DiffLine {
  readonly op: ' ' | '-' | '+';
  readonly text: string;
}

/**
 * The shortest edit script from `a` to `b`, by jsdiff (Myers' algorithm; its memory grows with
 * the edit, not with the product of the edit and the text, so a large file with many changed
 * lines is diffed in little memory). Removed lines come before the added lines that replace them.
 */
export function diffLines(a: readonly string[], b: readonly string[]): DiffLine[] {
  const out: DiffLine[] = [];
  for (const change of diffArrays(a.slice(), b.slice())) {
    const op = change.added ? '+' : change.removed ? '-' : ' ';
    for (const text of change.value) out.push({ op, text });
  }
  return out;
}

/** Text as lines; a final newline ends the last line rather than adding an empty one. */
function linesOf(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/**
 * A unified diff (`diff -u` format) of two texts, '' when equal. `mapLine` rewrites each printed
 * line (used to mask passwords; the comparison itself is on the real text).
 */
export function unifiedDiff(before: string, after: string, names: { readonly old: string; readonly new: string }, context = 3, mapLine: (line: string) => string = (l) => l): string {
  if (before === after) return '';
  const script = diffLines(linesOf(before), linesOf(after));
  const hunks: string[] = [];
  let i = 0;
  while (i < script.length) {
    while (i < script.length && script[i]!.op === ' ') i++;
    if (i >= script.length) break;
    const start = Math.max(0, i - context);
    let end = i;
    // Extend the hunk while the next change is within 2 * context kept lines.
    for (;;) {
      while (end < script.length && script[end]!.op !== ' ') end++;
      let next = end;
      while (next < script.length && script[next]!.op === ' ') next++;
      if (next < script.length && next - end <= 2 * context) end = next;
      else break;
    }
    const stop = Math.min(script.length, end + context);
    hunks.push(hunk(script, start, stop, mapLine));
    i = stop;
  }
  const header = `--- ${names.old}\n+++ ${names.new}\n`;
  const noNewline = (t: string) => t !== '' && !t.endsWith('\n');
  const tail = noNewline(before) || noNewline(after) ? '\\ No newline at end of file (one side)\n' : '';
  return header + hunks.join('') + tail;
}

function hunk(script: readonly DiffLine[], start: number, stop: number, mapLine: (line: string) => string): string {
  let oldLine = 1;
  let newLine = 1;
  for (let j = 0; j < start; j++) {
    if (script[j]!.op !== '+') oldLine++;
    if (script[j]!.op !== '-') newLine++;
  }
  const body = script.slice(start, stop);
  const oldCount = body.filter((l) => l.op !== '+').length;
  const newCount = body.filter((l) => l.op !== '-').length;
  const range = (line: number, count: number) => (count === 0 ? `${line - 1},0` : count === 1 ? `${line}` : `${line},${count}`);
  return `@@ -${range(oldLine, oldCount)} +${range(newLine, newCount)} @@\n${body.map((l) => `${l.op}${mapLine(l.text)}\n`).join('')}`;
}

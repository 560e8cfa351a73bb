import { diffArrays } from 'diff';

/** One line of an edit script: kept, removed from the old text, or added in the new one. */
export interface DiffLine {
  readonly op: ' ' | '-' | '+';
  readonly text: string;
}

/** Above this many lines (old and new together), texts are compared block by block first. */
export const BLOCK_DIFF_LINES = 4000;

/**
 * An edit script from `a` to `b`: removed lines come before the added lines that replace them.
 * Up to `BLOCK_DIFF_LINES` lines it is the shortest, by jsdiff (Myers' algorithm, whose memory
 * grows with the edit, not with the text). Above, Myers' time (the text times the edit) would be
 * minutes for a large mesh with many changed peers: the texts are first compared as blocks (see
 * `blocksOf`), and only a run of changed blocks is compared line by line. The script is then
 * short, though not always the shortest (a line moving between blocks counts as removed and added).
 */
export function diffLines(a: readonly string[], b: readonly string[]): DiffLine[] {
  return a.length + b.length <= BLOCK_DIFF_LINES ? lineScript(a, b) : blockScript(a, b);
}

function lineScript(a: readonly string[], b: readonly string[]): DiffLine[] {
  const out: DiffLine[] = [];
  for (const change of diffArrays(a.slice(), b.slice())) {
    const op = change.added ? '+' : change.removed ? '-' : ' ';
    for (const text of change.value) out.push({ op, text });
  }
  return out;
}

/**
 * Lines in blocks: a block starts at a line that starts with neither white space nor `}` (a
 * comment, a `protocol`, `filter` or `function` line), and holds the lines up to the next.
 */
function blocksOf(lines: readonly string[]): string[][] {
  const out: string[][] = [];
  for (const line of lines) {
    const c = line.charCodeAt(0);
    const continues = c === 32 || c === 9 || c === 125 || line === '';
    if (out.length === 0 || !continues) out.push([line]);
    else out[out.length - 1]!.push(line);
  }
  return out;
}

function blockScript(a: readonly string[], b: readonly string[]): DiffLine[] {
  const blocksA = blocksOf(a);
  const blocksB = blocksOf(b);
  const out: DiffLine[] = [];
  let removed: string[][] = [];
  let added: string[][] = [];
  const replace = (old: readonly string[], now: readonly string[]) => {
    if (old.length > 0 && now.length > 0 && old.length + now.length <= BLOCK_DIFF_LINES) out.push(...lineScript(old, now));
    else {
      for (const text of old) out.push({ op: '-', text });
      for (const text of now) out.push({ op: '+', text });
    }
  };
  // A run of changed blocks: block by block when as many were removed as added (one line changed
  // in every peer, such as this node's own address), else line by line (or, when the run is
  // itself large, as a whole).
  const flush = () => {
    if (removed.length === added.length) removed.forEach((block, k) => replace(block, added[k]!));
    else replace(removed.flat(), added.flat());
    removed = [];
    added = [];
  };
  let i = 0;
  let j = 0;
  for (const change of diffArrays(blocksA.map((bl) => bl.join('\n')), blocksB.map((bl) => bl.join('\n')))) {
    const n = change.count ?? change.value.length;
    if (change.removed) for (let k = 0; k < n; k++) removed.push(blocksA[i++]!);
    else if (change.added) for (let k = 0; k < n; k++) added.push(blocksB[j++]!);
    else {
      flush();
      for (let k = 0; k < n; k++, j++) for (const text of blocksA[i++]!) out.push({ op: ' ', text });
    }
  }
  flush();
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
  const at = { index: 0, oldLine: 1, newLine: 1 };
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
    hunks.push(hunk(script, start, stop, at, mapLine));
    i = stop;
  }
  const header = `--- ${names.old}\n+++ ${names.new}\n`;
  const noNewline = (t: string) => t !== '' && !t.endsWith('\n');
  const tail = noNewline(before) || noNewline(after) ? '\\ No newline at end of file (one side)\n' : '';
  return header + hunks.join('') + tail;
}

function hunk(script: readonly DiffLine[], start: number, stop: number, at: { index: number; oldLine: number; newLine: number }, mapLine: (line: string) => string): string {
  // The line numbers at `start`, counted on from the previous hunk's start (hunks come in order).
  for (; at.index < start; at.index++) {
    if (script[at.index]!.op !== '+') at.oldLine++;
    if (script[at.index]!.op !== '-') at.newLine++;
  }
  const body = script.slice(start, stop);
  const oldCount = body.filter((l) => l.op !== '+').length;
  const newCount = body.filter((l) => l.op !== '-').length;
  const range = (line: number, count: number) => (count === 0 ? `${line - 1},0` : count === 1 ? `${line}` : `${line},${count}`);
  return `@@ -${range(at.oldLine, oldCount)} +${range(at.newLine, newCount)} @@\n${body.map((l) => `${l.op}${mapLine(l.text)}\n`).join('')}`;
}

/** Drops trailing white space and runs of blank lines, so output has no whitespace-only lines. */
export function tidy(text: string): string {
  // Linear passes only: configs of a large mesh are megabytes long.
  const body = `${text}\n`.replace(/[ \t]+\n/g, '\n').replace(/\n{3,}/g, '\n\n');
  let start = 0;
  while (body.charCodeAt(start) === 10) start++;
  let end = body.length;
  while (end > start && body.charCodeAt(end - 1) === 10) end--;
  return `${body.slice(start, end)}\n`;
}

/**
 * Whether `text`, placed anywhere in a file, passes through `tidy` unchanged and leaves its
 * neighbours as they would be next to the token that stood for it: it does not start with a line
 * break or blank, ends with one line break after a visible character, and holds no trailing
 * blanks and no run of blank lines. Concatenations of such texts are such texts too.
 */
export function tidyStable(text: string): boolean {
  if (text.length < 2 || !text.endsWith('\n')) return false;
  const first = text.charCodeAt(0);
  const beforeLast = text.charCodeAt(text.length - 2);
  if (first === 10 || first === 32 || first === 9 || beforeLast === 10 || beforeLast === 32 || beforeLast === 9) return false;
  return !/[ \t]\n|\n\n\n/.test(text);
}

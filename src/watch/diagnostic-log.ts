import type { Logger } from 'pino';
import { formatDiagnostic, type Diagnostic } from '../model/diagnostics.js';

/**
 * Logs a render's diagnostics without repeating itself: errors every time, but a warning only
 * when it was not among the previous render's warnings. A warning that stays (a v3.32 field under
 * the v3.17 profile, say) is logged once, not on every render; one that goes away and comes back,
 * or whose text changes with its object, is logged again.
 */
export function diagnosticLogger(logger: Logger): (diagnostics: readonly Diagnostic[]) => void {
  let previous = new Set<string>();
  return (diagnostics) => {
    const now = new Set<string>();
    for (const d of diagnostics) {
      const text = formatDiagnostic(d);
      if (d.severity === 'error') {
        logger.error(text);
        continue;
      }
      if (!previous.has(text) && !now.has(text)) logger.warn(text);
      now.add(text);
    }
    previous = now;
  };
}

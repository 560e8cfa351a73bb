import type { FelixConfiguration } from '../../model/felix-configuration.js';
import type { Diagnostic } from '../../model/diagnostics.js';

/** The service loop prevention modes (FelixConfiguration spec.serviceLoopPrevention). */
export type LoopPreventionMode = 'Drop' | 'Reject' | 'Disabled';

/** The kernel routing table the blackholes go to, unless configured otherwise. */
export const DEFAULT_LOOP_TABLE = 250;

/** What the loop prevention file of one family holds. */
export interface LoopPreventionView {
  readonly enabled: boolean;
  readonly mode: LoopPreventionMode;
  /** The kernel routing table (the policy rule `not iif lo lookup <table>` points at it). */
  readonly kernelTable: number;
  /** `blackhole` (Drop) or `unreachable` (Reject). */
  readonly routeType: 'blackhole' | 'unreachable';
  readonly routes: readonly string[];
}

/**
 * The mode: the override (CLI flag) if given, else FelixConfiguration `default`, else Disabled,
 * so that Calico-compatible output is unchanged unless asked for.
 */
export function loopPreventionMode(felix: FelixConfiguration | undefined, override?: LoopPreventionMode): LoopPreventionMode {
  return override ?? felix?.spec.serviceLoopPrevention ?? 'Disabled';
}

/** A valid kernel table number: the one given (1..4294967295, not the reserved local, main and default tables), else the default with an error. */
export function checkedLoopTable(table: number, diagnostics: Diagnostic[]): number {
  if (Number.isInteger(table) && table >= 1 && table <= 4294967295 && ![253, 254, 255].includes(table)) return table;
  diagnostics.push({ severity: 'error', object: 'option loopPreventionTable', message: `kernel table must be 1..4294967295 and not 253-255 (default, main, local), not ${table}; using ${DEFAULT_LOOP_TABLE}` });
  return DEFAULT_LOOP_TABLE;
}

/** The loop prevention view of one family: every advertised service range (cluster and external). */
export function loopPreventionView(mode: LoopPreventionMode, table: number, serviceRanges: readonly string[]): LoopPreventionView {
  return { enabled: mode !== 'Disabled' && serviceRanges.length > 0, mode, kernelTable: table, routeType: mode === 'Reject' ? 'unreachable' : 'blackhole', routes: serviceRanges };
}

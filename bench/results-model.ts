import type { FigureId, FigureSpec } from './figures.ts';
import type { Machine } from './machine.ts';
import type { BenchSettings } from './settings.ts';
import type { SystemName } from './systems/system.ts';

/** Everything one run produced; written as the JSON result and rendered as the Markdown table. */
export interface BenchResult {
  startedAt: string;
  finishedAt: string;
  machine: Machine;
  settings: BenchSettings;
  loadGenerator: string;
  figures: FigureSpec[];
  /** Every measurement, per system and figure. */
  samples: Record<SystemName, Partial<Record<FigureId, number[]>>>;
  /** A registry's high-water RSS in MiB after each workload phase, in phase order. */
  peakRssByPhase: Partial<Record<SystemName, Record<string, number>>>;
}

export function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export function medianOf(result: BenchResult, system: SystemName, id: FigureId): number | undefined {
  return median(result.samples[system]?.[id] ?? []);
}

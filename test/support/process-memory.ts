import { readFile } from 'node:fs/promises';

export interface ResidentMemory {
  /** `VmRSS`: resident now. */
  rssBytes: number;
  /** `VmHWM`: the highest resident size since the process started. */
  peakBytes: number;
}

/** Resident memory of a live process from `/proc/<pid>/status` (Linux only: the suite's platform). */
export async function residentMemory(pid: number): Promise<ResidentMemory> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return { rssBytes: statusKib(status, 'VmRSS') * 1024, peakBytes: statusKib(status, 'VmHWM') * 1024 };
}

function statusKib(status: string, field: string): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status);
  if (!match) throw new Error(`/proc status has no ${field} line`);
  return Number(match[1]);
}

export function mebibytes(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}

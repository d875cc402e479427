/**
 * Starts a clock of the benchmark process's own CPU time; calling the result gives the cores it used since.
 * Shown next to each measurement so a reader can see the client was not the bottleneck on a small machine.
 */
export function clientCpuMeter(): () => number {
  const cpu = process.cpuUsage();
  const wall = performance.now();
  return () => {
    const used = process.cpuUsage(cpu);
    return (used.user + used.system) / 1000 / Math.max(1, performance.now() - wall);
  };
}

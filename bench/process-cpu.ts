/**
 * Another process's CPU time, for benchmarks that weigh every process of the machine (the
 * control plane, DynamoDB Local, the simulator workers) against its cores. Linux only: read from
 * `/proc/<pid>/stat`; elsewhere, or for a process that has gone, undefined.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** utime + stime (fields 14 and 15 of proc(5)'s stat line) in ms; the command name may hold spaces and parentheses, so fields are counted after its last ')'. */
export function cpuMsFromStat(stat: string, ticksPerSecond: number): number | undefined {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).trim().split(/\s+/);
  // After the name: field 3 (state) is fields[0], so field n is fields[n - 3].
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime) || fields.length < 13) return undefined;
  return ((utime + stime) * 1000) / ticksPerSecond;
}

let ticks: number | undefined;
function ticksPerSecond(): number {
  if (ticks === undefined) {
    try { ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100; } catch { ticks = 100; }
  }
  return ticks;
}

export function processCpuMs(pid: number | undefined): number | undefined {
  if (pid === undefined || process.platform !== 'linux') return undefined;
  try {
    return cpuMsFromStat(readFileSync(`/proc/${pid}/stat`, 'utf8'), ticksPerSecond());
  } catch {
    return undefined;
  }
}

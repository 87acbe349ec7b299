/**
 * Where the CPU went during a bench phase, from Linux's /proc (elsewhere every figure is NaN): the
 * machine's busy share, and the CPU time of given processes (their waited-for children, such as
 * ffmpeg, included) and of the PostgreSQL backends connected to a database.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';

/** Clock ticks per second of /proc's counters (USER_HZ, 100 on Linux). */
const TICK_MS = 10;

/** A snapshot to diff against. */
export interface CpuSnapshot {
  readonly at: number;
  /** Jiffies: busy and total, over every core. */
  readonly machine: { readonly busy: number; readonly total: number };
  /** CPU ms by pid (its waited-for children included). */
  readonly processes: ReadonlyMap<number, number>;
  /** CPU ms of each pid's waited-for children (ffmpeg) alone. */
  readonly children: ReadonlyMap<number, number>;
}

/** Takes a snapshot of the machine and of `pids` plus the backends of `database`. */
export function cpuSnapshot(pids: readonly number[], database: string): CpuSnapshot {
  const processes = new Map<number, number>();
  const children = new Map<number, number>();
  for (const pid of [...pids, ...postgresBackends(database)]) {
    const ms = processCpuMs(pid);
    if (Number.isNaN(ms.own)) continue;
    processes.set(pid, ms.own + ms.children);
    children.set(pid, ms.children);
  }
  return { at: performance.now(), machine: machineJiffies(), processes, children };
}

/** What happened between two snapshots: the machine's busy share and each process's CPU seconds. */
export function cpuBetween(
  from: CpuSnapshot,
  to: CpuSnapshot,
): {
  readonly busy: number;
  readonly cores: number;
  readonly seconds: (pid: number) => number;
  readonly childSeconds: (pid: number) => number;
} {
  const total = to.machine.total - from.machine.total;
  return {
    busy: total > 0 ? (to.machine.busy - from.machine.busy) / total : Number.NaN,
    cores: cpus().length,
    // A process born during the phase counts from zero.
    seconds: (pid) => ((to.processes.get(pid) ?? 0) - (from.processes.get(pid) ?? 0)) / 1000,
    childSeconds: (pid) => ((to.children.get(pid) ?? 0) - (from.children.get(pid) ?? 0)) / 1000,
  };
}

/** The pids of the PostgreSQL backends connected to `database` (their title names it). */
export function postgresBackends(database: string): number[] {
  const found: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return found;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const title = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (title.startsWith('postgres: ') && title.includes(` ${database} `)) found.push(Number(entry));
    } catch {
      // Gone meanwhile, or not ours to read.
    }
  }
  return found;
}

function processCpuMs(pid: number): { own: number; children: number } {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces): state is field 3, utime 14 … cstime 17.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = (indexes: number[]) => indexes.reduce((sum, i) => sum + Number(fields[i] ?? 0), 0);
    return { own: ticks([11, 12]) * TICK_MS, children: ticks([13, 14]) * TICK_MS };
  } catch {
    return { own: Number.NaN, children: Number.NaN };
  }
}

function machineJiffies(): { busy: number; total: number } {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    const values = line.trim().split(/\s+/).slice(1, 9).map(Number);
    const total = values.reduce((sum, value) => sum + value, 0);
    const idle = (values[3] ?? 0) + (values[4] ?? 0);
    return { busy: total - idle, total };
  } catch {
    return { busy: Number.NaN, total: Number.NaN };
  }
}

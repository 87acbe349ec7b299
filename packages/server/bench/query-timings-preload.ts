/**
 * Preloaded into the bench's `vidgenie worker` children (`node --import tsx --import
 * ./bench/query-timings-preload.ts …`): with `VIDGENIE_QUERY_TIMINGS_FILE` set, every statement
 * the worker runs is timed (see `query-timings.ts`), then classified and appended to that file as
 * JSON lines at exit, so that the worker does no more while it runs; the last line holds the process's
 * event-loop delay and CPU time since its first statement about a run. `VIDGENIE_QUERY_TIMINGS_NODES` lists the graph's node ids.
 * Without the variable it does nothing. Read only by the bench; the server never sees it.
 */
import { appendFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { drainQueryTimings, instrumentPg } from './query-timings.ts';

const file = process.env.VIDGENIE_QUERY_TIMINGS_FILE;
if (file !== undefined && file !== '') {
  let lines: string[] = [];
  const flush = () => {
    if (lines.length === 0) return;
    const text = `${lines.join('\n')}\n`;
    lines = [];
    appendFileSync(file, text);
  };
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  // Start-up (transpiling, connecting) is not what is measured: the loop delay and CPU time
  // count from the first statement about a run.
  let cpuFrom: NodeJS.CpuUsage | undefined;
  instrumentPg({
    nodes: (process.env.VIDGENIE_QUERY_TIMINGS_NODES ?? '').split(',').filter((id) => id !== ''),
    onRecord: (record) => {
      lines.push(JSON.stringify(record));
    },
    onFirstRun: () => {
      cpuFrom = process.cpuUsage();
      loop.reset();
    },
  });
  process.on('exit', () => {
    // Measured before the drain's own work.
    const cpu = process.cpuUsage(cpuFrom);
    drainQueryTimings();
    flush();
    appendFileSync(
      file,
      `${JSON.stringify({
        process: {
          pid: process.pid,
          loopP50: loop.percentile(50) / 1e6,
          loopP99: loop.percentile(99) / 1e6,
          loopMax: loop.max / 1e6,
          cpuMs: (cpu.user + cpu.system) / 1000,
          maxRssMb: process.resourceUsage().maxRSS / 1024,
        },
      })}\n`,
    );
  });
}

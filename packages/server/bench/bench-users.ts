/**
 * The runs bench's users, in a process of their own (real creators are on other machines: their
 * HTTP clients must not share the measured server's event loop, nor stamp an event's arrival late
 * because the server kept that loop busy). Started by `runs.bench.ts` with one JSON argument
 * ({@link BenchUsersOptions}); prints `ready`, waits for a `go` line on stdin, then every user
 * executes the template at once and follows its run's events to the end; prints one JSON line
 * ({@link BenchUsersResult}), and exits at the next line on stdin (or when stdin closes). Times are epoch ms (`performance.timeOrigin + now()`), the
 * same clock as the bench process.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { followSse } from './follow-sse.ts';
import { clock } from './query-timings.ts';

/** The child's argument. */
export interface BenchUsersOptions {
  readonly base: string;
  /** One session cookie per user. */
  readonly cookies: readonly string[];
  /** The graph every user runs. */
  readonly graph: unknown;
  readonly timeoutMs: number;
}

/** One user's run, as the client saw it. */
export interface UserRun {
  readonly user: number;
  readonly began: number;
  readonly ended: number;
  readonly runId?: string;
  readonly error?: string;
  /** When the POST's 202 (with the run id) arrived. */
  readonly acceptedAt?: number;
  readonly openedAt?: number;
  /** When each event (by seq) arrived. */
  readonly received?: ReadonlyMap<number, number>;
  readonly terminal?: string | undefined;
  readonly reconnects?: number;
}

/** The child's answer: the users' runs, `received` as [seq, at] pairs. */
export interface BenchUsersResult {
  readonly runs: readonly (Omit<UserRun, 'received'> & { readonly received?: readonly [number, number][] })[];
  /**
   * This process's event-loop delay p99 over the runs, in ms: how late it may have read what the
   * server sent (its receive times are stamped when it gets to them).
   */
  readonly loopP99Ms: number;
}

/** Parses the child's answer back into {@link UserRun}s and its event-loop delay p99 (ms). */
export function parseBenchUsersResult(line: string): { runs: UserRun[]; loopP99Ms: number } {
  const result = JSON.parse(line) as BenchUsersResult;
  return {
    runs: result.runs.map(({ received, ...run }) => ({
      ...run,
      ...(received === undefined ? {} : { received: new Map(received) }),
    })),
    loopP99Ms: result.loopP99Ms,
  };
}

/** One user's run: execute, then follow the events to the end. */
async function runOne(args: {
  readonly base: string;
  readonly cookie: string;
  readonly user: number;
  readonly graph: unknown;
  readonly timeout: AbortSignal;
}): Promise<UserRun> {
  const { base, cookie, user } = args;
  const began = clock();
  try {
    const response = await fetch(`${base}/api/workflow/execute`, {
      method: 'POST',
      headers: { origin: base, cookie, 'content-type': 'application/json' },
      body: JSON.stringify({ graph: args.graph, initialPrompt: `a lighthouse in a storm, take ${user + 1}` }),
      signal: args.timeout,
    });
    if (response.status !== 202)
      return { user, began, ended: clock(), error: `execute: ${response.status} ${await response.text()}` };
    const { runId } = (await response.json()) as { runId: string };
    const acceptedAt = clock();
    const stream = await followSse({
      url: `${base}/api/workflow/runs/${runId}/events`,
      headers: { origin: base, cookie },
      signal: args.timeout,
    });
    return { user, began, ended: clock(), runId, acceptedAt, ...stream };
  } catch (error) {
    return { user, began, ended: clock(), error: String(error) };
  }
}

/** The child's entry point (only when run as a script). */
async function main(): Promise<void> {
  const options = JSON.parse(process.argv[2] ?? '{}') as BenchUsersOptions;
  const lines = createInterface({ input: process.stdin });
  console.log('ready');
  await new Promise<void>((resolve) => lines.once('line', () => resolve()));
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  const runs = await Promise.all(
    options.cookies.map((cookie, user) =>
      runOne({ base: options.base, cookie, user, graph: options.graph, timeout }),
    ),
  );
  loop.disable();
  const result: BenchUsersResult = {
    runs: runs.map(({ received, ...run }) => ({
      ...run,
      ...(received === undefined ? {} : { received: [...received] }),
    })),
    loopP99Ms: loop.percentile(99) / 1e6,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  // Alive until told (or stdin closes), so the bench reads this process's CPU before it ends.
  await new Promise<void>((resolve) => {
    lines.once('line', () => resolve());
    lines.once('close', () => resolve());
  });
  process.exit(0);
}

if (process.argv[1]?.endsWith('bench-users.ts')) await main();

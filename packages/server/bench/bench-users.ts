/**
 * The runs bench's users, in a process of their own (real creators are on other machines: their
 * HTTP clients must not share the measured server's event loop, nor stamp an event's arrival late
 * because the server kept that loop busy). Started by `runs.bench.ts` with one JSON argument
 * ({@link BenchUsersOptions}); prints `ready`, waits for a `go` line on stdin, then every user
 * executes the template at once and follows its run's events to the end (sampling the server's
 * accept queue when asked); prints one JSON line
 * ({@link BenchUsersResult}), and exits at the next line on stdin (or when stdin closes). Times are epoch ms (`performance.timeOrigin + now()`), the
 * same clock as the bench process.
 */
import { readFileSync } from 'node:fs';
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
  /**
   * Each user first loads its balance (as the creator's page does before Run), so that Run goes
   * on a connection the server has already accepted and kept alive; otherwise every Run opens a
   * new connection at the same moment (default false).
   */
  readonly warmConnections?: boolean;
  /**
   * Samples the server's accept queue during the runs (default false): each sample reads the
   * machine's whole `/proc/net/tcp`, some 3 ms of CPU with a thousand connections open, which the
   * other figures would then carry.
   */
  readonly sampleAcceptQueue?: boolean;
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
  /**
   * The server's accept queue over the runs (connections the kernel completed that the server had
   * not yet accepted), sampled every {@link ACCEPT_SAMPLE_MS} ms from `/proc/net/tcp`; absent where
   * that file is not readable.
   */
  readonly acceptQueue?: AcceptQueue;
}

/** What the accept-queue sampling saw. */
export interface AcceptQueue {
  /** The longest queue seen. */
  readonly peak: number;
  /** How long (ms) the queue held a connection, from the samples. */
  readonly busyMs: number;
}

/** How often the accept queue is sampled. */
const ACCEPT_SAMPLE_MS = 50;

/** Parses the child's answer back into {@link UserRun}s and its event-loop delay p99 (ms). */
export function parseBenchUsersResult(line: string): {
  runs: UserRun[];
  loopP99Ms: number;
  acceptQueue?: AcceptQueue;
} {
  const result = JSON.parse(line) as BenchUsersResult;
  return {
    ...(result.acceptQueue === undefined ? {} : { acceptQueue: result.acceptQueue }),
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

/**
 * The accept queue of the listening TCP socket on `port` (IPv4 loopback), from `/proc/net/tcp`:
 * for a listening socket, `rx_queue` counts connections waiting for `accept()`. Undefined where
 * the file cannot be read (not Linux).
 */
function acceptQueueLength(port: number): number | undefined {
  let table: string;
  try {
    table = readFileSync('/proc/net/tcp', 'latin1');
  } catch {
    return undefined;
  }
  const local = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  for (const line of table.split('\n')) {
    const fields = line.trim().split(/\s+/);
    // sl local_address rem_address st tx_queue:rx_queue …; st 0A is LISTEN.
    if (fields[3] === '0A' && fields[1]?.endsWith(local))
      return Number.parseInt(fields[4]?.split(':')[1] ?? '0', 16);
  }
  return 0;
}

/** Samples the server's accept queue until stopped. */
function sampleAcceptQueue(base: string): () => AcceptQueue | undefined {
  const port = Number(new URL(base).port);
  let peak = 0;
  let busy = 0;
  let readable = acceptQueueLength(port) !== undefined;
  const timer = setInterval(() => {
    const length = acceptQueueLength(port);
    if (length === undefined) {
      readable = false;
      return;
    }
    peak = Math.max(peak, length);
    if (length > 0) busy++;
  }, ACCEPT_SAMPLE_MS);
  return () => {
    clearInterval(timer);
    return readable ? { peak, busyMs: busy * ACCEPT_SAMPLE_MS } : undefined;
  };
}

/** The child's entry point (only when run as a script). */
async function main(): Promise<void> {
  const options = JSON.parse(process.argv[2] ?? '{}') as BenchUsersOptions;
  const lines = createInterface({ input: process.stdin });
  if (options.warmConnections === true) {
    // As each creator's page did before Run: its balance, on a connection left open for the next request.
    await Promise.all(
      options.cookies.map(async (cookie) => {
        const response = await fetch(`${options.base}/api/credits/balance`, { headers: { cookie } });
        if (response.status !== 200) throw new Error(`balance: ${response.status}`);
        await response.arrayBuffer();
      }),
    );
  }
  console.log('ready');
  await new Promise<void>((resolve) => lines.once('line', () => resolve()));
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  const stopSampling = options.sampleAcceptQueue === true ? sampleAcceptQueue(options.base) : () => undefined;
  const runs = await Promise.all(
    options.cookies.map((cookie, user) =>
      runOne({ base: options.base, cookie, user, graph: options.graph, timeout }),
    ),
  );
  loop.disable();
  const acceptQueue = stopSampling();
  const result: BenchUsersResult = {
    ...(acceptQueue === undefined ? {} : { acceptQueue }),
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

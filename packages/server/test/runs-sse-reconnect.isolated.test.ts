import { randomInt } from 'node:crypto';
import { shortVideoTemplate } from '@vidgenie/nodes';
import { InsertQueryNode, type KyselyPlugin, type QueryId, RawNode, type RootOperationNode } from 'kysely';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import type { FollowRunEventsOptions } from '../src/runs/follow-run-events.ts';
import { isTerminalRunEvent } from '../src/runs/terminal-run-events.ts';
import { type RunningServer, startServer } from '../src/server/start-server.ts';
import { seededRandom } from './support/seeded-random.ts';
import { createTestApp, sessionCookieOf, type TestApp } from './support/test-app.ts';
import { describeEachDatabase } from './support/test-databases.ts';

/**
 * The route follows with a fixed 15 s heartbeat; here it beats after 20 ms of silence, so real
 * `: keep-alive` comments reach the client between events (the SSE route itself is unchanged).
 * The wrapper also counts the followers still running, to prove that a cut connection's follower
 * stops (no leaked bus subscription).
 */
const followers = vi.hoisted(() => ({ active: 0, started: 0 }));
vi.mock('../src/runs/follow-run-events.ts', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../src/runs/follow-run-events.ts')>();
  return {
    ...actual,
    followRunEvents: async (options: FollowRunEventsOptions) => {
      followers.active++;
      followers.started++;
      try {
        await actual.followRunEvents({ ...options, heartbeatMs: 20 });
      } finally {
        followers.active--;
      }
    },
  };
});

/**
 * The seed of this file's random cuts, in the test names: `SSE_SEED=<n>` replays the same cut
 * points (which events arrive live and which replayed still depends on timing).
 */
const SEED = process.env.SSE_SEED === undefined ? randomInt(2 ** 31) : Number(process.env.SSE_SEED);

/** One dispatched SSE message, or a comment line (the server's heartbeat). */
type SseItem =
  | { readonly kind: 'event'; readonly id: string | undefined; readonly event: string; readonly data: string }
  | { readonly kind: 'comment'; readonly text: string };

/**
 * An incremental SSE parser following the WHATWG rules: lines end with CRLF, LF or CR (split
 * anywhere across chunks), `:` starts a comment, a blank line dispatches the message, `data`
 * lines join with `\n`, one space after the colon is dropped, a message without data is not
 * dispatched.
 */
function createSseParser(): { push(text: string): SseItem[] } {
  let buffer = '';
  let id: string | undefined;
  let event = '';
  let data: string[] = [];
  const line = (text: string, out: SseItem[]) => {
    if (text === '') {
      if (data.length > 0) out.push({ kind: 'event', id, event: event || 'message', data: data.join('\n') });
      id = undefined;
      event = '';
      data = [];
      return;
    }
    if (text.startsWith(':')) {
      out.push({ kind: 'comment', text: text.slice(1) });
      return;
    }
    const colon = text.indexOf(':');
    const field = colon === -1 ? text : text.slice(0, colon);
    let value = colon === -1 ? '' : text.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') data.push(value);
    else if (field === 'event') event = value;
    else if (field === 'id' && !value.includes('\0')) id = value;
  };
  return {
    push(text) {
      buffer += text;
      const out: SseItem[] = [];
      for (;;) {
        const end = /\r\n|\r|\n/.exec(buffer);
        if (end === null) break;
        // A CR at the very end may be the first half of a CRLF still on the wire.
        if (end[0] === '\r' && end.index === buffer.length - 1) break;
        line(buffer.slice(0, end.index), out);
        buffer = buffer.slice(end.index + end[0].length);
      }
      return out;
    },
  };
}

/** An event as the client received it. */
interface ReceivedEvent {
  readonly seq: number;
  readonly type: string;
  readonly payload: Record<string, unknown>;
}

/** What one connection gave: its events, its comment lines, and how it ended. */
interface Connection {
  readonly events: ReceivedEvent[];
  readonly comments: number;
  /** `cut`: the client killed it; `closed`: the server ended the stream. */
  readonly end: 'cut' | 'closed';
}

/** Fails the test rather than hanging it when a stream never ends. */
const STREAM_TIMEOUT_MS = 90_000;

/**
 * Opens the run's event stream over HTTP (with `Last-Event-ID` when given) and reads it. With
 * `cutAfter`, the connection is killed (the fetch aborted, the socket closed) once that many
 * events have been read, whatever else is already buffered; it is never cut at a terminal event,
 * so the stream's own end is observed. Without `cutAfter` it reads to the end.
 */
async function connect(args: {
  readonly baseUrl: string;
  readonly cookie: string;
  readonly runId: string;
  readonly lastEventId: number | undefined;
  readonly cutAfter?: number;
  /** Called once the response has arrived (the server's follower is subscribed by then). */
  readonly onOpen?: () => void;
}): Promise<Connection> {
  const controller = new AbortController();
  const response = await fetch(`${args.baseUrl}/api/workflow/runs/${args.runId}/events`, {
    headers: {
      cookie: args.cookie,
      accept: 'text/event-stream',
      ...(args.lastEventId === undefined ? {} : { 'last-event-id': String(args.lastEventId) }),
    },
    signal: AbortSignal.any([controller.signal, AbortSignal.timeout(STREAM_TIMEOUT_MS)]),
  });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toContain('text/event-stream');
  args.onOpen?.();
  const events: ReceivedEvent[] = [];
  let comments = 0;
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const cut = (): Connection => {
    controller.abort();
    reader.cancel().catch(() => {});
    return { events, comments, end: 'cut' };
  };
  if (args.cutAfter === 0) return cut();
  const decoder = new TextDecoder();
  const parser = createSseParser();
  let terminal = false;
  for (;;) {
    const { done, value } = await reader.read();
    const items = parser.push(done ? decoder.decode() : decoder.decode(value, { stream: true }));
    for (const item of items) {
      if (item.kind === 'comment') {
        comments++;
        continue;
      }
      // Nothing follows the terminal event: the stream ends there.
      expect(terminal, `an event after the terminal one: ${item.event} ${item.id}`).toBe(false);
      const seq = Number(item.id);
      expect(Number.isSafeInteger(seq), `id ${item.id}`).toBe(true);
      events.push({ seq, type: item.event, payload: JSON.parse(item.data) as Record<string, unknown> });
      terminal = isTerminalRunEvent(item.event);
      if (!terminal && events.length === args.cutAfter) return cut();
    }
    if (done) return { events, comments, end: 'closed' };
  }
}

/** How a run was followed through its cuts. */
interface Followed {
  readonly events: ReceivedEvent[];
  readonly cuts: number;
  readonly comments: number;
  readonly connections: number;
}

/**
 * Follows a run like a client on a bad network: each connection is killed after a random number
 * of events (0 to 3, drawn from `random`), sometimes after a short pause, and the next one sends
 * the last seq received as `Last-Event-ID`, until a connection is closed by the server.
 */
async function followWithCuts(args: {
  readonly baseUrl: string;
  readonly cookie: string;
  readonly runId: string;
  readonly random: () => number;
}): Promise<Followed> {
  const events: ReceivedEvent[] = [];
  let lastEventId: number | undefined;
  let cuts = 0;
  let comments = 0;
  for (let connections = 1; connections <= 500; connections++) {
    const cutAfter = Math.floor(args.random() * 4);
    const pause = args.random() < 0.25 ? Math.floor(args.random() * 30) : 0;
    const connection = await connect({ ...args, lastEventId, cutAfter });
    events.push(...connection.events);
    comments += connection.comments;
    lastEventId = connection.events.at(-1)?.seq ?? lastEventId;
    if (connection.end === 'closed') return { events, cuts, comments, connections };
    cuts++;
    if (pause > 0) await new Promise((resolve) => setTimeout(resolve, pause));
  }
  throw new Error(`run ${args.runId}: still streaming after 500 connections`);
}

/** How an insert into `run_events` goes wrong: not run at all, or run (committed) but reported as failed. */
type InsertFault = 'fails-before' | 'fails-after-commit' | undefined;

/** Whether a statement inserts into `run_events` (a query builder's insert, or raw SQL). */
function insertsRunEvents(node: RootOperationNode): boolean {
  if (InsertQueryNode.is(node)) return node.into?.table.identifier.name === 'run_events';
  return RawNode.is(node) && /\binsert\s+into\s+run_events\b/i.test(node.sqlFragments.join(' '));
}

/**
 * A plugin injecting transient faults (a dropped connection, before the statement ran or after it
 * committed) into the inserts of `run_events`: once `armed`, the n-th insert gets `faults[n]`.
 */
function faultyEventInserts(faults: readonly InsertFault[]): KyselyPlugin & {
  armed: boolean;
  readonly injected: InsertFault[];
} {
  let inserts = 0;
  const failAfterCommit = new WeakSet<QueryId>();
  return {
    armed: false,
    injected: [],
    transformQuery({ node, queryId }) {
      if (this.armed && insertsRunEvents(node)) {
        const fault = faults[inserts++];
        if (fault !== undefined) this.injected.push(fault);
        if (fault === 'fails-before') throw new Error('Connection terminated unexpectedly (injected)');
        if (fault === 'fails-after-commit') failAfterCommit.add(queryId);
      }
      return node;
    },
    async transformResult({ result, queryId }) {
      if (failAfterCommit.has(queryId))
        throw new Error('Connection terminated unexpectedly (injected, after the commit)');
      return result;
    },
  };
}

describeEachDatabase(`SSE reconnects with Last-Event-ID (seed ${SEED})`, ({ db, database }) => {
  let t: TestApp;
  let server: RunningServer;
  beforeAll(async () => {
    t = await createTestApp(database());
    server = await startServer(t.services, { port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await server?.close();
    await t?.services.close();
  });

  /** Signs up over HTTP; returns the session cookie. */
  const signUp = async () => {
    const response = await fetch(`${server.url}/api/auth/signup`, {
      method: 'POST',
      headers: { origin: server.url, 'content-type': 'application/json' },
      body: JSON.stringify({
        email: `sse-${randomInt(2 ** 40)}@example.com`,
        password: `pw-${randomInt(2 ** 40)}x`,
      }),
    });
    expect(response.status).toBe(201);
    return sessionCookieOf(response);
  };

  /** Executes the five-node template on the local providers (no keys saved) over HTTP. */
  const execute = async (cookie: string, prompt: string, durationSeconds: 8 | 15) => {
    const response = await fetch(`${server.url}/api/workflow/execute`, {
      method: 'POST',
      headers: { origin: server.url, cookie, 'content-type': 'application/json' },
      body: JSON.stringify({ graph: shortVideoTemplate({ prompt, durationSeconds }) }),
    });
    expect(response.status).toBe(202);
    return ((await response.json()) as { runId: string }).runId;
  };

  const storedEvents = async (runId: string): Promise<ReceivedEvent[]> =>
    (
      await db()
        .selectFrom('run_events')
        .select(['seq', 'type', 'payload'])
        .where('run_id', '=', runId)
        .orderBy('seq')
        .execute()
    ).map((row) => ({ seq: row.seq, type: row.type, payload: row.payload as Record<string, unknown> }));

  /**
   * The run's status once its row has its final status: the terminal event is stored (and
   * streamed) before the row is finished, so just after the stream ends it may still say `running`.
   */
  const finalStatusOf = async (cookie: string, runId: string) => {
    for (let i = 0; ; i++) {
      const response = await fetch(`${server.url}/api/workflow/status/${runId}`, { headers: { cookie } });
      expect(response.status).toBe(200);
      const body = (await response.json()) as { status: string; lastEventSeq: number };
      if (!['queued', 'running'].includes(body.status)) return body;
      if (i > 600) throw new Error(`run ${runId} still ${body.status} 30 s after its terminal event`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  /** The checks every followed run must pass: 1..N, the stored rows, the terminal event last. */
  const expectComplete = async (cookie: string, runId: string, events: readonly ReceivedEvent[]) => {
    const seqs = events.map((event) => event.seq);
    expect(seqs, `run ${runId}: gap-free and duplicate-free`).toEqual(seqs.map((_, i) => i + 1));
    for (const event of events)
      expect(event.payload).toMatchObject({ type: event.type, seq: event.seq, runId });
    expect(events.at(-1)?.type).toBe('run.completed');
    expect(events.filter((event) => isTerminalRunEvent(event.type))).toHaveLength(1);
    expect(events).toEqual(await storedEvents(runId));
    const status = await finalStatusOf(cookie, runId);
    expect(status).toMatchObject({ status: 'completed', lastEventSeq: events.length });
  };

  it(`kills the stream at random points (seed ${SEED}); the reconnected sequence is 1..N, as stored`, {
    timeout: 240_000,
  }, async () => {
    const random = seededRandom(SEED);
    const followersBefore = followers.started;
    const cookie = await signUp();
    const specs = [
      ['a red fox in the snow at dawn', 8],
      ['a lighthouse in a storm at night', 15],
      ['a city street in the rain at sunset', 8],
    ] as const;
    // Three runs at once, each followed by its own flaky client (seeded from the one PRNG, in order).
    const runIds = await Promise.all(specs.map(([prompt, duration]) => execute(cookie, prompt, duration)));
    const seeds = runIds.map(() => Math.floor(random() * 2 ** 31));
    const followed = await Promise.all(
      runIds.map((runId, i) =>
        followWithCuts({ baseUrl: server.url, cookie, runId, random: seededRandom(seeds[i] ?? 0) }),
      ),
    );
    for (const [i, runId] of runIds.entries()) {
      const run = followed[i] as Followed;
      await expectComplete(cookie, runId, run.events);
    }
    const cuts = followed.reduce((sum, run) => sum + run.cuts, 0);
    const comments = followed.reduce((sum, run) => sum + run.comments, 0);
    console.info(
      `SSE reconnect (seed ${SEED}): ${cuts} cuts, ${followed.map((run) => `${run.events.length} events over ${run.connections} connections`).join('; ')}, ${comments} heartbeats`,
    );
    expect(cuts).toBeGreaterThanOrEqual(20);
    // The runs took seconds of rendering: heartbeats came between events and did not upset parsing.
    expect(comments).toBeGreaterThan(0);
    // One server-side follower per connection, and every one has stopped once its connection was
    // cut or ended: no subscription outlives its client.
    expect(followers.started - followersBefore).toBe(followed.reduce((sum, run) => sum + run.connections, 0));
    for (let i = 0; followers.active > 0; i++) {
      if (i > 500) throw new Error(`${followers.active} followers still running 5 s after the last cut`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  });

  it('after the end: Last-Event-ID = last (or beyond) replays nothing and closes; 0 replays everything', async () => {
    const cookie = await signUp();
    const runId = await execute(cookie, 'a mountain lake at dawn', 8);
    const all = await connect({ baseUrl: server.url, cookie, runId, lastEventId: undefined });
    expect(all.end).toBe('closed');
    await expectComplete(cookie, runId, all.events);
    const last = all.events.length;

    for (const lastEventId of [last, last + 5]) {
      const none = await connect({ baseUrl: server.url, cookie, runId, lastEventId });
      expect(none).toEqual({ events: [], comments: 0, end: 'closed' });
    }
    const replay = await connect({ baseUrl: server.url, cookie, runId, lastEventId: 0 });
    expect(replay.end).toBe('closed');
    expect(replay.events).toEqual(all.events);
    await expectComplete(cookie, runId, replay.events);
    const tail = await connect({ baseUrl: server.url, cookie, runId, lastEventId: last - 2 });
    expect(tail.events).toEqual(all.events.slice(-2));
  });

  it('transient failures to store events (before or after the commit) leave no gap in the live stream', async () => {
    const faults: InsertFault[] = [undefined, 'fails-before', 'fails-before', undefined];
    faults.push('fails-after-commit', undefined, 'fails-after-commit', 'fails-before');
    const plugin = faultyEventInserts(faults);
    const faulty = await createTestApp({ ...database(), db: database().db.withPlugin(plugin) });
    const faultyServer = await startServer(faulty.services, { port: 0, host: '127.0.0.1' });
    try {
      const response = await fetch(`${faultyServer.url}/api/auth/signup`, {
        method: 'POST',
        headers: { origin: faultyServer.url, 'content-type': 'application/json' },
        body: JSON.stringify({
          email: `sse-${randomInt(2 ** 40)}@example.com`,
          password: 'pw-faulty-inserts',
        }),
      });
      expect(response.status).toBe(201);
      const cookie = sessionCookieOf(response);
      const accepted = await fetch(`${faultyServer.url}/api/workflow/execute`, {
        method: 'POST',
        headers: { origin: faultyServer.url, cookie, 'content-type': 'application/json' },
        body: JSON.stringify({
          graph: shortVideoTemplate({ prompt: 'a desert at noon', durationSeconds: 8 }),
        }),
      });
      expect(accepted.status).toBe(202);
      const { runId } = (await accepted.json()) as { runId: string };
      // One uncut connection; faults start once it is open (its follower subscribed), so every
      // faulted batch is one it hears live: what it misses is what the bus never published.
      const live = await connect({
        baseUrl: faultyServer.url,
        cookie,
        runId,
        lastEventId: undefined,
        onOpen: () => {
          plugin.armed = true;
        },
      });
      expect(live.end).toBe('closed');
      const seqs = live.events.map((event) => event.seq);
      expect(seqs, 'live: gap-free and duplicate-free').toEqual(seqs.map((_, i) => i + 1));
      expect(live.events.at(-1)?.type).toBe('run.completed');
      expect(live.events).toEqual(await storedEvents(runId));
      const replay = await connect({ baseUrl: faultyServer.url, cookie, runId, lastEventId: 0 });
      expect(replay.events).toEqual(live.events);
      // The run outlasted the connection's set-up by far (seconds of rendering): every fault fired.
      expect(plugin.injected).toEqual(faults.filter((fault) => fault !== undefined));
    } finally {
      await faultyServer.close();
      await faulty.services.close();
    }
  });
});

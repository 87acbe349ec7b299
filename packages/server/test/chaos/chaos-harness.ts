/**
 * Chaos for distributed runs: real `vidgenie worker` processes on a real PostgreSQL, the hosted
 * providers (OpenAI text and image, Runway video) on their wire-format fakes, and a seeded
 * schedule of `kill -9` and `SIGSTOP`/`SIGCONT` aimed at workers while they hold runs. Then the
 * invariants: every run completed, no node charged twice, no checkpointed node executed again,
 * every event stream gap-free with one terminal event, no hold left pending, the ledger
 * reconciled; duplicate provider submits are counted.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { shortVideoTemplate } from '@vidgenie/nodes';
import { OPENAI_FAKE_KEY, startOpenAiFake, startRunwayFake } from '@vidgenie/nodes/testing';
import { sql } from 'kysely';
import { seededRandom } from '../support/seeded-random.ts';
import { createTestApp, type TestApp, type TestUser } from '../support/test-app.ts';
import type { TestDatabase } from '../support/test-databases.ts';

/** Options of {@link runChaos}. */
export interface ChaosOptions {
  readonly database: TestDatabase & { readonly url: string };
  readonly seed: number;
  /** `kill -9`s to deliver (each killed worker is replaced at once). */
  readonly kills: number;
  /** Workers frozen with SIGSTOP past their lease, then resumed. */
  readonly freezes: number;
  /** Workers stopped with SIGTERM while they hold runs (graceful shutdown, 1 s grace). */
  readonly terms?: number;
  /** Worker processes alive at any time. */
  readonly workers: number;
  /** Runs kept in flight while the chaos lasts. */
  readonly inFlight: number;
  /** Lease length in seconds (the workers' `VIDGENIE_LEASE_SECONDS`). */
  readonly leaseSeconds?: number;
  /** Called with each line of the chaos log (kills, freezes, takeovers). */
  readonly log?: (line: string) => void;
}

/** What the chaos run found. */
export interface ChaosReport {
  readonly seed: number;
  readonly runs: number;
  readonly completed: number;
  readonly lost: number;
  readonly kills: number;
  /** What the killed workers were doing: the last event type of each run they held. */
  readonly killPhases: Readonly<Record<string, number>>;
  readonly freezes: number;
  readonly terms: number;
  /**
   * For each SIGTERM: seconds from the signal until the worker had exited and no run kept its
   * lease (grace 1 s; a run it still held was given up, not left to lapse).
   */
  readonly termSeconds: readonly number[];
  /** Runs a SIGTERMed worker held whose lease it left to lapse instead of giving it up. */
  readonly leasesLeftToLapse: number;
  /** (hold, node) pairs captured more than once. */
  readonly doubleCaptures: number;
  /** Nodes started again after their completion was checkpointed. */
  readonly reExecutedCheckpointedNodes: number;
  /** Runs whose stored events have a gap, a duplicate or not exactly one terminal event. */
  readonly brokenEventStreams: number;
  /** For each broken stream: the run and its events as `seq:type:nodeId`, to see what went wrong. */
  readonly brokenStreamDetails: readonly { readonly runId: string; readonly events: readonly string[] }[];
  /** Holds still pending for finished runs. */
  readonly leakedHolds: number;
  /** Accounts whose balances disagree with their ledger entries. */
  readonly ledgerDrift: number;
  /** Video jobs submitted to the provider beyond one per run. */
  readonly duplicateVideoSubmits: number;
  /**
   * Of those, jobs never polled: the provider accepted them but their id was never saved (the
   * window between the provider's answer and the checkpoint), so no one looked at them again.
   */
  readonly videoSubmitsInWindow: number;
  /** Jobs polled (their id was saved) yet replaced by another submit: must be 0. */
  readonly savedVideoJobsResubmitted: number;
  /** Enhance and image calls beyond one per run (a node killed before its output was saved). */
  readonly repeatedProviderCalls: number;
  /** Lines the frozen workers logged when they woke up and found their runs taken. */
  readonly zombieRejections: number;
  /** Frozen workers whose runs were taken that logged no rejection after waking: must be 0. */
  readonly silentZombies: number;
  /** Runs frozen workers held that another worker took over while they were frozen. */
  readonly frozenRunsTakenOver: number;
  /** Freezes after which no worker took the frozen runs within 60 s: must be 0. */
  readonly freezeTimeouts: number;
  /**
   * Workers that exited on their own (no signal from the chaos, exit code not 0), with the end of
   * their log: must be none. One crashing at start once left a frozen worker's runs to no one.
   */
  readonly unexpectedExits: readonly {
    readonly pid: number;
    readonly code: number | null;
    readonly log: string;
  }[];
  readonly wallSeconds: number;
}

const here = dirname(fileURLToPath(import.meta.url));
const CLI = join(here, '../../src/cli/main.ts');

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Worker {
  readonly child: ChildProcess;
  readonly logFile: string;
  readonly exited: Promise<void>;
}

/** Runs the chaos and returns what it found; throws only when the setup itself fails. */
export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const started = Date.now();
  const random = seededRandom(options.seed);
  const say = options.log ?? (() => {});
  const leaseSeconds = options.leaseSeconds ?? 2;
  const dataDir = mkdtempSync(join(tmpdir(), 'vidgenie-chaos-'));
  const [openai, runway] = await Promise.all([
    startOpenAiFake({ latencyMs: { 'chat.completions': 150, 'images.generate': 400 } }),
    startRunwayFake({
      apiKey: 'key_chaos',
      jobMs: 1_500,
      latencyMs: { image_to_video: 200, 'tasks.retrieve': 20, output: 150 },
    }),
  ]);
  const env: Record<string, string> = {
    DATABASE_URL: options.database.url,
    VIDGENIE_DATA_DIR: dataDir,
    VIDGENIE_ENCRYPTION_KEYS: `chaos:${randomBytes(32).toString('base64')}`,
    OPENAI_BASE_URL: openai.baseURL,
    RUNWAY_BASE_URL: runway.url,
    VIDGENIE_LEASE_SECONDS: String(leaseSeconds),
    VIDGENIE_VIDEO_POLL_MS: '250',
    VIDGENIE_WORKER_CONCURRENCY: '8',
    VIDGENIE_SHUTDOWN_GRACE_SECONDS: '1',
  };
  let api: TestApp | undefined;
  const workers = new Set<Worker>();
  const unexpectedExits: { pid: number; code: number | null; log: string }[] = [];
  const spawnWorker = (): Worker => {
    const logFile = join(dataDir, `worker-${Date.now()}-${randomBytes(3).toString('hex')}.log`);
    const fd = openSync(logFile, 'a');
    const child = spawn(
      process.execPath,
      ['--conditions=@vidgenie/source', '--import', 'tsx', CLI, 'worker'],
      { env: { ...process.env, ...env, LOG_LEVEL: 'info' }, stdio: ['ignore', fd, fd] },
    );
    closeSync(fd);
    const exited = new Promise<void>((resolve) =>
      child.once('exit', (code, signal) => {
        // The chaos stops workers with signals (SIGKILL, or SIGTERM for a clean exit 0).
        if (signal === null && code !== 0) {
          const log = readFileSync(logFile, 'utf8').split('\n').slice(-12).join('\n');
          unexpectedExits.push({ pid: child.pid ?? 0, code, log });
          say(`worker ${child.pid} exited on its own (code ${code})`);
        }
        resolve();
      }),
    );
    const worker = { child, logFile, exited };
    workers.add(worker);
    void exited.then(() => workers.delete(worker));
    return worker;
  };
  try {
    api = await createTestApp(options.database, {
      env: { ...env, VIDGENIE_RUN_WORKER: 'false', LOG_LEVEL: 'info' },
    });
    const app = api;
    for (let i = 0; i < options.workers; i++) spawnWorker();

    const users: TestUser[] = [];
    for (let i = 0; i < 4; i++) {
      const user = await app.signUp();
      await app.services.ledger.grant({ userId: user.id, amount: 1_000_000, reason: 'chaos' });
      for (const [provider, key] of [
        ['openai', OPENAI_FAKE_KEY],
        ['runway', 'key_chaos'],
      ] as const) {
        const saved = await user.request('PUT', `/api/user/api-keys/${provider}`, { key });
        if (saved.status >= 300) throw new Error(`saving the ${provider} key: ${saved.status}`);
      }
      users.push(user);
    }
    const graph = shortVideoTemplate({
      durationSeconds: 8,
      textProvider: 'openai-text',
      imageProvider: 'openai-image',
      videoProvider: 'runway-video',
    });
    const runIds: string[] = [];
    const submit = async () => {
      const user = users[runIds.length % users.length] as TestUser;
      const response = await user.request('POST', '/api/workflow/execute', {
        graph,
        initialPrompt: `a lighthouse in a storm, take ${runIds.length + 1}`,
      });
      if (response.status !== 202) throw new Error(`execute: ${response.status} ${await response.text()}`);
      runIds.push(((await response.json()) as { runId: string }).runId);
    };
    const unfinished = async () =>
      runIds.length === 0
        ? 0
        : Number(
            (
              await app.services.db
                .selectFrom('runs')
                .select(({ fn }) => fn.countAll<number>().as('n'))
                .where('id', 'in', runIds)
                .where('status', 'in', ['queued', 'running'])
                .executeTakeFirstOrThrow()
            ).n,
          );
    /** The runs a worker process holds now, with the last event of each. */
    const heldBy = async (pid: number | undefined) => {
      const { rows } = await sql<{ id: string; last: string | null }>`
        select r.id, (select e.type || ':' || coalesce(e.payload->>'nodeId', '')
                        from run_events e where e.run_id = r.id order by e.seq desc limit 1) as last
          from runs r
         where r.status = 'running' and r.lease_owner like ${`%:${pid}:%`}
           and r.lease_expires_at > now()`.execute(app.services.db);
      return rows;
    };
    const pickVictim = async () => {
      const alive = [...workers].filter((worker) => worker.child.exitCode === null);
      const holding: { worker: Worker; runs: { id: string; last: string | null }[] }[] = [];
      for (const worker of alive) {
        const runs = await heldBy(worker.child.pid);
        if (runs.length > 0) holding.push({ worker, runs });
      }
      // Prefer a worker in the middle of a video node: the costly, long step.
      const inVideo = holding.filter((h) => h.runs.some((run) => run.last?.endsWith(':video')));
      const pool = inVideo.length > 0 && random() < 0.7 ? inVideo : holding;
      return pool.length === 0 ? undefined : pool[Math.floor(random() * pool.length)];
    };

    const killPhases: Record<string, number> = {};
    let kills = 0;
    let freezes = 0;
    const termSeconds: number[] = [];
    let leasesLeftToLapse = 0;
    let zombieRejections = 0;
    let silentZombies = 0;
    /** Lines in a worker's log saying it found a run taken and stopped writing. */
    const rejectionsIn = (file: string) =>
      readFileSync(file, 'utf8')
        .split('\n')
        .filter((line) =>
          /lease lost|run left to another worker|taken over before it could finish/.test(line),
        ).length;
    const actions = [
      ...Array.from({ length: options.kills }, () => 'kill' as const),
      ...Array.from({ length: options.freezes }, () => 'freeze' as const),
      ...Array.from({ length: options.terms ?? 0 }, () => 'term' as const),
    ].sort(() => random() - 0.5);
    let freezeTimeouts = 0;
    let frozenRunsTakenOver = 0;
    let freezeRetries = 0;
    // A for-of over an array sees what is pushed during the loop: a freeze retried comes last.
    for (const action of actions) {
      while ((await unfinished()) < options.inFlight) await submit();
      await sleep(200 + Math.floor(random() * 1_200));
      let victim = await pickVictim();
      for (let tries = 0; victim === undefined && tries < 100; tries++) {
        await sleep(100);
        victim = await pickVictim();
      }
      if (victim === undefined) throw new Error('no worker took any run for 10 s');
      const pid = victim.worker.child.pid;
      if (action === 'kill') {
        kills++;
        for (const run of victim.runs) {
          const phase = run.last ?? 'before any event';
          killPhases[phase] = (killPhases[phase] ?? 0) + 1;
        }
        say(`kill -9 ${pid} holding ${victim.runs.map((r) => `${r.id} (${r.last})`).join(', ')}`);
        victim.worker.child.kill('SIGKILL');
        await victim.worker.exited;
        spawnWorker();
      } else if (action === 'term') {
        say(`SIGTERM ${pid} holding ${victim.runs.map((r) => r.id).join(', ')}`);
        const signalled = Date.now();
        victim.worker.child.kill('SIGTERM');
        await victim.worker.exited;
        // Its runs are either finished or free (lease given up) at once; none waits for a lapse.
        const left = await app.services.db
          .selectFrom('runs')
          .select(['id', 'status', 'lease_owner'])
          .where(
            'id',
            'in',
            victim.runs.map((run) => run.id),
          )
          .execute();
        leasesLeftToLapse += left.filter(
          (row) => row.lease_owner?.includes(`:${pid}:`) === true && row.status === 'running',
        ).length;
        termSeconds.push(Math.round((Date.now() - signalled) / 100) / 10);
        spawnWorker();
      } else {
        // Freeze only a worker that still holds a running run once stopped (one may end between
        // the pick and the signal: then wake it and pick again).
        victim.worker.child.kill('SIGSTOP');
        const frozenRuns = await app.services.db
          .selectFrom('runs')
          .select(['id', 'lease_epoch'])
          .where(
            'id',
            'in',
            victim.runs.map((run) => run.id),
          )
          .where('status', '=', 'running')
          .where('lease_owner', 'like', `%:${pid}:%`)
          .execute();
        if (frozenRuns.length === 0) {
          victim.worker.child.kill('SIGCONT');
          say(`${pid} finished its runs before the freeze; picking another worker`);
          if (++freezeRetries > 20)
            throw new Error('every worker picked to freeze had just finished its runs');
          actions.push('freeze');
          continue;
        }
        freezes++;
        const linesBefore = rejectionsIn(victim.worker.logFile);
        say(`SIGSTOP ${pid} holding ${frozenRuns.map((r) => r.id).join(', ')}`);
        // Frozen until another worker has taken every run it held (epoch moved), then woken.
        const deadline = Date.now() + 60_000;
        let taken = 0;
        for (;;) {
          const now = await app.services.db
            .selectFrom('runs')
            .select(['id', 'lease_epoch', 'status'])
            .where(
              'id',
              'in',
              frozenRuns.map((row) => row.id),
            )
            .execute();
          const movedOn = now.filter(
            (row) => row.lease_epoch > (frozenRuns.find((e) => e.id === row.id)?.lease_epoch ?? 0),
          );
          taken = movedOn.length;
          if (now.every((row) => row.status !== 'running' || movedOn.includes(row))) break;
          if (Date.now() > deadline) {
            freezeTimeouts++;
            say(`no worker took the runs of frozen ${pid} within 60 s`);
            break;
          }
          await sleep(100);
        }
        frozenRunsTakenOver += taken;
        say(`SIGCONT ${pid} (${taken} of its runs taken over)`);
        victim.worker.child.kill('SIGCONT');
        if (taken > 0) {
          // Woken, it must find its runs taken and say so instead of writing; wait for that line
          // before the next action (a loaded machine may take a while to schedule it again).
          const wokenBy = Date.now() + 20_000;
          while (rejectionsIn(victim.worker.logFile) === linesBefore && Date.now() < wokenBy)
            await sleep(100);
          const said = rejectionsIn(victim.worker.logFile) - linesBefore;
          zombieRejections += said;
          if (said === 0) silentZombies++;
          say(`${pid} woke: ${said} rejection line(s)`);
        }
      }
    }
    // Let everything finish.
    const deadline = Date.now() + 180_000;
    while ((await unfinished()) > 0) {
      if (Date.now() > deadline) break;
      await sleep(200);
    }

    const db = app.services.db;
    const statuses = await db.selectFrom('runs').select(['id', 'status']).where('id', 'in', runIds).execute();
    const completed = statuses.filter((row) => row.status === 'completed').length;
    const doubleCaptures = Number(
      (
        await sql<{ n: number }>`
          select count(*)::integer as n from (
            select hold_id, node_id from ledger_entries where kind = 'capture'
             group by hold_id, node_id having count(*) > 1) d`.execute(db)
      ).rows[0]?.n ?? 0,
    );
    const events = await db
      .selectFrom('run_events')
      .select(['run_id', 'seq', 'type', 'payload'])
      .where('run_id', 'in', runIds)
      .orderBy('run_id')
      .orderBy('seq')
      .execute();
    let reExecuted = 0;
    let broken = 0;
    const brokenStreamDetails: { runId: string; events: string[] }[] = [];
    for (const runId of runIds) {
      const mine = events.filter((event) => event.run_id === runId);
      const gapFree = mine.every((event, i) => event.seq === i + 1);
      const terminals = mine.filter((event) =>
        ['run.completed', 'run.failed', 'run.cancelled'].includes(event.type),
      );
      if (!gapFree || terminals.length !== 1 || mine.at(-1)?.type !== terminals[0]?.type) {
        broken++;
        brokenStreamDetails.push({
          runId,
          events: mine.map((event) => `${event.seq}:${event.type}:${String(event.payload.nodeId ?? '')}`),
        });
      }
      const done = new Set<string>();
      for (const event of mine) {
        const nodeId = String(event.payload.nodeId ?? '');
        if (event.type === 'node.completed') done.add(nodeId);
        if (event.type === 'node.started' && done.has(nodeId)) reExecuted++;
      }
    }
    const leakedHolds = Number(
      (
        await sql<{ n: number }>`
          select count(*)::integer as n from credit_holds h join runs r on r.id = h.run_id
           where h.state = 'pending' and r.status not in ('queued', 'running')`.execute(db)
      ).rows[0]?.n ?? 0,
    );
    const reconciled = await app.services.ledger.reconcile({ userIds: users.map((user) => user.id) });
    const submits = runway.submits;
    const polled = new Set(
      runway.log
        .filter((request) => request.method === 'GET' && request.path.startsWith('/v1/tasks/'))
        .map((request) => request.path.slice('/v1/tasks/'.length)),
    );
    const enhanceCalls = openai.counts.get('chat.completions') ?? 0;
    const imageCalls = openai.counts.get('images.generate') ?? 0;
    return {
      seed: options.seed,
      runs: runIds.length,
      completed,
      lost: runIds.length - completed,
      kills,
      killPhases,
      freezes,
      terms: termSeconds.length,
      termSeconds,
      leasesLeftToLapse,
      doubleCaptures,
      reExecutedCheckpointedNodes: reExecuted,
      brokenEventStreams: broken,
      brokenStreamDetails,
      leakedHolds,
      ledgerDrift: reconciled.drift.length + reconciled.holdDrift.length,
      duplicateVideoSubmits: submits - runIds.length,
      videoSubmitsInWindow: runway.tasks.filter((task) => !polled.has(task.id)).length,
      savedVideoJobsResubmitted: polled.size - runIds.length,
      repeatedProviderCalls: enhanceCalls + imageCalls - 2 * runIds.length,
      zombieRejections,
      silentZombies,
      frozenRunsTakenOver,
      freezeTimeouts,
      unexpectedExits,
      wallSeconds: Math.round((Date.now() - started) / 100) / 10,
    };
  } finally {
    for (const worker of workers) {
      worker.child.kill('SIGCONT');
      worker.child.kill('SIGKILL');
    }
    await Promise.all([...workers].map((worker) => worker.exited));
    await api?.services.close({ graceMs: 1_000 });
    await Promise.all([openai.close(), runway.close()]);
  }
}

/**
 * A stand-in for an external service the host owns: a "render farm" that turns text into an ASCII
 * title card. It lives outside the engine on purpose. Nodes reach it through `ctx.services`, so the
 * engine never needs to know how to talk to it, and tests can hand nodes a fake.
 *
 * Like a real provider, it is asynchronous: `submit` returns a job id at once and `waitFor`
 * resolves when the job is done. That split is what makes durable node state worth having: a node
 * that stored the job id can re-attach to the job after a crash instead of paying for it twice.
 */
import { setTimeout as sleep } from 'node:timers/promises';

/** What to render. */
export interface RenderJob {
  readonly lines: readonly string[];
  readonly width: number;
  readonly border: string;
}

/** Options of {@link RenderFarm.waitFor}. */
export interface WaitOptions {
  /** Stop waiting when the run is cancelled (pass the node's `ctx.signal`). */
  readonly signal: AbortSignal;
  /** Called with a fraction in [0, 1] as the job advances. */
  readonly onProgress?: (fraction: number) => void;
}

/** The service contract nodes depend on (see `requireServices` in `nodes/title-card.ts`). */
export interface RenderFarm {
  /** Queues a job and returns its id without waiting for it. */
  submit(job: RenderJob): Promise<string>;
  /** Waits for a job (submitted by anyone, any time) and returns the rendered card. */
  waitFor(jobId: string, options: WaitOptions): Promise<string>;
}

/** An in-process render farm. It counts submissions so the demo can prove nothing was paid twice. */
export class SimulatedRenderFarm implements RenderFarm {
  readonly #jobs = new Map<string, RenderJob>();

  /** How many jobs were submitted (each one would be billed by a real provider). */
  get submissions(): number {
    return this.#jobs.size;
  }

  async submit(job: RenderJob): Promise<string> {
    const jobId = `job-${this.#jobs.size + 1}`;
    this.#jobs.set(jobId, job);
    return jobId;
  }

  async waitFor(jobId: string, options: WaitOptions): Promise<string> {
    const job = this.#jobs.get(jobId);
    if (job === undefined) throw new Error(`Unknown render job ${jobId}.`);
    // Three short "polls": enough to show progress events, fast enough for the demo to finish in ms.
    for (let step = 1; step <= 3; step++) {
      await sleep(5, undefined, { signal: options.signal });
      options.onProgress?.(step / 3);
    }
    return renderCard(job);
  }
}

/**
 * Wraps a farm so that the first `waitFor` never returns: this is how the demo "kills" a process in
 * the middle of a node. `hung` resolves once a node is stuck, and `wake` lets the frozen call go on,
 * to show what fencing does to a process that was only paused (a long GC pause, a suspended VM).
 */
export function freezeOnFirstWait(farm: RenderFarm): {
  readonly farm: RenderFarm;
  readonly hung: Promise<void>;
  wake(): void;
} {
  let markHung!: () => void;
  const hung = new Promise<void>((resolve) => {
    markHung = resolve;
  });
  let wake!: () => void;
  const woken = new Promise<void>((resolve) => {
    wake = resolve;
  });
  let frozen = false;
  return {
    hung,
    wake: () => wake(),
    farm: {
      submit: (job) => farm.submit(job),
      async waitFor(jobId, options) {
        if (frozen) return farm.waitFor(jobId, options);
        frozen = true;
        options.onProgress?.(0.25);
        markHung();
        await woken;
        return farm.waitFor(jobId, options);
      },
    },
  };
}

/** Draws the card: a border, the lines centred, a blank line above and below. */
export function renderCard(job: RenderJob): string {
  const inner = job.width - 2;
  const edge = job.border.repeat(job.width);
  const row = (text: string) => {
    const clipped = text.length > inner - 2 ? `${text.slice(0, inner - 3)}…` : text;
    const left = Math.floor((inner - clipped.length) / 2);
    return `${job.border}${' '.repeat(left)}${clipped}${' '.repeat(inner - left - clipped.length)}${job.border}`;
  };
  return [edge, row(''), ...job.lines.map(row), row(''), edge].join('\n');
}

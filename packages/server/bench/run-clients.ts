/** What a timed run of concurrent clients measured. */
export interface ClientsResult {
  readonly seconds: number;
  /** Completed units of work (cycles or transactions) after the warm-up. */
  readonly done: number;
  /** Latency of each unit, in milliseconds. */
  readonly latencies: readonly number[];
  /** Units that failed with an expected refusal (e.g. insufficient credits). */
  readonly refused: number;
}

/**
 * Runs `clients` loops of `work(client, iteration)` at once for `seconds` (after `warmupSeconds`
 * not counted), or until every loop returns `'stop'`. `work` returns `'refused'` for an expected
 * refusal, which is counted but not timed. Any thrown error aborts the run.
 */
export async function runClients(args: {
  readonly clients: number;
  readonly seconds: number;
  readonly warmupSeconds?: number;
  readonly work: (client: number, iteration: number) => Promise<'ok' | 'refused' | 'stop'>;
}): Promise<ClientsResult> {
  const warmupMs = (args.warmupSeconds ?? 0) * 1000;
  const start = performance.now();
  const measureFrom = start + warmupMs;
  const end = measureFrom + args.seconds * 1000;
  const latencies: number[] = [];
  let done = 0;
  let refused = 0;
  await Promise.all(
    Array.from({ length: args.clients }, async (_, client) => {
      for (let iteration = 0; performance.now() < end; iteration++) {
        const began = performance.now();
        const outcome = await args.work(client, iteration);
        if (outcome === 'stop') return;
        if (began < measureFrom) continue;
        if (outcome === 'refused') refused += 1;
        else {
          done += 1;
          latencies.push(performance.now() - began);
        }
      }
    }),
  );
  const measured = (Math.min(performance.now(), end) - Math.min(measureFrom, performance.now())) / 1000;
  return { seconds: Math.max(measured, 1e-3), done, latencies, refused };
}

/** The `p`-th percentile (0–100) of `values`, in the same unit. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] ?? Number.NaN;
}

/**
 * The hosted providers for the runs bench, in a process of their own (they stand for remote
 * services: their CPU must not be counted in the measured server's event loop): OpenAI (text and
 * image) and Runway (video) wire-format fakes from `@vidgenie/nodes/testing`, with the latencies
 * given, each drawn around its figure (log-normal, same mean) when `spread` is above 0. Started by `runs.bench.ts` with one JSON argument ({@link ProviderFakesOptions}); prints
 * one JSON line with the URLs ({@link ProviderFakesReady}), then serves until SIGTERM.
 */
import { startOpenAiFake, startRunwayFake } from '@vidgenie/nodes/testing';
import { seededRandom } from '../test/support/seeded-random.ts';

/** The child's argument. */
export interface ProviderFakesOptions {
  /** The OpenAI keys accepted (one per bench user, as real users each have their own). */
  readonly openaiKeys: readonly string[];
  readonly runwayKey: string;
  /** Response times in ms. */
  readonly enhanceMs: number;
  readonly imageMs: number;
  readonly submitMs: number;
  readonly jobMs: number;
  readonly pollMs: number;
  readonly downloadMs: number;
  /** The served clip's size relative to 720x1280. */
  readonly clipScale: number;
  /**
   * σ of each response and job time's log-normal draw around its figure (its mean is kept): real
   * services answer in a spread of times, not all at once. 0: every time exactly its figure.
   */
  readonly spread: number;
  /** The draws' seed. */
  readonly seed: number;
}

/**
 * A draw around `mean` ms: `mean × e^(σz − σ²/2)`, z standard normal (Box–Muller), so the draws'
 * mean is `mean`; σ = 0 gives `mean`.
 */
export function spreadAround(random: () => number, sigma: number): (mean: number) => number {
  return (mean) => {
    if (sigma === 0 || mean === 0) return mean;
    const z = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
    return Math.round(mean * Math.exp(sigma * z - (sigma * sigma) / 2));
  };
}

/** The line the child prints once listening. */
export interface ProviderFakesReady {
  readonly openaiBaseURL: string;
  readonly runwayURL: string;
}

/** The child's entry point (only when run as a script). */
async function main(): Promise<void> {
  const options = JSON.parse(process.argv[2] ?? '{}') as ProviderFakesOptions;
  const around = spreadAround(seededRandom(options.seed), options.spread);
  const latencies = (means: Readonly<Record<string, number>>) => (route: string) => around(means[route] ?? 0);
  const [openai, runway] = await Promise.all([
    startOpenAiFake({
      validKeys: options.openaiKeys,
      latencyMs: latencies({ 'chat.completions': options.enhanceMs, 'images.generate': options.imageMs }),
    }),
    startRunwayFake({
      apiKey: options.runwayKey,
      jobMs: () => around(options.jobMs),
      clip: { scale: options.clipScale },
      latencyMs: latencies({
        image_to_video: options.submitMs,
        'tasks.retrieve': options.pollMs,
        output: options.downloadMs,
      }),
    }),
  ]);
  const ready: ProviderFakesReady = { openaiBaseURL: openai.baseURL, runwayURL: runway.url };
  console.log(JSON.stringify(ready));
  const stop = () => {
    Promise.all([openai.close(), runway.close()]).finally(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

if (process.argv[1]?.endsWith('provider-fakes.ts')) await main();

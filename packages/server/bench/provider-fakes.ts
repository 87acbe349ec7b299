/**
 * The hosted providers for the runs bench, in a process of their own (they stand for remote
 * services: their CPU must not be counted in the measured server's event loop): OpenAI (text and
 * image) and Runway (video) wire-format fakes from `@vidgenie/nodes/testing`, with the latencies
 * given. Started by `runs.bench.ts` with one JSON argument ({@link ProviderFakesOptions}); prints
 * one JSON line with the URLs ({@link ProviderFakesReady}), then serves until SIGTERM.
 */
import { startOpenAiFake, startRunwayFake } from '@vidgenie/nodes/testing';

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
}

/** The line the child prints once listening. */
export interface ProviderFakesReady {
  readonly openaiBaseURL: string;
  readonly runwayURL: string;
}

/** The child's entry point (only when run as a script). */
async function main(): Promise<void> {
  const options = JSON.parse(process.argv[2] ?? '{}') as ProviderFakesOptions;
  const [openai, runway] = await Promise.all([
    startOpenAiFake({
      validKeys: options.openaiKeys,
      latencyMs: { 'chat.completions': options.enhanceMs, 'images.generate': options.imageMs },
    }),
    startRunwayFake({
      apiKey: options.runwayKey,
      jobMs: options.jobMs,
      clip: { scale: options.clipScale },
      latencyMs: {
        image_to_video: options.submitMs,
        'tasks.retrieve': options.pollMs,
        output: options.downloadMs,
      },
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

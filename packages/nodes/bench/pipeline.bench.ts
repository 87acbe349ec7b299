/**
 * The short-video pipeline's speed, in one process launch:
 * - the local Ken Burns renderer's seconds of work per second of 720x1280 video (8 s and 15 s);
 * - the template end to end with the local providers: wall time, the time spent inside node
 *   bodies, and the engine's share of the wall time (scheduling, checkpoints, events, storage);
 * - the template end to end with the hosted providers (OpenAI, Stability, Runway, Veo) on their
 *   fakes, whose response times are real ones scaled down (see `hosted-fakes.ts`), and the
 *   engine's share of that wall time.
 * Prints figures only; it asserts no timing. `BENCH_ROUNDS` (default 3) sets the repetitions,
 * `BENCH_FAKE_SCALE` (default 20) the divisor of the real latencies.
 */
import { rm } from 'node:fs/promises';
import { loadavg } from 'node:os';
import {
  createFfmpegMediaTools,
  createProviderRegistry,
  localProviders,
  shortVideoTemplate,
} from '@vidgenie/nodes';
import { benchTemplateWithFakes, describeFakesFigures } from './hosted-fakes.ts';
import { engineShare, measureRun, median } from './measure-run.ts';

const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const fakeScale = Number(process.env.BENCH_FAKE_SCALE ?? 20);
if (!(fakeScale >= 1))
  throw new Error(`BENCH_FAKE_SCALE must be a number >= 1; got "${process.env.BENCH_FAKE_SCALE}".`);
const providers = createProviderRegistry(localProviders());
const media = createFfmpegMediaTools();

async function renderSecondsPerSecond(durationSeconds: 8 | 15): Promise<number> {
  const image = await providers
    .get('image', 'local-image')
    .generate(
      { prompt: 'a red fox in the snow at dawn', size: 'medium', aspectRatio: '9:16' },
      { config: {}, apiKey: undefined, signal: new AbortController().signal, progress: () => {} },
    );
  const video = providers.get('video', 'local-video');
  let stored: unknown;
  const started = performance.now();
  const result = await video.generate(
    {
      prompt: '',
      image,
      durationSeconds,
      motion: 'medium',
      aspectRatio: '9:16',
      state: {
        get: () => stored,
        set: async (value) => {
          stored = value;
        },
      },
    },
    { config: {}, apiKey: undefined, signal: new AbortController().signal, progress: () => {} },
  );
  const seconds = (performance.now() - started) / 1000;
  await rm(result.path, { force: true });
  return seconds / durationSeconds;
}

const pipeline = () =>
  measureRun({ providers, media, graph: shortVideoTemplate({ prompt: 'a red fox in the snow at dawn' }) });

console.log(
  `pipeline bench: ${rounds} rounds; node ${process.version}; load average ${loadavg()[0]!.toFixed(2)}`,
);
const eight: number[] = [];
const fifteen: number[] = [];
const walls: number[] = [];
const shares: number[] = [];
await pipeline(); // warm-up
for (let round = 0; round < rounds; round++) {
  eight.push(await renderSecondsPerSecond(8));
  fifteen.push(await renderSecondsPerSecond(15));
  const timing = await pipeline();
  walls.push(timing.wall);
  shares.push(engineShare(timing));
}
console.log(
  `local renderer, 720x1280: ${median(eight).toFixed(3)} s per video second (8 s), ${median(fifteen).toFixed(3)} (15 s)`,
);
console.log(`template end to end (local providers, 8 s video): ${(median(walls) / 1000).toFixed(2)} s wall`);
console.log(
  `engine share of wall time: ${(median(shares) * 100).toFixed(2)}% (outside node bodies: scheduling, checkpoints, events)`,
);
const withFakes = await benchTemplateWithFakes({ scale: fakeScale, rounds, media });
for (const line of describeFakesFigures(fakeScale, withFakes)) console.log(line);

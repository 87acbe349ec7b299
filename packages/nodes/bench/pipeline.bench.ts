/**
 * The short-video pipeline's speed, in one process launch:
 * - the local Ken Burns renderer's seconds of work per second of 720x1280 video (8 s and 15 s);
 * - the template end to end with the local providers: wall time, the time spent inside node
 *   bodies, and the engine's share of the wall time (scheduling, checkpoints, events, storage).
 * Prints figures only; it asserts no timing. `BENCH_ROUNDS` (default 3) sets the repetitions.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEngine, type RunEvent } from '@vidgenie/engine';
import {
  createFfmpegMediaTools,
  createFsBlobStore,
  createProviderRegistry,
  createShortVideoRegistry,
  localProviders,
  shortVideoTemplate,
} from '@vidgenie/nodes';

const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
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

async function pipeline(): Promise<{ wall: number; inNodes: number }> {
  const root = await mkdtemp(join(tmpdir(), 'vidgenie-bench-'));
  try {
    const engine = createEngine({
      registry: createShortVideoRegistry({ providers }),
      services: { blobs: createFsBlobStore({ root }), media },
    });
    let inNodes = 0;
    const onEvent = (event: RunEvent) => {
      if (event.type === 'node.completed') inNodes += event.durationMs;
    };
    const started = performance.now();
    const outcome = await engine.run(shortVideoTemplate({ prompt: 'a red fox in the snow at dawn' }), {
      onEvent,
    });
    const wall = performance.now() - started;
    if (outcome.status !== 'completed') throw new Error(`the pipeline did not complete: ${outcome.status}`);
    return { wall, inNodes };
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

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
  const { wall, inNodes } = await pipeline();
  walls.push(wall);
  shares.push(Math.max(0, wall - inNodes) / wall);
}
console.log(
  `local renderer, 720x1280: ${median(eight).toFixed(3)} s per video second (8 s), ${median(fifteen).toFixed(3)} (15 s)`,
);
console.log(`template end to end (local providers, 8 s video): ${(median(walls) / 1000).toFixed(2)} s wall`);
console.log(
  `engine share of wall time: ${(median(shares) * 100).toFixed(2)}% (outside node bodies: scheduling, checkpoints, events)`,
);

/**
 * The short-video template end to end with the hosted providers (OpenAI, Stability, Runway, Veo)
 * pointed at the wire-format fakes of `@vidgenie/nodes/testing` through their base-URL options.
 * The fakes take the real services' typical response times divided by `scale`, and the video
 * providers poll on their real schedules divided by the same factor, so the run has the shape of
 * a real one in a fraction of its time. What the wall time holds beyond the node bodies is the
 * engine's.
 */
import {
  createOpenAiImageProvider,
  createOpenAiTextProvider,
  createProviderRegistry,
  createRunwayVideoProvider,
  createStabilityImageProvider,
  createVeoVideoProvider,
  localProviders,
  type MediaTools,
  shortVideoTemplate,
} from '@vidgenie/nodes';
import {
  OPENAI_FAKE_KEY,
  startGeminiFake,
  startOpenAiFake,
  startRunwayFake,
  startStabilityFake,
} from '@vidgenie/nodes/testing';
import { engineShare, measureRun, median, type RunTiming } from './measure-run.ts';

/**
 * Typical response times of the hosted services, in ms: round figures from using them, not
 * measured here.
 */
export const REAL_MS = {
  /** An OpenAI chat completion of the enhanced prompt (about 150 words). */
  enhance: 2_000,
  /** One picture from gpt-image or Stable Image Core. */
  image: 10_000,
  /** Starting a video job (the first frame goes up inline). */
  submit: 1_000,
  /** An 8 s clip, from submit to done. */
  job: 60_000,
  /** One status request while the job runs. */
  poll: 300,
  /** Fetching the finished MP4. */
  download: 2_000,
} as const;

/** The providers' real poll schedules, in ms: the first wait, growing ×1.5 up to the longest. */
const POLLS = {
  runway: { first: 5_000, longest: 15_000 },
  veo: { first: 5_000, longest: 10_000 },
} as const;
/** What a clip usually takes, for the providers' progress estimate (their default). */
const EXPECTED_CLIP_MS = 90_000;

const KEYS = {
  openai: OPENAI_FAKE_KEY,
  stability: 'sk-stability-bench',
  runway: 'key_bench',
  gemini: 'AIza-bench-key',
} as const;

/** The provider combinations run: between them every hosted provider. */
const COMBOS = [
  { label: 'OpenAI text → OpenAI image → Runway video', image: 'openai-image', video: 'runway-video' },
  { label: 'OpenAI text → Stability image → Veo video', image: 'stability-image', video: 'veo-video' },
] as const;

/** One combination's median figures. */
export interface FakesFigures {
  readonly label: string;
  /** Median wall time, ms. */
  readonly wall: number;
  /** Median time outside node bodies, ms. */
  readonly engine: number;
  /** Median engine share of the wall time, in [0, 1]. */
  readonly share: number;
  /** Status polls of the video job per run (median). */
  readonly polls: number;
}

/** The least time a run can take on these fakes: the scaled response times one after another, ms. */
export const latencyFloorMs = (scale: number): number =>
  (REAL_MS.enhance + REAL_MS.image + REAL_MS.submit + REAL_MS.job + REAL_MS.download) / scale;

/**
 * Starts the four fakes with latencies `REAL_MS / scale`, runs each combination once to warm up
 * and then `rounds` times, and returns the median figures per combination.
 */
export async function benchTemplateWithFakes(args: {
  readonly scale: number;
  readonly rounds: number;
  readonly media: MediaTools;
}): Promise<FakesFigures[]> {
  const { scale, rounds, media } = args;
  const ms = (real: number) => Math.round(real / scale);
  const clip = { scale: 1 }; // 720x1280, as the real services make them
  const [openai, stability, runway, gemini] = await Promise.all([
    startOpenAiFake({
      validKeys: [KEYS.openai],
      latencyMs: { 'chat.completions': ms(REAL_MS.enhance), 'images.generate': ms(REAL_MS.image) },
    }),
    startStabilityFake({ apiKey: KEYS.stability, latencyMs: { generate: ms(REAL_MS.image) } }),
    startRunwayFake({
      apiKey: KEYS.runway,
      jobMs: ms(REAL_MS.job),
      clip,
      latencyMs: {
        image_to_video: ms(REAL_MS.submit),
        'tasks.retrieve': ms(REAL_MS.poll),
        output: ms(REAL_MS.download),
      },
    }),
    startGeminiFake({
      apiKey: KEYS.gemini,
      jobMs: ms(REAL_MS.job),
      clip,
      latencyMs: {
        predictLongRunning: ms(REAL_MS.submit),
        'operations.get': ms(REAL_MS.poll),
        'files.download': ms(REAL_MS.download),
      },
    }),
  ]);
  try {
    const providers = createProviderRegistry([
      ...localProviders(),
      createOpenAiTextProvider({ baseURL: openai.baseURL }),
      createOpenAiImageProvider({ baseURL: openai.baseURL }),
      createStabilityImageProvider({ baseUrl: stability.url }),
      createRunwayVideoProvider({
        baseURL: runway.url,
        pollIntervalMs: ms(POLLS.runway.first),
        maxPollIntervalMs: ms(POLLS.runway.longest),
        expectedClipMs: ms(EXPECTED_CLIP_MS),
        media,
      }),
      createVeoVideoProvider({
        baseUrl: gemini.url,
        pollIntervalMs: ms(POLLS.veo.first),
        maxPollIntervalMs: ms(POLLS.veo.longest),
        expectedClipMs: ms(EXPECTED_CLIP_MS),
        media,
      }),
    ]);
    const polls = () =>
      (runway.counts.get('tasks.retrieve') ?? 0) + (gemini.counts.get('operations.get') ?? 0);
    const figures: FakesFigures[] = [];
    for (const combo of COMBOS) {
      const graph = shortVideoTemplate({
        prompt: 'a red fox in the snow at dawn',
        textProvider: 'openai-text',
        imageProvider: combo.image,
        videoProvider: combo.video,
      });
      const once = async () => {
        const before = polls();
        const timing = await measureRun({ providers, graph, media, keys: KEYS });
        return { timing, polls: polls() - before };
      };
      await once(); // warm-up: SDKs loaded, the fakes' clip rendered
      const runs: { timing: RunTiming; polls: number }[] = [];
      for (let round = 0; round < rounds; round++) runs.push(await once());
      figures.push({
        label: combo.label,
        wall: median(runs.map((r) => r.timing.wall)),
        engine: median(runs.map((r) => Math.max(0, r.timing.wall - r.timing.inNodes))),
        share: median(runs.map((r) => engineShare(r.timing))),
        polls: median(runs.map((r) => r.polls)),
      });
    }
    return figures;
  } finally {
    await Promise.all([openai.close(), stability.close(), runway.close(), gemini.close()]);
  }
}

/** The printout's lines for {@link benchTemplateWithFakes}'s figures. */
export function describeFakesFigures(scale: number, figures: readonly FakesFigures[]): string[] {
  const s = (ms: number) => `${ms / 1000} s`;
  return [
    `template end to end, hosted providers on fakes with real latencies scaled 1/${scale}:`,
    `  real figures: enhance ${s(REAL_MS.enhance)}, image ${s(REAL_MS.image)}, video submit ${s(REAL_MS.submit)} + job ${s(REAL_MS.job)} + download ${s(REAL_MS.download)}, status polls ${s(REAL_MS.poll)} each every ${s(POLLS.runway.first)} growing to ${s(POLLS.runway.longest)} (Runway) / ${s(POLLS.veo.longest)} (Veo)`,
    `  scaled latencies alone: ${(latencyFloorMs(scale) / 1000).toFixed(2)} s a run`,
    ...figures.map(
      (f) =>
        `  ${f.label}: ${(f.wall / 1000).toFixed(2)} s wall, ${f.polls} polls; engine ${f.engine.toFixed(0)} ms = ${(f.share * 100).toFixed(2)}% of wall time`,
    ),
  ];
}

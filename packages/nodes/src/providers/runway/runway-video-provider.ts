import RunwayML, { AuthenticationError, NotFoundError } from '@runwayml/sdk';
import type { ImageToVideoCreateParams, TaskRetrieveResponse } from '@runwayml/sdk/resources';
import { NonRetryableError } from '@vidgenie/engine';
import { z } from 'zod';
import { createFfmpegMediaTools } from '../../media/ffmpeg-media-tools.ts';
import type { MediaTools } from '../../media/media-tools.ts';
import { planSegments, renderChained } from '../../media/video-chain.ts';
import { defineProvider } from '../../provider/define-provider.ts';
import { CREDIT_PRICES } from '../../provider/pricing.ts';
import {
  type ProviderIdentity,
  ProviderUnavailableError,
  providerError,
} from '../../provider/provider-errors.ts';
import type { AspectRatio, VideoProvider } from '../../provider/provider-types.ts';
import { DownloadError, downloadToFile } from '../poll/download-file.ts';
import { imageDataUri } from '../poll/image-input.ts';
import {
  abortWantsCancel,
  clipPrompt,
  MOTION_HINTS,
  settleWithin,
  withWorkFolder,
} from '../poll/job-helpers.ts';
import { pollJob } from '../poll/poll-job.ts';
import { isTransientRunwayError, mapRunwayError, mapRunwayFailure } from './runway-errors.ts';

/** The model used when the config names none: Gen-4 Turbo, Runway's image-to-video workhorse. */
export const RUNWAY_DEFAULT_MODEL = 'gen4_turbo';
/** Runway's API origin (the SDK's default). */
const RUNWAY_BASE_URL = 'https://api.dev.runwayml.com';
/** Clip lengths Gen-4 Turbo and Gen-4.5 accept: whole seconds from 2 to 10. */
const CLIP_SECONDS: readonly number[] = [2, 3, 4, 5, 6, 7, 8, 9, 10];
/** Runway's `ratio` (which is the output size) per aspect ratio, for the Gen-4 family. */
const RATIOS: Readonly<Record<AspectRatio, { readonly ratio: string; readonly size: string }>> = {
  '9:16': { ratio: '720:1280', size: '720x1280' },
  '16:9': { ratio: '1280:720', size: '1280x720' },
  '1:1': { ratio: '960:960', size: '960x960' },
};
/** Runway's limit on an encoded data URI: under 5 MiB. */
const MAX_DATA_URI_CHARS = 5 * 1024 * 1024 - 1;
/** Runway's limit on `promptText`, in UTF-16 code units. */
const MAX_PROMPT_CHARS = 1000;

const IDENTITY: ProviderIdentity = { id: 'runway-video', displayName: 'Runway', keyLabel: 'Runway key' };

/** The provider's durable state: the task id of each clip started, in order. */
const RunwayState = z.object({ taskIds: z.array(z.string().min(1)) });
type RunwayState = z.infer<typeof RunwayState>;

/** The config of the Runway provider (the `options` of a video node using it). */
export const RunwayVideoConfig = z.object({
  /** The image-to-video model: `gen4_turbo` (default) or `gen4.5`; other Runway models may need other ratios. */
  model: z.string().min(1).default(RUNWAY_DEFAULT_MODEL),
  /** A fixed seed, for repeatable results; random when absent. */
  seed: z.number().int().min(0).max(4_294_967_295).optional(),
});

/** Options of {@link createRunwayVideoProvider}: endpoints and timings (tests shorten them). */
export interface RunwayVideoProviderOptions {
  /** The API's base URL, without `/v1`. Default `https://api.dev.runwayml.com`. */
  readonly baseURL?: string | undefined;
  /** The first wait between polls of a task, in ms; it grows ×1.5 up to `maxPollIntervalMs`. Default 5 000 (Runway asks for no more than one poll per 5 s). */
  readonly pollIntervalMs?: number | undefined;
  /** The longest wait between polls, in ms. Default 15 000. */
  readonly maxPollIntervalMs?: number | undefined;
  /** How long one clip may take before the attempt fails with a retryable timeout, in ms. Default 20 min. */
  readonly pollDeadlineMs?: number | undefined;
  /** How long a clip usually takes, in ms, for progress while Runway gives none. Default 90 000. */
  readonly expectedClipMs?: number | undefined;
  /** Each API request's time limit, in ms. Default 60 000. */
  readonly requestTimeoutMs?: number | undefined;
  /** The output download's time limit, in ms. Default 5 min. */
  readonly downloadTimeoutMs?: number | undefined;
  /** The largest output accepted, in bytes. Default 1 GiB. */
  readonly maxDownloadBytes?: number | undefined;
  /** How long an abort waits for Runway to cancel the task, in ms. Default 5 000. */
  readonly cancelTimeoutMs?: number | undefined;
  /** Make videos longer than 10 s by chaining clips (each from the last frame of the one before). Default true. */
  readonly chainClips?: boolean | undefined;
  /** Probes the result (default: ffmpeg). */
  readonly media?: MediaTools | undefined;
  /** Where working folders go. Default the OS temp dir. */
  readonly tempDir?: string | undefined;
}

type Outcome = { readonly kind: 'succeeded'; readonly url: string } | { readonly kind: 'gone' };

/**
 * Runway image-to-video (Gen-4 Turbo by default) through the official `@runwayml/sdk`.
 *
 * `generate` sends the first frame as a data URI (re-encoded as JPEG when over Runway's 5 MiB
 * limit) to `POST /v1/image_to_video`, stores the task id with `request.state.set` **before**
 * polling `GET /v1/tasks/{id}` (so a resumed run polls the task it already paid for), reports
 * Runway's own progress, downloads the output at once (signed URLs expire) and returns a local MP4
 * with its probed duration and size. Videos longer than Runway's 10 s clips are chained: each clip
 * starts from the previous one's last frame, and ffmpeg joins them.
 *
 * On abort the running task is cancelled (`DELETE /v1/tasks/{id}`) unless the abort is an
 * attempt timeout or a stale fence (the job is then polled again). Errors map onto provider
 * failures (`invalid_key`, `rate_limited` with Retry-After, `content_rejected` for SAFETY
 * failures…), with the key scrubbed from every message.
 *
 * @example
 * ```ts
 * import { createProviderRegistry, createRunwayVideoProvider, localProviders } from '@vidgenie/nodes';
 * const providers = createProviderRegistry([...localProviders(), createRunwayVideoProvider()]);
 * ```
 */
export function createRunwayVideoProvider(
  options: RunwayVideoProviderOptions = {},
): VideoProvider<typeof RunwayVideoConfig> {
  const media = options.media ?? createFfmpegMediaTools();
  const chain = options.chainClips ?? true;
  const pollInterval = options.pollIntervalMs ?? 5_000;
  const clientFor = (apiKey: string) =>
    new RunwayML({
      apiKey,
      // Explicit, so that a RUNWAYML_BASE_URL in the environment cannot send keys elsewhere.
      baseURL: options.baseURL ?? RUNWAY_BASE_URL,
      // Creating a task is not idempotent: a retried POST could pay twice. The engine retries.
      maxRetries: 0,
      timeout: options.requestTimeoutMs ?? 60_000,
    });

  return defineProvider({
    id: IDENTITY.id,
    displayName: IDENTITY.displayName,
    kind: 'video',
    local: false,
    key: { secret: 'runway', label: 'Runway key' },
    config: RunwayVideoConfig,
    capabilities: {
      durations: chain ? [8, 15, 30, 60] : [8],
      aspectRatios: ['9:16', '16:9', '1:1'],
      resolutions: Object.values(RATIOS).map((r) => r.size),
      // Chaining here (with Runway's own clip lengths) makes up to 60 s per call; the video node's
      // generic chaining is then not needed.
      maxClipSeconds: chain ? 60 : CLIP_SECONDS.at(-1)!,
    },
    price: ({ durationSeconds }) => CREDIT_PRICES.video[durationSeconds],

    async validateKey(key, { signal }) {
      if (key.trim() === '') return { valid: false, reason: 'The key is empty.' };
      try {
        await clientFor(key).organization.retrieve({ signal });
        return { valid: true };
      } catch (error) {
        if (error instanceof AuthenticationError) {
          const hint = /^key_[0-9a-f]{128}$/.test(key.trim()) ? '' : ' Runway keys start with "key_".';
          return { valid: false, reason: `Runway rejected this key.${hint}` };
        }
        signal.throwIfAborted();
        throw mapRunwayError(error, IDENTITY, key);
      }
    },

    async generate(request, ctx) {
      const { signal, apiKey, config } = ctx;
      signal.throwIfAborted();
      if (apiKey === undefined || apiKey === '') {
        throw new NonRetryableError('Add your Runway key in Settings to use Runway.');
      }
      const plan = planSegments(request.durationSeconds, CLIP_SECONDS);
      if (plan.length > 1 && !chain) {
        throw new NonRetryableError(
          `Runway makes clips of up to 10 s; ${request.durationSeconds} s videos are not supported yet.`,
        );
      }
      const client = clientFor(apiKey);
      const { ratio } = RATIOS[request.aspectRatio];
      const promptText = clipPrompt(
        `${request.prompt.trim()} ${MOTION_HINTS[request.motion]}`.trim(),
        MAX_PROMPT_CHARS,
      );
      const stored = RunwayState.safeParse(request.state.get());
      let taskIds: string[] = stored.success ? [...stored.data.taskIds] : [];
      /** The task being waited on, to cancel on abort. */
      let running: string | undefined;

      /** Errors of the durable state (a stale fence…) are the engine's: they pass through unmapped. */
      const stateErrors = new WeakSet<object>();
      const saveState = async (next: string[]) => {
        taskIds = next;
        try {
          await request.state.set({ taskIds: next } satisfies RunwayState);
        } catch (error) {
          if (typeof error === 'object' && error !== null) stateErrors.add(error);
          throw error;
        }
      };
      const cancel = async (taskId: string) => {
        await settleWithin(
          client.tasks.delete(taskId, { maxRetries: 0, timeout: options.cancelTimeoutMs ?? 5_000 }),
          options.cancelTimeoutMs ?? 5_000,
        );
      };

      /** Polls a task until it succeeds (its output URL), is gone (cancelled or deleted) or fails (thrown). */
      const waitFor = async (
        taskId: string,
        index: number,
        progress: (f: number, m?: string) => void,
        fresh: boolean,
      ) => {
        running = taskId;
        const outcome = await pollJob<
          Outcome | { readonly kind: 'failed'; readonly task: TaskRetrieveResponse.Failed }
        >(
          async (pollSignal) => {
            let task: TaskRetrieveResponse;
            try {
              task = await client.tasks.retrieve(taskId, { signal: pollSignal, maxRetries: 0 });
            } catch (error) {
              if (error instanceof NotFoundError) return { done: true, value: { kind: 'gone' } };
              throw error;
            }
            switch (task.status) {
              case 'SUCCEEDED': {
                const url = task.output?.[0];
                if (typeof url !== 'string') {
                  throw providerError({
                    provider: IDENTITY,
                    failure: 'malformed_response',
                    reason: 'no output URL',
                  });
                }
                return { done: true, value: { kind: 'succeeded', url } };
              }
              case 'FAILED':
                return { done: true, value: { kind: 'failed', task } };
              case 'CANCELLED':
                return { done: true, value: { kind: 'gone' } };
              case 'RUNNING':
                return {
                  done: false,
                  ...(typeof task.progress === 'number' ? { progress: task.progress } : {}),
                  message: 'Generating with Runway',
                };
              default:
                return { done: false, message: 'Waiting in Runway’s queue' };
            }
          },
          {
            signal,
            onProgress: progress,
            // A task just created is not done: wait before the first look (Runway asks for ≥ 5 s between polls).
            initialWait: fresh,
            initialDelayMs: pollInterval,
            maxDelayMs: options.maxPollIntervalMs ?? Math.max(pollInterval, 15_000),
            deadlineMs: options.pollDeadlineMs ?? 20 * 60_000,
            expectedMs: options.expectedClipMs ?? 90_000,
            isTransient: isTransientRunwayError,
          },
        );
        running = undefined;
        if (outcome.kind !== 'failed') return outcome;
        const error = mapRunwayFailure(outcome.task, IDENTITY, apiKey);
        // A retry must start a new task, not poll this failed one again.
        if (error instanceof ProviderUnavailableError) await saveState(taskIds.slice(0, index));
        throw error;
      };

      try {
        const result = await withWorkFolder(options.tempDir, (folder) =>
          renderChained({
            plan,
            totalSeconds: request.durationSeconds,
            image: request.image,
            folder,
            output: `${folder}.mp4`,
            signal,
            media,
            progress: (fraction, message) => ctx.progress(fraction, message),
            async renderClip(job) {
              let outcome: Outcome | undefined;
              const known = taskIds[job.index];
              if (known !== undefined) {
                job.progress(0, 'Resuming the Runway task');
                outcome = await waitFor(known, job.index, job.progress, false);
              }
              if (outcome?.kind !== 'succeeded') {
                job.progress(0, 'Sending to Runway');
                const promptImage = await imageDataUri({
                  image: job.image,
                  maxChars: MAX_DATA_URI_CHARS,
                  folder,
                  signal,
                });
                if (promptImage === undefined) {
                  throw providerError({
                    provider: IDENTITY,
                    failure: 'bad_request',
                    reason: 'the image is too large to send (5 MB at most)',
                  });
                }
                const created = await client.imageToVideo.create(
                  {
                    model: config.model,
                    promptImage,
                    ...(promptText === '' ? {} : { promptText }),
                    ratio,
                    duration: job.seconds,
                    ...(config.seed === undefined ? {} : { seed: config.seed }),
                  } as ImageToVideoCreateParams,
                  { signal },
                );
                if (typeof created?.id !== 'string' || created.id === '') {
                  throw providerError({
                    provider: IDENTITY,
                    failure: 'malformed_response',
                    reason: 'no task id',
                  });
                }
                running = created.id;
                try {
                  // Durable before polling: a resumed run polls this task instead of paying again.
                  await saveState([...taskIds.slice(0, job.index), created.id]);
                } catch (error) {
                  // Nobody could find this task again: cancel it rather than pay for an orphan.
                  running = undefined;
                  await cancel(created.id);
                  throw error;
                }
                outcome = await waitFor(created.id, job.index, job.progress, true);
                if (outcome.kind === 'gone') {
                  await saveState(taskIds.slice(0, job.index));
                  throw providerError({
                    provider: IDENTITY,
                    failure: 'unavailable',
                    reason: 'the task was cancelled or deleted on Runway',
                  });
                }
              }
              job.progress(0.99, 'Downloading the clip');
              await download(outcome.url, job.output, signal);
            },
          }),
        );
        ctx.progress(1);
        return result;
      } catch (error) {
        if (signal.aborted) {
          if (running !== undefined && abortWantsCancel(signal.reason)) await cancel(running);
          throw signal.reason;
        }
        if (typeof error === 'object' && error !== null && stateErrors.has(error)) throw error;
        throw mapRunwayError(error, IDENTITY, apiKey);
      }
    },
  });

  async function download(url: string, path: string, signal: AbortSignal): Promise<void> {
    try {
      // Runway's output URLs are signed: no key is sent.
      await downloadToFile({
        url,
        path,
        signal,
        timeoutMs: options.downloadTimeoutMs,
        maxBytes: options.maxDownloadBytes,
      });
    } catch (error) {
      if (!(error instanceof DownloadError)) throw error;
      if (error.failure === 'too_large') {
        throw providerError({
          provider: IDENTITY,
          failure: 'bad_request',
          reason: error.message,
          cause: error,
        });
      }
      // An expired URL, a dropped connection: the retry polls the task again for a fresh URL.
      throw providerError({
        provider: IDENTITY,
        failure: error.failure === 'timeout' ? 'timeout' : 'unavailable',
        reason: `downloading the video failed (${error.message})`,
        cause: error,
      });
    }
  }
}

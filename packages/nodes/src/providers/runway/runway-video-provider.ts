import RunwayML, { AuthenticationError, NotFoundError } from '@runwayml/sdk';
import type { ImageToVideoCreateParams, TaskRetrieveResponse } from '@runwayml/sdk/resources';
import { NonRetryableError } from '@vidgenie/engine';
import { z } from 'zod';
import { defineProvider } from '../../provider/define-provider.ts';
import { CREDIT_PRICES } from '../../provider/pricing.ts';
import { type ProviderIdentity, providerError } from '../../provider/provider-errors.ts';
import type { AspectRatio, VideoProvider } from '../../provider/provider-types.ts';
import { settleWithin } from '../poll/job-helpers.ts';
import {
  runVideoJobFlow,
  type VideoJobLook,
  type VideoJobProviderOptions,
  videoJobSettings,
} from '../poll/video-job-flow.ts';
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

/** The config of the Runway provider (the `options` of a video node using it). */
export const RunwayVideoConfig = z.object({
  /** The image-to-video model: `gen4_turbo` (default) or `gen4.5`; other Runway models may need other ratios. */
  model: z.string().min(1).default(RUNWAY_DEFAULT_MODEL),
  /** A fixed seed, for repeatable results; random when absent. */
  seed: z.number().int().min(0).max(4_294_967_295).optional(),
});

/**
 * Options of {@link createRunwayVideoProvider}: endpoints and timings (tests shorten them). Polls
 * of a task start 5 s apart (Runway asks for no more than one poll per 5 s) and grow to 15 s
 * (`maxPollIntervalMs`); a clip may take 20 min (`pollDeadlineMs`).
 */
export interface RunwayVideoProviderOptions extends VideoJobProviderOptions {
  /** The API's base URL, without `/v1`. Default `https://api.dev.runwayml.com`. */
  readonly baseURL?: string | undefined;
  /** How long an abort waits for Runway to cancel the task, in ms. Default 5 000. */
  readonly cancelTimeoutMs?: number | undefined;
}

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
  const settings = videoJobSettings(options, { maxPollIntervalMs: 15_000, pollDeadlineMs: 20 * 60_000 });
  const chain = settings.chainClips;
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
      const client = clientFor(apiKey);
      const { ratio } = RATIOS[request.aspectRatio];
      const cancelTimeoutMs = options.cancelTimeoutMs ?? 5_000;
      return runVideoJobFlow<string>(
        {
          ...settings,
          provider: IDENTITY,
          vendor: 'Runway',
          jobNoun: 'task',
          // The durable state: the task id of each clip started, in order.
          stateKey: 'taskIds',
          clipSeconds: CLIP_SECONDS,
          maxPromptChars: MAX_PROMPT_CHARS,
          maxImageUriChars: MAX_DATA_URI_CHARS,
          imageTooLargeReason: 'the image is too large to send (5 MB at most)',
          goneReason: 'the task was cancelled or deleted on Runway',
          isTransient: isTransientRunwayError,
          // An expired output URL: the retry polls the task again for a fresh one.
          filesExpire: false,

          async submit({ seconds, prompt, image, signal }) {
            const created = await client.imageToVideo.create(
              {
                model: config.model,
                promptImage: image.dataUri,
                ...(prompt === '' ? {} : { promptText: prompt }),
                ratio,
                duration: seconds,
                ...(config.seed === undefined ? {} : { seed: config.seed }),
              } as ImageToVideoCreateParams,
              { signal },
            );
            return created?.id;
          },
          async look(taskId, pollSignal): Promise<VideoJobLook<string>> {
            let task: TaskRetrieveResponse;
            try {
              task = await client.tasks.retrieve(taskId, { signal: pollSignal, maxRetries: 0 });
            } catch (error) {
              if (error instanceof NotFoundError) return { status: 'gone' };
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
                return { status: 'succeeded', result: url };
              }
              case 'FAILED':
                return { status: 'failed', error: mapRunwayFailure(task, IDENTITY, apiKey) };
              case 'CANCELLED':
                return { status: 'gone' };
              case 'RUNNING':
                return { status: 'running', progress: task.progress, message: 'Generating with Runway' };
              default:
                return { status: 'running', message: 'Waiting in Runway’s queue' };
            }
          },
          // Runway's output URLs are signed: no key is sent.
          clipSource: (url) => ({ url }),
          cancel: (taskId) =>
            settleWithin(
              client.tasks.delete(taskId, { maxRetries: 0, timeout: cancelTimeoutMs }),
              cancelTimeoutMs,
            ),
          mapError: (error) => mapRunwayError(error, IDENTITY, apiKey),
        },
        request,
        ctx,
      );
    },
  });
}

import { writeFile } from 'node:fs/promises';
import {
  ApiError,
  type GenerateVideosConfig,
  GenerateVideosOperation,
  GoogleGenAI,
  type Video,
} from '@google/genai';
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
  scrubSecret,
} from '../../provider/provider-errors.ts';
import type { AspectRatio, VideoProvider } from '../../provider/provider-types.ts';
import { DownloadError, downloadToFile } from '../poll/download-file.ts';
import { imageDataUri } from '../poll/image-input.ts';
import { clipPrompt, clipReason, MOTION_HINTS, withWorkFolder } from '../poll/job-helpers.ts';
import { pollJob } from '../poll/poll-job.ts';
import { isTransientGeminiError, mapGeminiError, mapRpcStatus, statusOfApiError } from './gemini-errors.ts';

/**
 * The model used when the config names none. Veo 3.0 was retired on 2026-06-30 with Veo 3.1 as
 * its replacement, and the `-preview` ids of 3.1 have been shut down: the stable 3.1 id.
 */
export const VEO_DEFAULT_MODEL = 'veo-3.1-generate-001';
/** Gemini API's default origin. */
const GEMINI_BASE_URL = 'https://generativelanguage.googleapis.com';
/** Clip lengths Veo 3.x accepts, in seconds; 1080p clips must be 8 s. */
const CLIP_SECONDS_720P: readonly number[] = [4, 6, 8];
const CLIP_SECONDS_1080P: readonly number[] = [8];
/** The prompt's limit (Veo takes about 1 024 tokens). */
const MAX_PROMPT_CHARS = 3000;
/** Inline images must keep the request under Gemini's 20 MB; stay well below. */
const MAX_IMAGE_URI_CHARS = 12 * 1024 * 1024;

const IDENTITY: ProviderIdentity = {
  id: 'veo-video',
  displayName: 'Veo (Gemini API)',
  keyLabel: 'Gemini API key',
};

/** The provider's durable state: the operation name of each clip started, in order. */
const VeoState = z.object({ operationNames: z.array(z.string().min(1)) });
type VeoState = z.infer<typeof VeoState>;

/** The config of the Veo provider (the `options` of a video node using it). */
export const VeoVideoConfig = z.object({
  /** A Veo 3.x model id of the Gemini API (`veo-3.1-generate-001`, `veo-3.1-fast-generate-001`…). */
  model: z.string().min(1).default(VEO_DEFAULT_MODEL),
  /** Output resolution; 1080p clips are always 8 s. */
  resolution: z.enum(['720p', '1080p']).default('720p'),
  /** What should not appear. */
  negativePrompt: z.string().max(1000).optional(),
  /** Whether people may appear; unset leaves the API's default for image-to-video. */
  personGeneration: z.enum(['allow_adult', 'dont_allow']).optional(),
});

/** Options of {@link createVeoVideoProvider}: endpoints and timings (tests shorten them). */
export interface VeoVideoProviderOptions {
  /** The API's origin, without a version. Default `https://generativelanguage.googleapis.com`. */
  readonly baseUrl?: string | undefined;
  /** The API version. Default `v1beta`. */
  readonly apiVersion?: string | undefined;
  /** The first wait between polls of an operation, in ms; it grows ×1.5 up to `maxPollIntervalMs`. Default 5 000. */
  readonly pollIntervalMs?: number | undefined;
  /** The longest wait between polls, in ms. Default 10 000 (Google's samples poll every 10 s). */
  readonly maxPollIntervalMs?: number | undefined;
  /** How long one clip may take before the attempt fails with a retryable timeout, in ms. Default 15 min. */
  readonly pollDeadlineMs?: number | undefined;
  /** How long a clip usually takes, in ms, for the estimated progress (Veo reports none). Default 90 000. */
  readonly expectedClipMs?: number | undefined;
  /** Each API request's time limit, in ms. Default 60 000. */
  readonly requestTimeoutMs?: number | undefined;
  /** The download's time limit, in ms. Default 5 min. */
  readonly downloadTimeoutMs?: number | undefined;
  /** The largest video accepted, in bytes. Default 1 GiB. */
  readonly maxDownloadBytes?: number | undefined;
  /** Make videos longer than 8 s by chaining clips (each from the last frame of the one before). Default true. */
  readonly chainClips?: boolean | undefined;
  /** Probes the result (default: ffmpeg). */
  readonly media?: MediaTools | undefined;
  /** Where working folders go. Default the OS temp dir. */
  readonly tempDir?: string | undefined;
}

/**
 * Veo 3.x image-to-video through the Gemini API and the official `@google/genai` SDK.
 *
 * `generate` starts `models/{model}:predictLongRunning` with the first frame inline, stores the
 * operation name with `request.state.set` **before** polling it (`GET /v1beta/{name}` through
 * `ai.operations.getVideosOperation`), so a resumed run polls the operation it already paid for.
 * Veo reports no progress, so progress is estimated from the elapsed time. The finished video is
 * downloaded at once with the key (`x-goog-api-key`, sent only to Google hosts) and returned as a
 * local MP4 with its probed duration and size. Videos longer than 8 s are chained from clips, each
 * starting from the previous one's last frame, joined by ffmpeg (and trimmed to length).
 *
 * The Gemini API cannot cancel a video operation: an abort stops polling and rejects at once.
 * Errors are read from `google.rpc.Status` bodies (see `mapRpcStatus`); a safety-filtered result
 * (`raiMediaFilteredReasons`) is `content_rejected` with Google's reason. The key never appears
 * in messages.
 *
 * @example
 * ```ts
 * import { createProviderRegistry, createVeoVideoProvider, localProviders } from '@vidgenie/nodes';
 * const providers = createProviderRegistry([...localProviders(), createVeoVideoProvider()]);
 * ```
 */
export function createVeoVideoProvider(
  options: VeoVideoProviderOptions = {},
): VideoProvider<typeof VeoVideoConfig> {
  const media = options.media ?? createFfmpegMediaTools();
  const chain = options.chainClips ?? true;
  const baseUrl = (options.baseUrl ?? GEMINI_BASE_URL).replace(/\/+$/, '');
  const apiOrigin = new URL(baseUrl).origin;
  const apiVersion = options.apiVersion ?? 'v1beta';
  const pollInterval = options.pollIntervalMs ?? 5_000;
  const clientFor = (apiKey: string) =>
    new GoogleGenAI({
      apiKey,
      vertexai: false,
      apiVersion,
      // Retries stay off (no retryOptions): creating a video is not idempotent; the engine retries.
      httpOptions: { baseUrl, timeout: options.requestTimeoutMs ?? 60_000 },
    });

  /** Where the video behind a result URI is downloaded, as the SDK's `files.download` does. */
  const downloadUrlOf = (uri: string): string | undefined => {
    if (uri.startsWith('https://')) {
      const id = uri.split('files/')[1]?.match(/[a-z0-9]+/)?.[0];
      if (id !== undefined) return `${baseUrl}/${apiVersion}/files/${id}:download?alt=media`;
    }
    try {
      const url = new URL(uri, baseUrl);
      // Never send the key anywhere but the API.
      return url.origin === apiOrigin ? url.href : undefined;
    } catch {
      return undefined;
    }
  };
  const isGoogleHost = (url: URL) =>
    url.origin === apiOrigin ||
    (url.protocol === 'https:' &&
      (url.hostname.endsWith('.googleapis.com') || url.hostname.endsWith('.googleusercontent.com')));

  return defineProvider({
    id: IDENTITY.id,
    displayName: IDENTITY.displayName,
    kind: 'video',
    local: false,
    key: { secret: 'gemini', label: 'Gemini API key' },
    config: VeoVideoConfig,
    capabilities: {
      durations: chain ? [8, 15, 30, 60] : [8],
      aspectRatios: ['9:16', '16:9'],
      resolutions: ['720x1280', '1280x720', '1080x1920', '1920x1080'],
      // Chaining here (with Veo's own 4/6/8 s clips) makes up to 60 s per call; the video node's
      // generic chaining is then not needed.
      maxClipSeconds: chain ? 60 : 8,
    },
    price: ({ durationSeconds }) => CREDIT_PRICES.video[durationSeconds],

    async validateKey(key, { signal }) {
      if (key.trim() === '') return { valid: false, reason: 'The key is empty.' };
      try {
        await clientFor(key).models.list({ config: { pageSize: 1, abortSignal: signal } });
        return { valid: true };
      } catch (error) {
        signal.throwIfAborted();
        const mapped = mapGeminiError(error, IDENTITY, key);
        if (error instanceof ApiError && 'failure' in mapped && mapped.failure === 'invalid_key') {
          const reason = clipReason(scrubSecret(statusOfApiError(error).message?.split('\n')[0] ?? '', key));
          return { valid: false, reason: `Google rejected this key${reason === '' ? '' : `: ${reason}`}.` };
        }
        throw mapped;
      }
    },

    async generate(request, ctx) {
      const { signal, apiKey, config } = ctx;
      signal.throwIfAborted();
      if (apiKey === undefined || apiKey === '') {
        throw new NonRetryableError('Add your Gemini API key in Settings to use Veo (Gemini API).');
      }
      const aspectRatio = request.aspectRatio;
      if (!isVeoRatio(aspectRatio)) {
        throw providerError({
          provider: IDENTITY,
          failure: 'bad_request',
          reason: `Veo makes 9:16 and 16:9 videos, not ${aspectRatio}`,
        });
      }
      const plan = planSegments(
        request.durationSeconds,
        config.resolution === '1080p' ? CLIP_SECONDS_1080P : CLIP_SECONDS_720P,
      );
      if ((plan.length > 1 || plan[0] !== request.durationSeconds) && !chain) {
        throw new NonRetryableError(
          `Veo makes clips of up to 8 s; ${request.durationSeconds} s videos are not supported yet.`,
        );
      }
      const ai = clientFor(apiKey);
      const prompt = clipPrompt(
        `${request.prompt.trim()} ${MOTION_HINTS[request.motion]}`.trim(),
        MAX_PROMPT_CHARS,
      );
      const stored = VeoState.safeParse(request.state.get());
      let names: string[] = stored.success ? [...stored.data.operationNames] : [];
      /** Errors of the durable state (a stale fence…) are the engine's: they pass through unmapped. */
      const stateErrors = new WeakSet<object>();
      const saveState = async (next: string[]) => {
        names = next;
        try {
          await request.state.set({ operationNames: next } satisfies VeoState);
        } catch (error) {
          if (typeof error === 'object' && error !== null) stateErrors.add(error);
          throw error;
        }
      };

      type Outcome = { readonly kind: 'video'; readonly video: Video } | { readonly kind: 'gone' };
      /** Polls an operation until it has a video or is gone (expired); throws its failure. */
      const waitFor = async (
        name: string,
        index: number,
        progress: (f: number, m?: string) => void,
        fresh: boolean,
      ) => {
        const outcome = await pollJob<Outcome>(
          async (pollSignal) => {
            const handle = new GenerateVideosOperation();
            handle.name = name;
            let operation: GenerateVideosOperation;
            try {
              operation = (await ai.operations.getVideosOperation({
                operation: handle,
                config: { abortSignal: pollSignal },
              })) as GenerateVideosOperation;
            } catch (error) {
              if (error instanceof ApiError && error.status === 404)
                return { done: true, value: { kind: 'gone' } };
              throw error;
            }
            if (operation.done !== true) return { done: false, message: 'Generating with Veo' };
            if (operation.error !== undefined) {
              const failure = mapRpcStatus(operation.error, IDENTITY, apiKey);
              // A retry must start a new operation, not poll this failed one again.
              if (failure instanceof ProviderUnavailableError) await saveState(names.slice(0, index));
              throw failure;
            }
            const response = operation.response;
            const video = response?.generatedVideos?.[0]?.video;
            if (video?.uri !== undefined || video?.videoBytes !== undefined) {
              return { done: true, value: { kind: 'video', video: video as Video } };
            }
            if (
              (response?.raiMediaFilteredCount ?? 0) > 0 ||
              (response?.raiMediaFilteredReasons?.length ?? 0) > 0
            ) {
              const reasons = (response?.raiMediaFilteredReasons ?? []).join(' ');
              throw providerError({
                provider: IDENTITY,
                failure: 'content_rejected',
                reason: clipReason(
                  scrubSecret(reasons === '' ? 'its safety filters blocked the video' : reasons, apiKey),
                ),
              });
            }
            await saveState(names.slice(0, index));
            throw providerError({
              provider: IDENTITY,
              failure: 'malformed_response',
              reason: 'no video in the result',
            });
          },
          {
            signal,
            onProgress: progress,
            // An operation just started is not done: wait before the first look.
            initialWait: fresh,
            initialDelayMs: pollInterval,
            maxDelayMs: options.maxPollIntervalMs ?? Math.max(pollInterval, 10_000),
            deadlineMs: options.pollDeadlineMs ?? 15 * 60_000,
            expectedMs: options.expectedClipMs ?? 90_000,
            isTransient: isTransientGeminiError,
          },
        );
        return outcome;
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
              const known = names[job.index];
              if (known !== undefined) {
                job.progress(0, 'Resuming the Veo operation');
                outcome = await waitFor(known, job.index, job.progress, false);
              }
              if (outcome?.kind !== 'video') {
                job.progress(0, 'Sending to Veo');
                const uri = await imageDataUri({
                  image: job.image,
                  maxChars: MAX_IMAGE_URI_CHARS,
                  folder,
                  signal,
                });
                if (uri === undefined) {
                  throw providerError({
                    provider: IDENTITY,
                    failure: 'bad_request',
                    reason: 'the image is too large',
                  });
                }
                const [head, imageBytes = ''] = uri.split(',', 2);
                const mimeType = /^data:([^;]+);/.exec(head ?? '')?.[1] ?? job.image.mimeType;
                const videoConfig: GenerateVideosConfig = {
                  numberOfVideos: 1,
                  durationSeconds: job.seconds,
                  aspectRatio,
                  resolution: config.resolution,
                  ...(config.negativePrompt === undefined ? {} : { negativePrompt: config.negativePrompt }),
                  ...(config.personGeneration === undefined
                    ? {}
                    : { personGeneration: config.personGeneration }),
                  abortSignal: signal,
                };
                const operation = await ai.models.generateVideos({
                  model: config.model,
                  source: { ...(prompt === '' ? {} : { prompt }), image: { imageBytes, mimeType } },
                  config: videoConfig,
                });
                const name = operation.name;
                if (typeof name !== 'string' || name === '') {
                  throw providerError({
                    provider: IDENTITY,
                    failure: 'malformed_response',
                    reason: 'no operation name',
                  });
                }
                // Durable before polling: a resumed run polls this operation instead of paying again.
                await saveState([...names.slice(0, job.index), name]);
                outcome = await waitFor(name, job.index, job.progress, true);
                if (outcome.kind === 'gone') {
                  await saveState(names.slice(0, job.index));
                  throw providerError({
                    provider: IDENTITY,
                    failure: 'unavailable',
                    reason: 'the operation disappeared',
                  });
                }
              }
              job.progress(0.99, 'Downloading the clip');
              await saveVideo(outcome.video, job.output, job.index);
            },
          }),
        );
        ctx.progress(1);
        return result;
      } catch (error) {
        signal.throwIfAborted();
        if (typeof error === 'object' && error !== null && stateErrors.has(error)) throw error;
        throw mapGeminiError(error, IDENTITY, apiKey);
      }

      async function saveVideo(video: Video, path: string, index: number): Promise<void> {
        if (video.uri === undefined && typeof video.videoBytes === 'string') {
          await writeFile(path, Buffer.from(video.videoBytes, 'base64'));
          return;
        }
        const url = downloadUrlOf(video.uri ?? '');
        if (url === undefined) {
          throw providerError({
            provider: IDENTITY,
            failure: 'malformed_response',
            reason: 'the video is not on a Google host',
          });
        }
        try {
          await downloadToFile({
            url,
            path,
            signal,
            headers: { 'x-goog-api-key': apiKey as string },
            keepHeadersOnRedirect: isGoogleHost,
            timeoutMs: options.downloadTimeoutMs,
            maxBytes: options.maxDownloadBytes,
          });
        } catch (error) {
          if (!(error instanceof DownloadError)) throw error;
          const reason = `downloading the video failed (${error.message})`;
          if (error.failure === 'too_large') {
            throw providerError({
              provider: IDENTITY,
              failure: 'bad_request',
              reason: error.message,
              cause: error,
            });
          }
          if (error.status === 401)
            throw providerError({ provider: IDENTITY, failure: 'invalid_key', cause: error });
          if (error.status === 403 || error.status === 404 || error.status === 410) {
            // Generated files are kept for two days: a retry must make the clip again.
            await saveState(names.slice(0, index));
          }
          throw providerError({
            provider: IDENTITY,
            failure: error.failure === 'timeout' ? 'timeout' : 'unavailable',
            reason,
            cause: error,
          });
        }
      }
    },
  });
}

function isVeoRatio(ratio: AspectRatio): ratio is '9:16' | '16:9' {
  return ratio === '9:16' || ratio === '16:9';
}

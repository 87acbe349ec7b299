import {
  ApiError,
  type GenerateVideosConfig,
  GenerateVideosOperation,
  GoogleGenAI,
  type Video,
} from '@google/genai';
import { NonRetryableError } from '@vidgenie/engine';
import { z } from 'zod';
import { defineProvider } from '../../provider/define-provider.ts';
import { CREDIT_PRICES } from '../../provider/pricing.ts';
import { type ProviderIdentity, providerError, scrubSecret } from '../../provider/provider-errors.ts';
import type { AspectRatio, VideoProvider } from '../../provider/provider-types.ts';
import { clipReason } from '../poll/job-helpers.ts';
import {
  runVideoJobFlow,
  type VideoJobLook,
  type VideoJobProviderOptions,
  videoJobSettings,
} from '../poll/video-job-flow.ts';
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

/**
 * Options of {@link createVeoVideoProvider}: endpoints and timings (tests shorten them). Polls of
 * an operation start 5 s apart and grow to 10 s (`maxPollIntervalMs`; Google's samples poll every
 * 10 s); a clip may take 15 min (`pollDeadlineMs`).
 */
export interface VeoVideoProviderOptions extends VideoJobProviderOptions {
  /** The API's origin, without a version. Default `https://generativelanguage.googleapis.com`. */
  readonly baseUrl?: string | undefined;
  /** The API version. Default `v1beta`. */
  readonly apiVersion?: string | undefined;
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
  const settings = videoJobSettings(options, { maxPollIntervalMs: 10_000, pollDeadlineMs: 15 * 60_000 });
  const chain = settings.chainClips;
  const baseUrl = (options.baseUrl ?? GEMINI_BASE_URL).replace(/\/+$/, '');
  const apiOrigin = new URL(baseUrl).origin;
  const apiVersion = options.apiVersion ?? 'v1beta';
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
      const ai = clientFor(apiKey);
      return runVideoJobFlow<Video>(
        {
          ...settings,
          provider: IDENTITY,
          vendor: 'Veo',
          jobNoun: 'operation',
          // The durable state: the operation name of each clip started, in order.
          stateKey: 'operationNames',
          clipSeconds: config.resolution === '1080p' ? CLIP_SECONDS_1080P : CLIP_SECONDS_720P,
          maxPromptChars: MAX_PROMPT_CHARS,
          maxImageUriChars: MAX_IMAGE_URI_CHARS,
          imageTooLargeReason: 'the image is too large',
          goneReason: 'the operation disappeared',
          isTransient: isTransientGeminiError,
          // Generated files are kept for two days: after that a retry must make the clip again.
          filesExpire: true,

          async submit({ seconds, prompt, image, signal }) {
            const videoConfig: GenerateVideosConfig = {
              numberOfVideos: 1,
              durationSeconds: seconds,
              aspectRatio,
              resolution: config.resolution,
              ...(config.negativePrompt === undefined ? {} : { negativePrompt: config.negativePrompt }),
              ...(config.personGeneration === undefined ? {} : { personGeneration: config.personGeneration }),
              abortSignal: signal,
            };
            const operation = await ai.models.generateVideos({
              model: config.model,
              source: {
                ...(prompt === '' ? {} : { prompt }),
                image: { imageBytes: image.base64, mimeType: image.mimeType },
              },
              config: videoConfig,
            });
            return operation.name;
          },
          async look(name, pollSignal): Promise<VideoJobLook<Video>> {
            const handle = new GenerateVideosOperation();
            handle.name = name;
            let operation: GenerateVideosOperation;
            try {
              operation = (await ai.operations.getVideosOperation({
                operation: handle,
                config: { abortSignal: pollSignal },
              })) as GenerateVideosOperation;
            } catch (error) {
              if (error instanceof ApiError && error.status === 404) return { status: 'gone' };
              throw error;
            }
            if (operation.done !== true) return { status: 'running', message: 'Generating with Veo' };
            if (operation.error !== undefined) {
              return { status: 'failed', error: mapRpcStatus(operation.error, IDENTITY, apiKey) };
            }
            const response = operation.response;
            const video = response?.generatedVideos?.[0]?.video;
            if (video?.uri !== undefined || video?.videoBytes !== undefined) {
              return { status: 'succeeded', result: video };
            }
            if (
              (response?.raiMediaFilteredCount ?? 0) > 0 ||
              (response?.raiMediaFilteredReasons?.length ?? 0) > 0
            ) {
              const reasons = (response?.raiMediaFilteredReasons ?? []).join(' ');
              const reason = reasons === '' ? 'its safety filters blocked the video' : reasons;
              return {
                status: 'failed',
                error: providerError({
                  provider: IDENTITY,
                  failure: 'content_rejected',
                  reason: clipReason(scrubSecret(reason, apiKey)),
                }),
              };
            }
            return {
              status: 'failed',
              error: providerError({
                provider: IDENTITY,
                failure: 'malformed_response',
                reason: 'no video in the result',
              }),
            };
          },
          clipSource(video) {
            if (video.uri === undefined && typeof video.videoBytes === 'string') {
              return { bytes: Buffer.from(video.videoBytes, 'base64') };
            }
            const url = downloadUrlOf(video.uri ?? '');
            if (url === undefined) {
              throw providerError({
                provider: IDENTITY,
                failure: 'malformed_response',
                reason: 'the video is not on a Google host',
              });
            }
            return { url, headers: { 'x-goog-api-key': apiKey }, keepHeadersOnRedirect: isGoogleHost };
          },
          mapError: (error) => mapGeminiError(error, IDENTITY, apiKey),
        },
        request,
        ctx,
      );
    },
  });
}

function isVeoRatio(ratio: AspectRatio): ratio is '9:16' | '16:9' {
  return ratio === '9:16' || ratio === '16:9';
}

import { writeFile } from 'node:fs/promises';
import { NonRetryableError } from '@vidgenie/engine';
import { createFfmpegMediaTools } from '../../media/ffmpeg-media-tools.ts';
import type { MediaTools } from '../../media/media-tools.ts';
import { planSegments, renderChained } from '../../media/video-chain.ts';
import {
  type ProviderIdentity,
  ProviderUnavailableError,
  providerError,
} from '../../provider/provider-errors.ts';
import type { VideoRequest, VideoResult } from '../../provider/provider-types.ts';
import { DownloadError, downloadToFile } from './download-file.ts';
import { imageDataUri } from './image-input.ts';
import { abortWantsCancel, clipPrompt, MOTION_HINTS, withWorkFolder } from './job-helpers.ts';
import { pollJob } from './poll-job.ts';

/** What one look at a provider's video job found. */
export type VideoJobLook<TResult> =
  /** Queued or running; `progress` is the provider's own fraction when it gives one. */
  | { readonly status: 'running'; readonly progress?: number | undefined; readonly message?: string }
  | { readonly status: 'succeeded'; readonly result: TResult }
  /**
   * The job failed. A {@link ProviderUnavailableError} makes the job forgotten, so that the retry
   * starts a new one; any other error keeps it.
   */
  | { readonly status: 'failed'; readonly error: Error }
  /** The provider no longer has the job (expired, deleted, cancelled). */
  | { readonly status: 'gone' };

/** Where a finished clip's MP4 is: bytes in the answer, or a URL to download at once. */
export type ClipSource =
  | { readonly bytes: Uint8Array }
  | {
      readonly url: string;
      /** Request headers (the key, for APIs that serve results behind it). */
      readonly headers?: Readonly<Record<string, string>> | undefined;
      /** Which redirect targets may receive `headers` (see `downloadToFile`). */
      readonly keepHeadersOnRedirect?: ((target: URL) => boolean) | undefined;
    };

/** The first frame of a clip, ready to send. */
export interface ClipImage {
  /** A `data:` URI within the provider's limit. */
  readonly dataUri: string;
  readonly mimeType: string;
  /** The URI's base64 payload. */
  readonly base64: string;
}

/**
 * Options of every video provider with asynchronous jobs: timings (tests shorten them), limits
 * and tools. Each provider documents its own poll defaults.
 */
export interface VideoJobProviderOptions {
  /** The first wait between polls of a job, in ms; it grows ×1.5 up to `maxPollIntervalMs`. Default 5 000. */
  readonly pollIntervalMs?: number | undefined;
  /** The longest wait between polls, in ms. Default: the provider's (see its options). */
  readonly maxPollIntervalMs?: number | undefined;
  /** How long one clip may take before the attempt fails with a retryable timeout, in ms. Default: the provider's. */
  readonly pollDeadlineMs?: number | undefined;
  /** How long a clip usually takes, in ms, for progress while the provider gives none. Default 90 000. */
  readonly expectedClipMs?: number | undefined;
  /** Each API request's time limit, in ms. Default 60 000. */
  readonly requestTimeoutMs?: number | undefined;
  /** The output download's time limit, in ms. Default 5 min. */
  readonly downloadTimeoutMs?: number | undefined;
  /** The largest output accepted, in bytes. Default 1 GiB. */
  readonly maxDownloadBytes?: number | undefined;
  /** Make videos longer than one clip by chaining clips (each from the last frame of the one before). Default true. */
  readonly chainClips?: boolean | undefined;
  /** Probes the result (default: ffmpeg). */
  readonly media?: MediaTools | undefined;
  /** Where working folders go. Default the OS temp dir. */
  readonly tempDir?: string | undefined;
}

/** What {@link VideoJobProviderOptions} come to, with a provider's defaults filled in. */
export interface VideoJobSettings {
  readonly chainClips: boolean;
  readonly media: MediaTools;
  /** Where working folders go. Default the OS temp dir. */
  readonly tempDir: string | undefined;
  /** Polling: the first wait, the longest wait, the deadline and the usual clip time, in ms. */
  readonly poll: {
    readonly initialDelayMs: number;
    readonly maxDelayMs: number;
    readonly deadlineMs: number;
    readonly expectedMs: number;
  };
  /** The download's time limit and size cap (`downloadToFile`'s defaults when undefined). */
  readonly download: { readonly timeoutMs: number | undefined; readonly maxBytes: number | undefined };
}

/**
 * A provider's {@link VideoJobSettings}: its options, else its defaults for the longest wait
 * between polls and the deadline of a clip, else the common defaults.
 */
export function videoJobSettings(
  options: VideoJobProviderOptions,
  defaults: { readonly maxPollIntervalMs: number; readonly pollDeadlineMs: number },
): VideoJobSettings {
  const initialDelayMs = options.pollIntervalMs ?? 5_000;
  return {
    chainClips: options.chainClips ?? true,
    media: options.media ?? createFfmpegMediaTools(),
    tempDir: options.tempDir,
    poll: {
      initialDelayMs,
      maxDelayMs: options.maxPollIntervalMs ?? Math.max(initialDelayMs, defaults.maxPollIntervalMs),
      deadlineMs: options.pollDeadlineMs ?? defaults.pollDeadlineMs,
      expectedMs: options.expectedClipMs ?? 90_000,
    },
    download: { timeoutMs: options.downloadTimeoutMs, maxBytes: options.maxDownloadBytes },
  };
}

/**
 * What a video provider with asynchronous jobs states for {@link runVideoJobFlow}: its settings,
 * limits and words, and how to submit, look at, fetch and cancel one clip's job.
 */
export interface VideoJobFlow<TResult> extends VideoJobSettings {
  readonly provider: ProviderIdentity;
  /** The vendor's name in progress messages and errors: `Runway`, `Veo`. */
  readonly vendor: string;
  /** What the vendor calls a job, in progress messages: `task`, `operation`. */
  readonly jobNoun: string;
  /** The field of the durable state that lists each clip's job id, in order: `taskIds`... */
  readonly stateKey: string;
  /** The clip lengths the model accepts, in seconds. */
  readonly clipSeconds: readonly number[];
  /** The longest prompt sent, in UTF-16 code units (the motion hint included). */
  readonly maxPromptChars: number;
  /** The longest first-frame data URI sent, in characters; larger images are re-encoded. */
  readonly maxImageUriChars: number;
  /** The reason given when even the re-encoded image is too large. */
  readonly imageTooLargeReason: string;
  /** The reason given when a job just submitted is gone. */
  readonly goneReason: string;
  /**
   * Whether a result file that is no longer there (HTTP 403, 404, 410) is gone for good, so that
   * the retry must make the clip again (Veo keeps files two days); otherwise the retry looks at
   * the same job for a fresh URL (Runway's signed URLs).
   */
  readonly filesExpire: boolean;
  /** Whether a failed look may wait for the next one (a 5xx, a dropped connection). */
  isTransient(error: unknown): boolean;

  /** Starts one clip's job; resolves with its id (none is a malformed answer). */
  submit(clip: {
    readonly seconds: number;
    readonly prompt: string;
    readonly image: ClipImage;
    readonly signal: AbortSignal;
  }): Promise<string | undefined>;
  /** Looks at a job once; may throw (`isTransient` says which failures wait for the next look). */
  look(id: string, signal: AbortSignal): Promise<VideoJobLook<TResult>>;
  /** Where the finished clip is; may throw a provider error. */
  clipSource(result: TResult): ClipSource;
  /**
   * Cancels a job nobody will poll (the run was cancelled, or its id could not be stored); never
   * rejects. Absent when the API cannot cancel.
   */
  cancel?: ((id: string) => Promise<void>) | undefined;
  /** Maps any other failure onto a provider error (engine errors pass through). */
  mapError(error: unknown): Error;
}

/**
 * A video provider's `generate` for APIs with asynchronous jobs: plans the clips (one, or several
 * chained from each previous clip's last frame), and for each clip submits a job, stores its id in
 * the durable state **before** polling it, polls it with backoff and progress, and downloads the
 * result at once. A resumed run polls the jobs it already paid for instead of submitting them
 * again; a job the provider no longer has is replaced. On abort the call rejects with the abort
 * reason, first cancelling the running job when the API can (`cancel`) and the abort means nobody
 * wants it any more (see `abortWantsCancel`). Failures of the durable state pass through unmapped;
 * anything else goes through `mapError`.
 */
export async function runVideoJobFlow<TResult>(
  flow: VideoJobFlow<TResult>,
  request: VideoRequest,
  ctx: { readonly signal: AbortSignal; progress(fraction: number, message?: string): void },
): Promise<VideoResult> {
  const { signal } = ctx;
  const { provider, vendor, stateKey } = flow;
  const plan = planSegments(request.durationSeconds, flow.clipSeconds);
  if ((plan.length > 1 || plan[0] !== request.durationSeconds) && !flow.chainClips) {
    throw new NonRetryableError(
      `${vendor} makes clips of up to ${Math.max(...flow.clipSeconds)} s; ${request.durationSeconds} s videos are not supported yet.`,
    );
  }
  const prompt = clipPrompt(
    `${request.prompt.trim()} ${MOTION_HINTS[request.motion]}`.trim(),
    flow.maxPromptChars,
  );
  let ids = storedIds(request.state.get(), stateKey);
  /** The job being waited on, to cancel on abort. */
  let running: string | undefined;

  /** Errors of the durable state (a stale fence…) are the engine's: they pass through unmapped. */
  const stateErrors = new WeakSet<object>();
  const saveState = async (next: string[]) => {
    ids = next;
    try {
      await request.state.set({ [stateKey]: next });
    } catch (error) {
      if (typeof error === 'object' && error !== null) stateErrors.add(error);
      throw error;
    }
  };
  /** Drops clip `index`'s job (and any after it): the next attempt makes the clip again. */
  const forget = (index: number) => saveState(ids.slice(0, index));

  type Outcome = { readonly kind: 'succeeded'; readonly result: TResult } | { readonly kind: 'gone' };
  /** Polls a job until it succeeds or is gone; a failed job is thrown (and forgotten when retryable). */
  const waitFor = async (
    id: string,
    index: number,
    progress: (fraction: number, message?: string) => void,
    fresh: boolean,
  ): Promise<Outcome> => {
    running = id;
    const outcome = await pollJob<Outcome | { readonly kind: 'failed'; readonly error: Error }>(
      async (pollSignal) => {
        const look = await flow.look(id, pollSignal);
        switch (look.status) {
          case 'running':
            return {
              done: false,
              ...(look.progress === undefined ? {} : { progress: look.progress }),
              ...(look.message === undefined ? {} : { message: look.message }),
            };
          case 'succeeded':
            return { done: true, value: { kind: 'succeeded', result: look.result } };
          case 'failed':
            return { done: true, value: { kind: 'failed', error: look.error } };
          case 'gone':
            return { done: true, value: { kind: 'gone' } };
        }
      },
      {
        signal,
        onProgress: progress,
        // A job just created is not done: wait before the first look.
        initialWait: fresh,
        ...flow.poll,
        isTransient: flow.isTransient,
      },
    );
    running = undefined;
    if (outcome.kind !== 'failed') return outcome;
    // A retry must start a new job, not poll this failed one again.
    if (outcome.error instanceof ProviderUnavailableError) await forget(index);
    throw outcome.error;
  };

  const submit = async (
    job: { index: number; seconds: number; image: VideoRequest['image'] },
    folder: string,
  ) => {
    const dataUri = await imageDataUri({ image: job.image, maxChars: flow.maxImageUriChars, folder, signal });
    if (dataUri === undefined) {
      throw providerError({ provider, failure: 'bad_request', reason: flow.imageTooLargeReason });
    }
    const [head = '', base64 = ''] = dataUri.split(',', 2);
    const mimeType = /^data:([^;]+);/.exec(head)?.[1] ?? job.image.mimeType;
    const id = await flow.submit({
      seconds: job.seconds,
      prompt,
      image: { dataUri, mimeType, base64 },
      signal,
    });
    if (typeof id !== 'string' || id === '') {
      throw providerError({ provider, failure: 'malformed_response', reason: `no ${flow.jobNoun} id` });
    }
    running = id;
    try {
      // Durable before polling: a resumed run polls this job instead of paying again.
      await saveState([...ids.slice(0, job.index), id]);
    } catch (error) {
      // Nobody could find this job again: cancel it rather than pay for an orphan.
      running = undefined;
      await flow.cancel?.(id);
      throw error;
    }
    return id;
  };

  const fetchClip = async (result: TResult, path: string, index: number) => {
    const source = flow.clipSource(result);
    if ('bytes' in source) {
      await writeFile(path, source.bytes);
      return;
    }
    try {
      await downloadToFile({
        url: source.url,
        path,
        signal,
        headers: source.headers,
        keepHeadersOnRedirect: source.keepHeadersOnRedirect,
        timeoutMs: flow.download.timeoutMs,
        maxBytes: flow.download.maxBytes,
      });
    } catch (error) {
      if (!(error instanceof DownloadError)) throw error;
      if (error.failure === 'too_large') {
        throw providerError({ provider, failure: 'bad_request', reason: error.message, cause: error });
      }
      if (error.status === 401 && source.headers !== undefined) {
        throw providerError({ provider, failure: 'invalid_key', cause: error });
      }
      if (flow.filesExpire && (error.status === 403 || error.status === 404 || error.status === 410)) {
        await forget(index);
      }
      throw providerError({
        provider,
        failure: error.failure === 'timeout' ? 'timeout' : 'unavailable',
        reason: `downloading the video failed (${error.message})`,
        cause: error,
      });
    }
  };

  try {
    const result = await withWorkFolder(flow.tempDir, (folder) =>
      renderChained({
        plan,
        totalSeconds: request.durationSeconds,
        image: request.image,
        folder,
        output: `${folder}.mp4`,
        signal,
        media: flow.media,
        progress: (fraction, message) => ctx.progress(fraction, message),
        async renderClip(job) {
          let outcome: Outcome | undefined;
          const known = ids[job.index];
          if (known !== undefined) {
            job.progress(0, `Resuming the ${vendor} ${flow.jobNoun}`);
            outcome = await waitFor(known, job.index, job.progress, false);
          }
          if (outcome?.kind !== 'succeeded') {
            job.progress(0, `Sending to ${vendor}`);
            const id = await submit(job, folder);
            outcome = await waitFor(id, job.index, job.progress, true);
            if (outcome.kind === 'gone') {
              await forget(job.index);
              throw providerError({ provider, failure: 'unavailable', reason: flow.goneReason });
            }
          }
          job.progress(0.99, 'Downloading the clip');
          await fetchClip(outcome.result, job.output, job.index);
        },
      }),
    );
    ctx.progress(1);
    return result;
  } catch (error) {
    if (signal.aborted) {
      if (running !== undefined && flow.cancel !== undefined && abortWantsCancel(signal.reason)) {
        await flow.cancel(running);
      }
      throw signal.reason;
    }
    if (typeof error === 'object' && error !== null && stateErrors.has(error)) throw error;
    throw flow.mapError(error);
  }
}

/** The job ids a durable state holds under `key`; none when it holds something else. */
function storedIds(state: unknown, key: string): string[] {
  const ids =
    typeof state === 'object' && state !== null ? (state as Record<string, unknown>)[key] : undefined;
  return Array.isArray(ids) && ids.every((id) => typeof id === 'string' && id !== '') ? [...ids] : [];
}

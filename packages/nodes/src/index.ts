/**
 * `@vidgenie/nodes`: VidGenie's node plugins for `@vidgenie/engine` (prompt, enhance, image,
 * video, output), the provider plugin API, offline local providers, media storage and the
 * short-video template.
 *
 * @module
 */

// Blob storage
export type { BlobInfo, BlobStore } from './blob/blob-store.ts';
export { createFsBlobStore } from './blob/fs-blob-store.ts';
export {
  createS3BlobStore,
  type PresignedUrlArgs,
  type S3BlobStore,
  type S3BlobStoreOptions,
} from './blob/s3-blob-store.ts';
export { ffmpegPath } from './media/ffmpeg.ts';
export { createFfmpegMediaTools } from './media/ffmpeg-media-tools.ts';
export { ffmpegNiceness, setFfmpegNiceness } from './media/ffmpeg-priority.ts';
export {
  type FfmpegLoad,
  ffmpegConcurrency,
  ffmpegLoad,
  setFfmpegConcurrency,
} from './media/ffmpeg-slots.ts';
// Media references
export { ImageRef, MediaRef, TextValue, VideoRef } from './media/media-ref.ts';
export type { MediaTools, VideoInspection, VideoProbe } from './media/media-tools.ts';
export { createShortVideoRegistry } from './nodes/create-short-video-registry.ts';
export { createEnhanceNode } from './nodes/enhance-node.ts';
export { createImageNode } from './nodes/image-node.ts';
export type { MediaServices } from './nodes/node-services.ts';
export { outputNode } from './nodes/output-node.ts';

// Nodes and the template
export { MAX_PROMPT_LENGTH, promptNode } from './nodes/prompt-node.ts';
export { createVideoNode } from './nodes/video-node.ts';
// Providers
export { defineProvider } from './provider/define-provider.ts';
export { CREDIT_PRICES, IMAGE_SIZE_PIXELS, type ImageSize } from './provider/pricing.ts';
export {
  PROVIDER_CONTRACT_VERSION,
  ProviderContractVersionError,
} from './provider/provider-contract-version.ts';
export {
  DEFAULT_RATE_LIMIT_DELAY_MS,
  type ProviderErrorArgs,
  type ProviderFailure,
  type ProviderIdentity,
  ProviderRateLimitedError,
  ProviderRejectedError,
  ProviderUnavailableError,
  providerError,
  scrubSecret,
} from './provider/provider-errors.ts';
export { createProviderRegistry, type ProviderRegistry } from './provider/provider-registry.ts';
export type {
  AspectRatio,
  ImageCapabilities,
  ImageProvider,
  ImageRequest,
  ImageResult,
  KeyValidation,
  MotionIntensity,
  Provider,
  ProviderCallContext,
  ProviderKind,
  TextProvider,
  TextRequest,
  TextResult,
  VideoCapabilities,
  VideoDuration,
  VideoProvider,
  VideoRequest,
  VideoResult,
} from './provider/provider-types.ts';
export { localProviders } from './providers/local/local-providers.ts';
export type { OpenAiProviderOptions } from './providers/openai/openai-client.ts';
export {
  createOpenAiImageProvider,
  DEFAULT_OPENAI_IMAGE_MODEL,
  type OpenAiImageQuality,
  type OpenAiImageSize,
  openAiImageConfig,
  openAiImageRequest,
} from './providers/openai/openai-image-provider.ts';
export {
  createOpenAiTextProvider,
  DEFAULT_OPENAI_TEXT_MODEL,
  OPENAI_ENHANCE_SYSTEM_PROMPT,
  openAiTextConfig,
} from './providers/openai/openai-text-provider.ts';
export { DownloadError, type DownloadOptions, downloadToFile } from './providers/poll/download-file.ts';
// Building blocks for provider authors
export {
  estimateProgress,
  type PollCheck,
  PollDeadlineError,
  type PollJobOptions,
  pollDelay,
  pollJob,
} from './providers/poll/poll-job.ts';
export {
  createRunwayVideoProvider,
  RUNWAY_DEFAULT_MODEL,
  RunwayVideoConfig,
  type RunwayVideoProviderOptions,
} from './providers/runway/runway-video-provider.ts';
export {
  createStabilityImageProvider,
  STABILITY_BASE_URL,
  type StabilityImageProviderOptions,
} from './providers/stability/stability-image-provider.ts';
export {
  createVeoVideoProvider,
  VEO_DEFAULT_MODEL,
  VeoVideoConfig,
  type VeoVideoProviderOptions,
} from './providers/veo/veo-video-provider.ts';
export { type ShortVideoTemplateOptions, shortVideoTemplate } from './template/short-video-template.ts';

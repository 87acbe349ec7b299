import type { DurableState } from '@vidgenie/engine';
import type { z } from 'zod';
import type { ImageSize } from './pricing.ts';

/** What kind of media a provider produces. */
export type ProviderKind = 'text' | 'image' | 'video';

/** Aspect ratios the product asks for. 9:16 is the short-video default. */
export type AspectRatio = '9:16' | '1:1' | '16:9';

/** Video clip durations the product offers, in seconds. */
export type VideoDuration = 8 | 15 | 30 | 60;

/** How much the camera moves in a generated video. */
export type MotionIntensity = 'low' | 'medium' | 'high';

/** The result of checking a key against the provider with its cheapest authenticated call. */
export type KeyValidation = { readonly valid: true } | { readonly valid: false; readonly reason: string };

/** What every provider call receives besides its own arguments. */
export interface ProviderCallContext<TConfig> {
  /** The provider-specific config (model id, quality...), parsed by the provider's schema. */
  readonly config: TConfig;
  /** The user's key for this provider; undefined for local providers. Never log it. */
  readonly apiKey: string | undefined;
  readonly signal: AbortSignal;
  /** Reports progress in [0, 1]. */
  progress(fraction: number, message?: string): void;
}

/** Arguments of a text provider's `generate`. */
export interface TextRequest {
  /** The creator's prompt. */
  readonly prompt: string;
}
/** What a text provider returns. */
export interface TextResult {
  readonly text: string;
  readonly tokensUsed: number;
  readonly model: string;
}

/** Arguments of an image provider's `generate`. */
export interface ImageRequest {
  readonly prompt: string;
  readonly size: ImageSize;
  readonly aspectRatio: AspectRatio;
}
/** What an image provider returns: the encoded image. */
export interface ImageResult {
  readonly bytes: Uint8Array;
  readonly mimeType: string;
  readonly width: number;
  readonly height: number;
}

/** Arguments of a video provider's `generate`. */
export interface VideoRequest {
  readonly prompt: string;
  /** The first frame, as encoded bytes. */
  readonly image: ImageResult;
  /**
   * The clip length asked of this call, at most `capabilities.maxClipSeconds`: the video node
   * chains clips for longer videos.
   */
  readonly durationSeconds: number;
  readonly motion: MotionIntensity;
  readonly aspectRatio: AspectRatio;
  /**
   * Durable state for async jobs: store the provider's job id here **before** polling, so a
   * resumed run polls the same job instead of paying for a new one.
   */
  readonly state: DurableState<unknown>;
}
/** What a video provider returns: an MP4 file on local disk (videos can be large). */
export interface VideoResult {
  /** A local file path of the encoded video; the node moves it into the blob store. */
  readonly path: string;
  readonly mimeType: string;
  readonly width: number;
  readonly height: number;
  readonly durationSeconds: number;
}

/** What image providers can do. */
export interface ImageCapabilities {
  readonly sizes: readonly ImageSize[];
  readonly aspectRatios: readonly AspectRatio[];
}
/** What video providers can do. */
export interface VideoCapabilities {
  readonly durations: readonly VideoDuration[];
  readonly aspectRatios: readonly AspectRatio[];
  /** Output resolutions, e.g. `720x1280`. */
  readonly resolutions: readonly string[];
  /**
   * The longest video one call makes. The video node makes longer videos from calls of this
   * length (`renderChained`): each next clip starts from the previous clip's last frame, and the
   * clips are joined. Providers that chain their own clips declare their longest chained video.
   */
  readonly maxClipSeconds: number;
}

interface ProviderBase<TKind extends ProviderKind, TConfig extends z.ZodObject> {
  /** A stable id, e.g. `openai-image`; nodes select providers by it. */
  readonly id: string;
  readonly displayName: string;
  readonly kind: TKind;
  /** Local providers run offline and need no key; the UI labels them as local. */
  readonly local: boolean;
  /** The user key this provider needs (its secret name and a label), absent for local providers. */
  readonly key?: { readonly secret: string; readonly label: string };
  /** Provider-specific config (model ids with current defaults...). */
  readonly config: TConfig;
  /**
   * The provider contract major this provider was written against (`PROVIDER_CONTRACT_VERSION` of
   * the `@vidgenie/nodes` it was built with). Absent means 1. A registry refuses a provider built
   * for a newer major than it implements.
   */
  readonly contractVersion?: number;
  /** Checks a key with the provider's cheapest authenticated call. */
  validateKey?(key: string, options: { readonly signal: AbortSignal }): Promise<KeyValidation>;
}

/** A text provider (prompt enhancement). */
export interface TextProvider<TConfig extends z.ZodObject = z.ZodObject>
  extends ProviderBase<'text', TConfig> {
  /** Credits per call. */
  price(): number;
  generate(request: TextRequest, ctx: ProviderCallContext<z.output<TConfig>>): Promise<TextResult>;
}

/** An image provider. */
export interface ImageProvider<TConfig extends z.ZodObject = z.ZodObject>
  extends ProviderBase<'image', TConfig> {
  readonly capabilities: ImageCapabilities;
  price(args: { readonly size: ImageSize }): number;
  generate(request: ImageRequest, ctx: ProviderCallContext<z.output<TConfig>>): Promise<ImageResult>;
}

/** A video provider. */
export interface VideoProvider<TConfig extends z.ZodObject = z.ZodObject>
  extends ProviderBase<'video', TConfig> {
  readonly capabilities: VideoCapabilities;
  price(args: { readonly durationSeconds: VideoDuration }): number;
  generate(request: VideoRequest, ctx: ProviderCallContext<z.output<TConfig>>): Promise<VideoResult>;
}

/** Any provider. */
export type Provider = TextProvider | ImageProvider | VideoProvider;

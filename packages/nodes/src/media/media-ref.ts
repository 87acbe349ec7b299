import { z } from 'zod';

/** Text flowing between nodes (a prompt). Its port type is `text`. */
export const TextValue = z.string().meta({ portType: 'text' });

/**
 * A reference to media in the blob store: node outputs carry references, never bytes, so
 * checkpoints stay small.
 */
export const MediaRef = z.object({
  /** The blob store key. */
  key: z.string().min(1),
  mimeType: z.string().min(1),
  /** Size in bytes. */
  bytes: z.number().int().nonnegative(),
});
/** @see MediaRef */
export type MediaRef = z.output<typeof MediaRef>;

/** An image in the blob store, with its pixel size. Its port type is `image`. */
export const ImageRef = MediaRef.extend({
  width: z.number().int().positive(),
  height: z.number().int().positive(),
}).meta({ portType: 'image' });
/** @see ImageRef */
export type ImageRef = z.output<typeof ImageRef>;

/** A video in the blob store, with its resolution and duration. Its port type is `video`. */
export const VideoRef = MediaRef.extend({
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  durationSeconds: z.number().positive(),
}).meta({ portType: 'video' });
/** @see VideoRef */
export type VideoRef = z.output<typeof VideoRef>;

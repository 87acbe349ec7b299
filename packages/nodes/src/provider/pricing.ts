/** Image sizes the product offers. */
export type ImageSize = 'small' | 'medium' | 'large';

/**
 * The platform's prices in credits (PRD §5.2): enhance 1; image 2 / 3 / 5 for small / medium /
 * large; video 10 / 20 / 40 / 80 for 8 / 15 / 30 / 60 s. Providers use these unless they say
 * otherwise.
 */
export const CREDIT_PRICES = Object.freeze({
  enhance: 1,
  image: Object.freeze({ small: 2, medium: 3, large: 5 }),
  video: Object.freeze({ 8: 10, 15: 20, 30: 40, 60: 80 }),
});

/** The longer side, in pixels, of each image size (PRD: 512, 1024, 2048 for square images). */
export const IMAGE_SIZE_PIXELS: Readonly<Record<ImageSize, number>> = Object.freeze({
  small: 512,
  medium: 1024,
  large: 2048,
});

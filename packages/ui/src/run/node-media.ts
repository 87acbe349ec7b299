/**
 * The media a node's output points to, read from the run's events. Node outputs carry blob-store
 * references (`{ key, mimeType, bytes, width, height }`), never URLs: the browser can show what an
 * image is (its size) the moment the image node completes, and its pixels once a URL serves it
 * (today the content's media route, recorded when the run completes).
 */

/** An image a node made, as its output's reference describes it. */
export interface NodeImage {
  readonly width: number;
  readonly height: number;
  readonly bytes: number;
  readonly mimeType: string;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const positiveInteger = (value: unknown): value is number =>
  typeof value === 'number' && Number.isInteger(value) && value > 0;

/**
 * The image reference of a node's output (`output.image`, else `output.thumbnail`), or undefined
 * when the output holds none (not finished, another kind of node, or an unexpected shape).
 */
export function imageOfOutput(output: unknown): NodeImage | undefined {
  if (!isRecord(output)) return undefined;
  for (const port of ['image', 'thumbnail'] as const) {
    const ref = output[port];
    if (
      isRecord(ref) &&
      typeof ref.key === 'string' &&
      positiveInteger(ref.width) &&
      positiveInteger(ref.height)
    )
      return {
        width: ref.width,
        height: ref.height,
        bytes: typeof ref.bytes === 'number' && ref.bytes >= 0 ? ref.bytes : 0,
        mimeType: typeof ref.mimeType === 'string' ? ref.mimeType : 'image/png',
      };
  }
  return undefined;
}

/**
 * The media a node's output points to, read from the run's events. Node outputs carry blob-store
 * references (`{ key, mimeType, bytes, width, height }`), never URLs: the browser shows what an
 * image is (its size) and its pixels the moment the image node completes, the pixels through the
 * node media route (`/api/workflow/runs/{runId}/nodes/{nodeId}/media/{port}`), which serves what
 * the node's recorded output references, while the run still runs.
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

/** The port of a node's output holding an image reference (`image`, else `thumbnail`), with it. */
function findImage(
  output: unknown,
): { port: string; ref: Record<string, unknown> & { width: number; height: number } } | undefined {
  if (!isRecord(output)) return undefined;
  for (const port of ['image', 'thumbnail'] as const) {
    const ref = output[port];
    if (
      isRecord(ref) &&
      typeof ref.key === 'string' &&
      positiveInteger(ref.width) &&
      positiveInteger(ref.height)
    )
      return { port, ref: { ...ref, width: ref.width, height: ref.height } };
  }
  return undefined;
}

/**
 * The image reference of a node's output (`output.image`, else `output.thumbnail`), or undefined
 * when the output holds none (not finished, another kind of node, or an unexpected shape).
 */
export function imageOfOutput(output: unknown): NodeImage | undefined {
  const found = findImage(output);
  if (found === undefined) return undefined;
  const { ref } = found;
  return {
    width: ref.width,
    height: ref.height,
    bytes: typeof ref.bytes === 'number' && ref.bytes >= 0 ? ref.bytes : 0,
    mimeType: typeof ref.mimeType === 'string' ? ref.mimeType : 'image/png',
  };
}

/**
 * The URL serving the image a node's output references (the node media route, at the port
 * {@link imageOfOutput} reads), or undefined when the output holds no image reference: for run
 * `run_1`'s node `image`, `/api/workflow/runs/run_1/nodes/image/media/image`.
 */
export function nodeImageUrl(runId: string, nodeId: string, output: unknown): string | undefined {
  const found = findImage(output);
  if (found === undefined) return undefined;
  const segment = encodeURIComponent;
  return `/api/workflow/runs/${segment(runId)}/nodes/${segment(nodeId)}/media/${found.port}`;
}

import { defineNode } from '@vidgenie/engine';
import type { VideoProbe } from '../media/media-tools.ts';
import type { ImageResult } from '../provider/provider-types.ts';
import { mediaServices } from './node-services.ts';
import { outputSpec } from './output-spec.ts';

/**
 * The `output` node: gathers the final video, image and prompts, makes a poster-frame thumbnail
 * and reads the video's real duration, resolution and size back from the file. Free.
 *
 * @example
 * ```ts
 * import { outputNode } from '@vidgenie/nodes';
 * Object.keys(outputNode.input.shape); // ['video', 'image', 'prompt', 'original']
 * ```
 */
export const outputNode = defineNode({
  ...outputSpec,
  services: mediaServices,
  async run({ input, signal, services, progress, runId, nodeId }) {
    const path = await services.blobs.localPath({ key: input.video.key });
    const { media } = services;
    let probe: VideoProbe;
    let frame: ImageResult;
    if (media.inspectVideo === undefined) {
      probe = await media.probeVideo({ path, signal });
      progress(0.5, 'Making the thumbnail');
      frame = await media.posterFrame({ path, durationSeconds: probe.durationSeconds, signal });
    } else {
      // Duration, size and thumbnail in one pass (one ffmpeg process instead of two).
      progress(0, 'Making the thumbnail');
      const { poster, ...read } = await media.inspectVideo({ path, signal });
      probe = read;
      frame = poster;
    }
    const thumbnail = await services.blobs.put({
      key: `runs/${runId}/${nodeId}-thumbnail.png`,
      body: frame.bytes,
      mimeType: frame.mimeType,
    });
    const info = await services.blobs.stat({ key: input.video.key });
    const video = { ...input.video, ...probe, bytes: info?.bytes ?? input.video.bytes };
    return {
      video,
      thumbnail: { ...thumbnail, width: frame.width, height: frame.height },
      ...(input.image === undefined ? {} : { image: input.image }),
      ...(input.prompt === undefined ? {} : { prompt: input.prompt }),
      ...(input.original === undefined ? {} : { original: input.original }),
      durationSeconds: probe.durationSeconds,
      width: probe.width,
      height: probe.height,
      bytes: video.bytes,
    };
  },
});

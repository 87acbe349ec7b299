import { createEngine, type RunOutcome } from '@vidgenie/engine';
import {
  createFfmpegMediaTools,
  createFsBlobStore,
  createProviderRegistry,
  createShortVideoRegistry,
  localProviders,
  shortVideoTemplate,
} from '@vidgenie/nodes';
import { createAcmeImageProvider } from './acme-image/index.ts';

/** What {@link makeAcmeVideo} produced. */
export interface AcmeVideoResult {
  readonly outcome: RunOutcome;
  /** The MP4 in the blob store, when the run completed. */
  readonly videoPath?: string;
}

/**
 * Runs the short-video template with Acme Images for the image and the local providers for the
 * rest: an 8 s vertical MP4 from a small image, stored under `root`.
 */
export async function makeAcmeVideo(args: {
  readonly prompt: string;
  /** Where the Acme API is (the fake's URL in tests and in the demo). */
  readonly baseURL: string;
  /** The user's Acme key, handed to the image node as the `acme` secret. */
  readonly acmeKey: string;
  /** The blob store's folder. */
  readonly root: string;
  readonly signal?: AbortSignal;
}): Promise<AcmeVideoResult> {
  const providers = createProviderRegistry([
    ...localProviders(),
    createAcmeImageProvider({ baseURL: args.baseURL }),
  ]);
  const blobs = createFsBlobStore({ root: args.root });
  const engine = createEngine({
    registry: createShortVideoRegistry({ providers }),
    services: { blobs, media: createFfmpegMediaTools() },
    secrets: ({ name }) => (name === 'acme' ? args.acmeKey : undefined),
  });
  const graph = shortVideoTemplate({
    prompt: args.prompt,
    durationSeconds: 8,
    imageSize: 'small',
    motion: 'medium',
    textProvider: 'local-text',
    imageProvider: 'acme-image',
    videoProvider: 'local-video',
  });
  const outcome = await engine.run(graph, args.signal === undefined ? {} : { signal: args.signal });
  if (outcome.status !== 'completed') return { outcome };
  const output = outcome.outputs.output as { readonly video: { readonly key: string } };
  return { outcome, videoPath: await blobs.localPath({ key: output.video.key }) };
}

import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createEngine, type RunOutcome } from '@vidgenie/engine';
import {
  createFfmpegMediaTools,
  createFsBlobStore,
  createProviderRegistry,
  createShortVideoRegistry,
  shortVideoTemplate,
} from '@vidgenie/nodes';
import { chooseProviders } from './choose-providers.ts';
import type { ShortVideoArgs } from './parse-args.ts';
import { createProgressPrinter } from './progress-printer.ts';

/** What the CLI produced. */
export interface ShortVideoSummary {
  readonly outcome: RunOutcome;
  /** Files written to the output folder (absent when the run did not complete). */
  readonly files?: {
    readonly video: string;
    readonly image: string;
    readonly thumbnail: string;
    readonly prompt: string;
  };
  readonly video?: {
    readonly durationSeconds: number;
    readonly width: number;
    readonly height: number;
    readonly bytes: number;
  };
  readonly enhancedPrompt?: string;
}

/** The output node's result, as the template's `output` node returns it. */
interface OutputResult {
  readonly video: { readonly key: string };
  readonly image?: { readonly key: string };
  readonly thumbnail: { readonly key: string };
  readonly prompt?: string;
  readonly original?: string;
  readonly durationSeconds: number;
  readonly width: number;
  readonly height: number;
  readonly bytes: number;
}

/**
 * Runs the five-node template, with hosted providers whose keys are in `options.env` (at the base
 * URLs its `*_BASE_URL` variables name) and the local (offline) providers otherwise, and writes
 * the enhanced prompt, the image, the thumbnail and the MP4 into `args.out`. Throws when a base
 * URL in `options.env` is not an http(s) URL.
 */
export async function makeShortVideo(
  args: ShortVideoArgs,
  options: {
    readonly write?: (line: string) => void;
    readonly signal?: AbortSignal;
    /**
     * Where provider keys (`OPENAI_API_KEY`...) and base URLs (`OPENAI_BASE_URL`...) are read
     * from; none means local providers only.
     */
    readonly env?: Readonly<Record<string, string | undefined>>;
  } = {},
): Promise<ShortVideoSummary> {
  const choice = chooseProviders(options.env ?? {}, args.local);
  const out = resolve(args.out);
  await mkdir(out, { recursive: true });
  const providers = createProviderRegistry(choice.providers);
  const blobs = createFsBlobStore({ root: join(out, '.media') });
  const engine = createEngine({
    registry: createShortVideoRegistry({ providers }),
    services: { blobs, media: createFfmpegMediaTools() },
    secrets: ({ name }) => choice.secret(name),
  });
  options.write?.(`Providers: ${choice.text}, ${choice.image}, ${choice.video}`);
  for (const [name, url] of Object.entries(choice.endpoints)) {
    // Origin and path only: credentials or tokens in the URL stay out of the terminal.
    const { origin, pathname } = new URL(url);
    options.write?.(`  ${name} at ${origin}${pathname === '/' ? '' : pathname}`);
  }
  const graph = shortVideoTemplate({
    prompt: args.prompt,
    durationSeconds: args.durationSeconds,
    imageSize: args.imageSize,
    motion: args.motion,
    textProvider: choice.text,
    imageProvider: choice.image,
    videoProvider: choice.video,
  });
  const outcome = await engine.run(graph, {
    ...(options.write === undefined ? {} : { onEvent: createProgressPrinter(options.write) }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
  if (outcome.status !== 'completed') return { outcome };

  const result = outcome.outputs.output as OutputResult;
  const files = {
    video: join(out, 'video.mp4'),
    image: join(out, 'image.png'),
    thumbnail: join(out, 'thumbnail.png'),
    prompt: join(out, 'prompt.txt'),
  };
  await copyFile(await blobs.localPath({ key: result.video.key }), files.video);
  if (result.image !== undefined)
    await copyFile(await blobs.localPath({ key: result.image.key }), files.image);
  await copyFile(await blobs.localPath({ key: result.thumbnail.key }), files.thumbnail);
  const enhancedPrompt = result.prompt ?? args.prompt;
  await writeFile(
    files.prompt,
    `Idea: ${result.original ?? args.prompt}\n\nEnhanced prompt:\n${enhancedPrompt}\n`,
  );
  return {
    outcome,
    files,
    enhancedPrompt,
    video: {
      durationSeconds: result.durationSeconds,
      width: result.width,
      height: result.height,
      bytes: result.bytes,
    },
  };
}

import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { makeShortVideo } from './make-short-video.ts';
import { parseShortVideoArgs, USAGE } from './parse-args.ts';

/** The CLI: parses arguments, runs the template, prints where the files are. Returns the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  let args: ReturnType<typeof parseShortVideoArgs>;
  try {
    args = parseShortVideoArgs(argv);
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
    return 2;
  }
  if (args === 'help') {
    console.log(USAGE);
    return 0;
  }
  // Ctrl-C cancels the run cleanly (running ffmpeg is killed) instead of leaving half-written files.
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort('interrupted (Ctrl-C)'));
  console.log(
    `Idea: ${args.prompt}\nDuration: ${args.durationSeconds} s, image ${args.imageSize}, motion ${args.motion}\n`,
  );
  // Under `pnpm start` the script runs in this package's folder; resolve --out from where the
  // user typed the command (INIT_CWD, set by npm and pnpm) so ./out lands where they expect.
  const out = resolve(process.env.INIT_CWD ?? process.cwd(), args.out);
  let summary: Awaited<ReturnType<typeof makeShortVideo>>;
  try {
    summary = await makeShortVideo(
      { ...args, out },
      {
        write: (line) => console.log(line),
        signal: controller.signal,
        env: process.env,
      },
    );
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    return 1;
  }
  if (summary.files === undefined || summary.video === undefined) return 1;
  const { video, files } = summary;
  console.log(`\nEnhanced prompt: ${summary.enhancedPrompt}`);
  console.log(
    `\nVideo: ${files.video}\n  ${video.width}x${video.height}, ${video.durationSeconds.toFixed(2)} s, ${(video.bytes / 1e6).toFixed(2)} MB`,
  );
  console.log(`Image: ${files.image}\nThumbnail: ${files.thumbnail}\nPrompts: ${files.prompt}`);
  return 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.exitCode = await main(process.argv.slice(2));
}

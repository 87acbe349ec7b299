import { parseArgs } from 'node:util';

/** What the CLI was asked to make. */
export interface ShortVideoArgs {
  readonly prompt: string;
  readonly durationSeconds: 8 | 15 | 30 | 60;
  readonly imageSize: 'small' | 'medium' | 'large';
  readonly motion: 'low' | 'medium' | 'high';
  readonly out: string;
  /** Use the local providers even when provider keys are in the environment. */
  readonly local: boolean;
}

/** The usage text. */
export const USAGE = `Usage: short-video "<your idea>" [--duration 8|15|30|60] [--image-size small|medium|large]
                   [--motion low|medium|high] [--out ./out] [--local]

Turns an idea into a short vertical (9:16) MP4 through the five-node template:
prompt -> enhance -> image -> video -> output. Runs offline with the local providers,
or with hosted ones whose keys are in the environment: OPENAI_API_KEY (enhance, image),
STABILITY_API_KEY (image), GEMINI_API_KEY (Veo video), RUNWAY_API_KEY (video).
--local ignores those keys. OPENAI_BASE_URL (with /v1), STABILITY_BASE_URL, GEMINI_BASE_URL
and RUNWAY_BASE_URL send a provider's calls to another endpoint (a proxy, a gateway).`;

const DURATIONS = [8, 15, 30, 60] as const;
const SIZES = ['small', 'medium', 'large'] as const;
const MOTIONS = ['low', 'medium', 'high'] as const;

/** Parses the command line; throws an Error whose message says what to fix. */
export function parseShortVideoArgs(argv: readonly string[]): ShortVideoArgs | 'help' {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      duration: { type: 'string', default: '8' },
      'image-size': { type: 'string', default: 'medium' },
      motion: { type: 'string', default: 'medium' },
      out: { type: 'string', default: './out' },
      local: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return 'help';
  const prompt = positionals.join(' ').trim();
  if (prompt === '') throw new Error('Give your idea in quotes, e.g. "a red fox in the snow at dawn".');
  const durationSeconds = DURATIONS.find((d) => String(d) === values.duration);
  if (durationSeconds === undefined)
    throw new Error(`--duration must be one of ${DURATIONS.join(', ')} (seconds).`);
  const imageSize = SIZES.find((s) => s === values['image-size']);
  if (imageSize === undefined) throw new Error(`--image-size must be one of ${SIZES.join(', ')}.`);
  const motion = MOTIONS.find((m) => m === values.motion);
  if (motion === undefined) throw new Error(`--motion must be one of ${MOTIONS.join(', ')}.`);
  return { prompt, durationSeconds, imageSize, motion, out: values.out, local: values.local };
}

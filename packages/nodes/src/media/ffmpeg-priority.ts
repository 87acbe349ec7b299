import { getPriority } from 'node:os';

/** The niceness ffmpeg gets unless told otherwise: below the server, above nothing else. */
const DEFAULT_NICENESS = 10;
/** The highest niceness (lowest priority) there is. */
const MAX_NICENESS = 19;

let configured: number | undefined;

/**
 * How much lower than this process's own priority ffmpeg processes run (their Unix niceness above
 * this process's): the value {@link setFfmpegNiceness} set, else the `VIDGENIE_FFMPEG_NICE`
 * environment variable when it is set (a whole number from 0 to 19), else 10. Renders, probes and
 * poster frames are background work: on a busy machine the server's requests, database writes and
 * event deliveries take the cores first and ffmpeg the rest, while on an idle one ffmpeg runs as
 * fast as ever. 0 runs ffmpeg at the server's own priority. Throws a `RangeError` naming the
 * variable when its value is not such a number.
 *
 * @example
 * ```ts
 * import { ffmpegNiceness } from '@vidgenie/nodes';
 * console.log(`ffmpeg runs at niceness +${ffmpegNiceness()}`); // +10 by default
 * ```
 */
export function ffmpegNiceness(): number {
  if (configured !== undefined) return configured;
  const raw = process.env.VIDGENIE_FFMPEG_NICE?.trim();
  if (raw === undefined || raw === '') return DEFAULT_NICENESS;
  const value = Number(raw);
  if (!isNiceness(value)) {
    throw new RangeError(
      `VIDGENIE_FFMPEG_NICE must be a whole number from 0 to ${MAX_NICENESS} (got "${raw}"); 0 runs ffmpeg at the server's priority, unset it for ${DEFAULT_NICENESS}.`,
    );
  }
  return value;
}

/**
 * Sets how much lower than this process ffmpeg processes run, instead of `VIDGENIE_FFMPEG_NICE` or
 * the default 10 (a host with its own configuration calls it at startup); processes already
 * running keep theirs. Throws a `RangeError` unless `niceness` is a whole number from 0 to 19.
 *
 * @example
 * ```ts
 * import { ffmpegNiceness, setFfmpegNiceness } from '@vidgenie/nodes';
 * setFfmpegNiceness(0); // a machine that only renders: ffmpeg at full priority
 * console.log(ffmpegNiceness()); // 0
 * ```
 */
export function setFfmpegNiceness(niceness: number): void {
  if (!isNiceness(niceness)) {
    throw new RangeError(
      `The ffmpeg niceness must be a whole number from 0 to ${MAX_NICENESS} (got ${niceness}).`,
    );
  }
  configured = niceness;
}

/**
 * The priority (Unix niceness, as `os.setPriority` takes it) to give an ffmpeg process started
 * now: this process's own plus {@link ffmpegNiceness}, at most 19; undefined when ffmpeg keeps
 * this process's priority. @internal
 */
export function ffmpegPriority(): number | undefined {
  const niceness = ffmpegNiceness();
  if (niceness === 0) return undefined;
  let own: number;
  try {
    own = getPriority();
  } catch {
    // A sandbox without getpriority: ffmpeg keeps this process's priority rather than fail.
    return undefined;
  }
  return Math.min(MAX_NICENESS, own + niceness);
}

/** Forgets {@link setFfmpegNiceness} so that the next call reads `VIDGENIE_FFMPEG_NICE` again (tests only). @internal */
export function resetFfmpegNiceness(): void {
  configured = undefined;
}

function isNiceness(value: number): boolean {
  return Number.isInteger(value) && value >= 0 && value <= MAX_NICENESS;
}

import { createRequire } from 'node:module';
import { ffmpegPriority } from './ffmpeg-priority.ts';
import { ffmpegSlots } from './ffmpeg-slots.ts';
import { spawnOffThread } from './spawn-off-thread.ts';

/** How many lines of ffmpeg's stderr an error message quotes. */
const STDERR_TAIL_LINES = 12;
/** The most stderr kept in memory; older output is dropped (its tail is what errors quote). */
const STDERR_MAX_CHARS = 256 * 1024;

let installerPath: string | undefined;

/**
 * The ffmpeg binary VidGenie runs: the `VIDGENIE_FFMPEG` environment variable when it is set
 * (a system ffmpeg, say), otherwise the static build shipped inside the `@ffmpeg-installer/ffmpeg`
 * npm package. Nothing is downloaded at run time. Throws a clear error when neither is available.
 *
 * @example
 * ```ts
 * import { ffmpegPath } from '@vidgenie/nodes';
 * console.log(ffmpegPath()); // e.g. …/node_modules/@ffmpeg-installer/linux-x64/ffmpeg
 * ```
 */
export function ffmpegPath(): string {
  const fromEnv = process.env.VIDGENIE_FFMPEG;
  if (fromEnv !== undefined && fromEnv.trim() !== '') return fromEnv;
  if (installerPath === undefined) {
    try {
      // Loaded lazily: the installer throws at import time on platforms it has no binary for.
      const installer = createRequire(import.meta.url)('@ffmpeg-installer/ffmpeg') as { path: string };
      installerPath = installer.path;
    } catch (error) {
      throw new Error(
        `No ffmpeg binary: @ffmpeg-installer/ffmpeg has none for ${process.platform}-${process.arch} ` +
          `(${String(error)}). Install ffmpeg and set VIDGENIE_FFMPEG to its path.`,
        { cause: error },
      );
    }
  }
  return installerPath;
}

/** Options of {@link runFfmpeg}. @internal */
export interface RunFfmpegOptions {
  /** Aborting kills ffmpeg and rejects with the signal's reason. */
  readonly signal?: AbortSignal | undefined;
  /** Receives stdout as it arrives (for `-progress pipe:1`); without it stdout is collected. */
  readonly onStdout?: ((chunk: Buffer) => void) | undefined;
}

/** What a successful ffmpeg run printed. @internal */
export interface FfmpegOutput {
  /** Collected stdout (empty when `onStdout` was given). */
  readonly stdout: Buffer;
  /** stderr (its last 256 KiB at most). */
  readonly stderr: string;
}

/**
 * Runs ffmpeg with `args` (no shell; `-hide_banner -nostdin` are prepended), started from a helper
 * thread so that forking never stalls the event loop ({@link spawnOffThread}), once one of the
 * process's ffmpeg slots is free (`VIDGENIE_FFMPEG_CONCURRENCY`, one per core by default; calls wait
 * their turn, those under a signal that ran ffmpeg before keeping its first call's turn), at a
 * lower priority than this process (`VIDGENIE_FFMPEG_NICE`, +10 by default).
 * Resolves with its output when it exits with 0; rejects with an error quoting the last lines of
 * stderr otherwise. Aborting `signal` takes a waiting call out of the queue, or kills a running
 * process (SIGKILL), and rejects with the signal's reason. @internal
 */
export async function runFfmpeg(
  args: readonly string[],
  options: RunFfmpegOptions = {},
): Promise<FfmpegOutput> {
  const { signal } = options;
  signal?.throwIfAborted();
  const priority = -turnOf(signal);
  return ffmpegSlots().add(
    () => startFfmpeg(args, options),
    signal === undefined ? { priority } : { priority, signal },
  );
}

/** The turn of each signal's first ffmpeg call (a node attempt's or a run's work shares one). */
const turns = new WeakMap<AbortSignal, number>();
let lastTurn = 0;

/**
 * The slot queue's order: calls made under the same signal keep the turn of its first call, so a
 * node's second ffmpeg step (a poster frame after a probe) waits only for work that began before
 * its node, not behind every node that started since. First come, first served by piece of work:
 * under load the earliest renders end first, instead of all of them together at the end.
 */
function turnOf(signal: AbortSignal | undefined): number {
  const known = signal === undefined ? undefined : turns.get(signal);
  if (known !== undefined) return known;
  const turn = ++lastTurn;
  if (signal !== undefined) turns.set(signal, turn);
  return turn;
}

/** Starts ffmpeg now, whatever the slots: {@link runFfmpeg} without the queue. */
function startFfmpeg(args: readonly string[], options: RunFfmpegOptions): Promise<FfmpegOutput> {
  const { signal, onStdout } = options;
  return new Promise<FfmpegOutput>((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const binary = ffmpegPath();
    const stdout: Buffer[] = [];
    let stderr = '';
    let settled = false;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      fn();
    };
    const child = spawnOffThread(
      binary,
      ['-hide_banner', '-nostdin', ...args],
      {
        onStdout: (chunk) => {
          if (onStdout === undefined) stdout.push(chunk);
          else onStdout(chunk);
        },
        onStderr: (text) => {
          stderr += text;
          if (stderr.length > STDERR_MAX_CHARS) stderr = stderr.slice(-STDERR_MAX_CHARS / 2);
        },
        onError: (error) =>
          settle(() =>
            reject(
              new Error(
                `Could not start ffmpeg at "${binary}": ${error.message}. Set VIDGENIE_FFMPEG to a working ffmpeg.`,
                { cause: error },
              ),
            ),
          ),
        onClose: (code, killedBy) => {
          if (code === 0) {
            settle(() => resolve({ stdout: Buffer.concat(stdout), stderr }));
            return;
          }
          const status =
            code === null ? `was killed by ${killedBy ?? 'a signal'}` : `exited with code ${code}`;
          settle(() => reject(new Error(`ffmpeg ${status}:\n${stderrTail(stderr)}`)));
        },
      },
      { priority: ffmpegPriority() },
    );
    const onAbort = () => {
      child.kill();
      settle(() => reject(signal?.reason));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** The last lines of ffmpeg's stderr, for error messages. @internal */
export function stderrTail(stderr: string, lines = STDERR_TAIL_LINES): string {
  const kept = stderr
    .split(/\r?\n|\r/)
    .map((line) => line.trimEnd())
    .filter((line) => line !== '');
  return kept.length === 0 ? '(no output)' : kept.slice(-lines).join('\n');
}

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EngineError } from '@vidgenie/engine';

/**
 * Whether an abort means the provider's job is no longer wanted, so the provider should cancel it:
 * yes for a cancelled or stopped run and for a plain `AbortController.abort()`; no for an attempt
 * timeout (a retryable engine error: the next attempt polls the same job) and for a stale fence
 * (another worker took the run over and polls the job itself).
 */
export function abortWantsCancel(reason: unknown): boolean {
  if (reason instanceof EngineError) return !reason.retryable && reason.code !== 'STALE_FENCE';
  return true;
}

/**
 * Runs `work` in a fresh `vidgenie-XXXXXX` folder of `root` (default the OS temp dir) and removes
 * the folder afterwards, whatever happens. The folder's name plus `.mp4` is a free path beside
 * it, for a result that must outlive the folder.
 */
export async function withWorkFolder<T>(
  root: string | undefined,
  work: (folder: string) => Promise<T>,
): Promise<T> {
  const folder = await mkdtemp(join(root ?? tmpdir(), 'vidgenie-'));
  try {
    return await work(folder);
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}

/** Resolves when `promise` settles or after `ms`, whichever comes first; never rejects. */
export async function settleWithin(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    promise.then(
      () => {},
      () => {},
    ),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
    }),
  ]);
  clearTimeout(timer);
}

/** Keeps a prompt within `maxChars` UTF-16 code units, cutting at a word where it can. */
export function clipPrompt(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  const cut = text.slice(0, maxChars);
  const space = cut.lastIndexOf(' ');
  return (space > maxChars * 0.8 ? cut.slice(0, space) : cut).trimEnd();
}

/** A short camera-motion hint appended to prompts, for providers without a motion setting. */
export const MOTION_HINTS = Object.freeze({
  low: 'Subtle, slow camera movement.',
  medium: 'Smooth, moderate camera movement.',
  high: 'Dynamic, energetic camera movement.',
});

/** The longest reason quoted from a provider's answer. */
const MAX_REASON_CHARS = 300;

/**
 * A provider's reason for a message: on one line, at most 300 characters, without a final period
 * (provider error messages add their own punctuation).
 */
export function clipReason(text: string): string {
  const flat = text
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/[.\s]+$/, '');
  return flat.length > MAX_REASON_CHARS ? `${flat.slice(0, MAX_REASON_CHARS - 1)}…` : flat;
}

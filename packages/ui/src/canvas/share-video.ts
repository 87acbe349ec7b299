/**
 * Sharing the generated video: the Web Share API where the browser has it (the file itself when
 * the browser can share files, else the link), else the link copied to the clipboard.
 */

/** What is shared: the link, and the file behind it when it is small enough to share as a file. */
export interface ShareTarget {
  /** An absolute URL. */
  readonly url: string;
  readonly title: string;
  /** The video's size, to skip downloading a large file only to share it. */
  readonly fileSizeBytes: number;
  readonly fileName: string;
  readonly mimeType: string;
}

/** The browser features {@link shareVideo} uses (the real `navigator` and `fetch` in the app). */
export interface ShareEnvironment {
  readonly share?: (data: ShareData) => Promise<void>;
  readonly canShare?: (data: ShareData) => boolean;
  readonly writeText?: (text: string) => Promise<void>;
  readonly fetchFile?: (url: string) => Promise<Blob>;
}

/** How sharing ended: shared (the share sheet), copied (the link), cancelled by the user, or failed. */
export type ShareOutcome = 'shared' | 'copied' | 'cancelled' | 'failed';

/**
 * Files larger than this are shared as a link: the Web Share API needs the user's click to be
 * recent, and downloading a large video first would let it expire.
 */
export const MAX_SHARED_FILE_BYTES = 15_000_000;

const named = (error: unknown, name: string) =>
  typeof error === 'object' && error !== null && (error as { name?: unknown }).name === name;

/**
 * Shares the video: the file through `navigator.share` when `canShare({ files })` says the browser
 * can, else the link through `navigator.share`, else copies the link. A share the user dismisses is
 * `cancelled`; a share the browser refuses (e.g. the click is too old) falls back to copying.
 */
export async function shareVideo(target: ShareTarget, env: ShareEnvironment): Promise<ShareOutcome> {
  const copy = async (): Promise<ShareOutcome> => {
    if (env.writeText === undefined) return 'failed';
    try {
      await env.writeText(target.url);
      return 'copied';
    } catch {
      return 'failed';
    }
  };
  if (env.share === undefined) return copy();
  let data: ShareData = { title: target.title, url: target.url };
  if (
    env.canShare !== undefined &&
    env.fetchFile !== undefined &&
    typeof File === 'function' &&
    target.fileSizeBytes > 0 &&
    target.fileSizeBytes <= MAX_SHARED_FILE_BYTES
  ) {
    try {
      const blob = await env.fetchFile(target.url);
      const file = new File([blob], target.fileName, { type: target.mimeType });
      const withFile: ShareData = { title: target.title, files: [file] };
      if (env.canShare(withFile)) data = withFile;
    } catch {
      // The link is shared instead.
    }
  }
  try {
    await env.share(data);
    return 'shared';
  } catch (error) {
    if (named(error, 'AbortError')) return 'cancelled';
    return copy();
  }
}

/** The browser's own {@link ShareEnvironment}: whatever of it this browser has. */
export function browserShareEnvironment(): ShareEnvironment {
  const nav: Partial<Navigator> = typeof navigator === 'undefined' ? {} : navigator;
  return {
    ...(typeof nav.share === 'function'
      ? { share: (data: ShareData) => nav.share?.(data) ?? Promise.resolve() }
      : {}),
    ...(typeof nav.canShare === 'function'
      ? { canShare: (data: ShareData) => nav.canShare?.(data) ?? false }
      : {}),
    ...(nav.clipboard !== undefined && typeof nav.clipboard.writeText === 'function'
      ? { writeText: (text: string) => nav.clipboard?.writeText(text) ?? Promise.resolve() }
      : {}),
    fetchFile: async (url: string) => {
      const response = await fetch(url, { credentials: 'same-origin' });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      return response.blob();
    },
  };
}

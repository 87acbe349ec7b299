import { readFileSync, statSync } from 'node:fs';
import type { Page } from 'playwright-core';

/** The password every test account uses (long enough for the sign-up rules). */
export const TEST_PASSWORD = 'a-long-enough-password';

/** Signs up `email` through /signup and waits for the signed-in navigation. */
export async function signUp(page: Page, baseUrl: string, email: string): Promise<void> {
  await page.goto(`${baseUrl}/signup`);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(TEST_PASSWORD);
  await page.getByRole('button', { name: 'Sign up' }).click();
  await page.getByRole('navigation').getByRole('link', { name: 'Create' }).waitFor();
}

/** An answer read by the page's own `fetch` (so with that page's cookies). */
export interface PageAnswer {
  readonly status: number;
  readonly type: string | null;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  readonly json: unknown;
}

/**
 * Calls `url` with the page's `fetch` (its cookies, its Origin) and reads the answer. Event
 * streams are not read past their headers, so a stream that would stay open returns at once.
 */
export function pageRequest(
  page: Page,
  url: string,
  init: { readonly method?: string; readonly body?: unknown } = {},
): Promise<PageAnswer> {
  return page.evaluate(
    async ({ url, method, body }) => {
      const controller = new AbortController();
      const response = await fetch(url, {
        method,
        signal: controller.signal,
        headers: {
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          'idempotency-key': `test-${Date.now()}-${Math.random().toString(36).slice(2)}`,
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const type = response.headers.get('content-type');
      if (type?.includes('text/event-stream')) {
        controller.abort();
        return { status: response.status, type, json: undefined };
      }
      const text = await response.text();
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      return { status: response.status, type, json };
    },
    { url, method: init.method ?? 'GET', body: init.body },
  );
}

/** What a file on disk is, seen as a PNG: its size, whether it has the signature, its dimensions. */
export interface PngFileInfo {
  readonly bytes: number;
  readonly isPng: boolean;
  readonly width: number;
  readonly height: number;
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Reads `path` and reports its size, PNG signature and IHDR dimensions (0 when not a PNG). */
export function pngFileInfo(path: string): PngFileInfo {
  const bytes = statSync(path).size;
  const data = readFileSync(path);
  const isPng = data.length >= 24 && data.subarray(0, 8).equals(PNG_SIGNATURE);
  return {
    bytes,
    isPng,
    width: isPng ? data.readUInt32BE(16) : 0,
    height: isPng ? data.readUInt32BE(20) : 0,
  };
}

/** The top-level boxes of an MP4 (ISO BMFF) file, in order: their four-letter types. */
export function mp4BoxTypes(data: Buffer): string[] {
  const types: string[] = [];
  let offset = 0;
  while (offset + 8 <= data.length) {
    let size = data.readUInt32BE(offset);
    const type = data.toString('latin1', offset + 4, offset + 8);
    if (size === 1 && offset + 16 <= data.length) size = Number(data.readBigUInt64BE(offset + 8));
    else if (size === 0) size = data.length - offset;
    if (size < 8) break;
    types.push(type);
    offset += size;
  }
  return types;
}

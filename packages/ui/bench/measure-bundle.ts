import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { type FirstPageAsset, firstPageAssets } from './first-page-assets.ts';

/** One file of the first page with its sizes in bytes. */
export interface BundleFile {
  /** `document` for index.html itself, else how the HTML loads it. */
  readonly kind: FirstPageAsset['kind'] | 'document';
  readonly path: string;
  readonly raw: number;
  /** gzip, level 9. */
  readonly gzip: number;
  /** brotli, quality 11. */
  readonly brotli: number;
}

/** The first page's files and their totals. */
export interface BundleReport {
  readonly files: readonly BundleFile[];
  readonly total: { readonly raw: number; readonly gzip: number; readonly brotli: number };
}

function sizes(bytes: Buffer): { raw: number; gzip: number; brotli: number } {
  return {
    raw: bytes.length,
    gzip: gzipSync(bytes, { level: 9 }).length,
    brotli: brotliCompressSync(bytes, {
      params: {
        [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
        [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
      },
    }).length,
  };
}

/**
 * Measures what the first page of the built app downloads: `index.html` and every script, module
 * preload and stylesheet it declares (each counted once), read from `distDir`. Throws when a
 * declared file is missing or lives outside the build (an absolute `http(s)://` URL).
 */
export function measureFirstPageBundle(distDir: string): BundleReport {
  const htmlBytes = readFileSync(join(distDir, 'index.html'));
  const files: BundleFile[] = [{ kind: 'document', path: '/index.html', ...sizes(htmlBytes) }];
  const seen = new Set<string>();
  for (const asset of firstPageAssets(htmlBytes.toString('utf8'))) {
    if (/^[a-z]+:/i.test(asset.href) || asset.href.startsWith('//')) {
      throw new Error(`index.html loads ${asset.href} from elsewhere: the bench only measures dist/.`);
    }
    const path = new URL(asset.href, 'http://app.invalid/').pathname;
    if (seen.has(path)) continue;
    seen.add(path);
    files.push({ kind: asset.kind, path, ...sizes(readFileSync(join(distDir, path))) });
  }
  const total = files.reduce(
    (sum, file) => ({
      raw: sum.raw + file.raw,
      gzip: sum.gzip + file.gzip,
      brotli: sum.brotli + file.brotli,
    }),
    { raw: 0, gzip: 0, brotli: 0 },
  );
  return { files, total };
}

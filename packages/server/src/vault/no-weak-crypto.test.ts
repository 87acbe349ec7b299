import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../..', import.meta.url));
const self = fileURLToPath(import.meta.url);

/** What must never appear in source: removed or unauthenticated ciphers, crypto-js, MD5 for crypto. */
const EVERYWHERE: readonly (readonly [string, RegExp])[] = [
  ['createCipher( (removed: MD5 key derivation, static IV)', /\bcreateCipher\s*\(/],
  ['createDecipher( (removed)', /\bcreateDecipher\s*\(/],
  ['crypto-js', /crypto-js|cryptojs/i],
  ['ECB mode', /aes-\d{3}-ecb|\becb\b/i],
];
/** Only in files that use `node:crypto` (MD5 may appear elsewhere, e.g. an S3 checksum header name). */
const IN_CRYPTO_FILES: readonly (readonly [string, RegExp])[] = [
  ['MD5', /\bmd5\b/i],
  ['a cipher other than AES-256-GCM', /createCipheriv\s*\(\s*['"`](?!aes-256-gcm['"`])/],
  ['a decipher other than AES-256-GCM', /createDecipheriv\s*\(\s*['"`](?!aes-256-gcm['"`])/],
];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (entry.name === 'node_modules' || entry.name === 'dist') return [];
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return /\.(ts|tsx|js|mjs|cjs)$/.test(entry.name) && path !== self ? [path] : [];
  });
}

/** The forbidden patterns a text contains. */
function findings(text: string): string[] {
  const crypto = /from\s+['"](node:)?crypto['"]|require\(\s*['"](node:)?crypto['"]\s*\)/.test(text);
  return [...EVERYWHERE, ...(crypto ? IN_CRYPTO_FILES : [])]
    .filter(([, pattern]) => pattern.test(text))
    .map(([name]) => name);
}

describe('static scan for weak cryptography', () => {
  it('finds no removed ciphers, crypto-js, ECB or MD5 in any package source', () => {
    const packages = readdirSync(join(root, 'packages'));
    const files = packages.flatMap((name) => {
      try {
        return sourceFiles(join(root, 'packages', name, 'src'));
      } catch {
        return [];
      }
    });
    expect(files.length).toBeGreaterThan(50);
    const hits = files.flatMap((file) =>
      findings(readFileSync(file, 'utf8')).map((name) => `${relative(root, file)}: ${name}`),
    );
    expect(hits).toEqual([]);
  });

  it('would catch each pattern (the scan is not vacuous)', () => {
    const cryptoImport = "import { createHash } from 'node:crypto';\n";
    expect(findings(`crypto.${'create'}Cipher('aes-256-cbc', key)`)).toContain(
      'createCipher( (removed: MD5 key derivation, static IV)',
    );
    expect(findings(`crypto.${'create'}Decipher ('aes-256-cbc', key)`)).toContain(
      'createDecipher( (removed)',
    );
    expect(findings(`import AES from '${'crypto'}-js/aes';`)).toContain('crypto-js');
    expect(findings(`createCipheriv('aes-128-${'ecb'}', key, null)`)).toContain('ECB mode');
    expect(findings(`${cryptoImport}createHash('${'md'}5')`)).toContain('MD5');
    expect(findings(`${cryptoImport}createCipheriv('aes-256-cbc', key, iv)`)).toContain(
      'a cipher other than AES-256-GCM',
    );
    expect(findings(`${cryptoImport}createCipheriv('aes-256-gcm', key, iv)`)).toEqual([]);
    expect(findings(`const header = 'Content-MD5';`)).toEqual([]);
  });
});

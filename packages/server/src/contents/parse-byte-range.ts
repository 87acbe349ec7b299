/** One satisfiable byte range of an object, both ends included. */
export interface ByteRange {
  readonly start: number;
  readonly end: number;
}

/**
 * Reads an HTTP `Range` header (RFC 9110 §14.2) against an object of `size` bytes: a
 * {@link ByteRange} to answer with 206, `'unsatisfiable'` for 416 (the range starts at or past the
 * end, or a zero-length suffix), or undefined to answer the whole object with 200: no header, a unit
 * other than `bytes`, a malformed range, or several ranges (servers may ignore a Range header, and
 * browsers seeking media send one range). `bytes=500-` runs to the end, `bytes=-500` is the last
 * 500 bytes, and an end past the object is clamped to its last byte.
 *
 * @example
 * ```ts
 * import { parseByteRange } from '@vidgenie/server';
 * parseByteRange('bytes=0-99', 1000); // { start: 0, end: 99 }
 * parseByteRange('bytes=-100', 1000); // { start: 900, end: 999 }
 * parseByteRange('bytes=1000-', 1000); // 'unsatisfiable'
 * ```
 */
export function parseByteRange(
  header: string | undefined,
  size: number,
): ByteRange | 'unsatisfiable' | undefined {
  if (header === undefined) return undefined;
  const match = /^\s*bytes\s*=\s*(.*)$/i.exec(header);
  if (match === null) return undefined;
  const specs = (match[1] as string).split(',');
  if (specs.length !== 1) return undefined;
  const spec = /^\s*(\d*)\s*-\s*(\d*)\s*$/.exec(specs[0] as string);
  if (spec === null) return undefined;
  const [, first = '', last = ''] = spec;
  if (first === '' && last === '') return undefined;
  if (first === '') {
    // A suffix: the last N bytes.
    const length = Number(last);
    if (length === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - Math.min(length, size)), end: size - 1 };
  }
  const start = Number(first);
  if (!Number.isSafeInteger(start) || start >= size) return 'unsatisfiable';
  if (last === '') return { start, end: size - 1 };
  const end = Number(last);
  if (end < start) return undefined;
  return { start, end: Math.min(end, size - 1) };
}

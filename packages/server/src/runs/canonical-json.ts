/**
 * JSON with object keys sorted (recursively) and `undefined` members left out: two values that are
 * equal as JSON give the same text whatever their key order. Used to hash idempotent requests,
 * to compare node configs, and to answer stored responses byte for byte.
 * @internal
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item ?? null)).join(',')}]`;
  const record = value as Record<string, unknown>;
  const members = Object.keys(record)
    .filter((key) => record[key] !== undefined)
    .sort()
    .map((key) => `${JSON.stringify(key)}:${canonicalJson(record[key])}`);
  return `{${members.join(',')}}`;
}

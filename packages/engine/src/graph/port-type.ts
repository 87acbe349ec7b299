import stringify from 'safe-stable-stringify';
import { z } from 'zod';

const cache = new WeakMap<z.ZodType, string>();

/** The port type that accepts any value. */
export const ANY_PORT_TYPE = '*';

/**
 * A port's type, used to check that an edge connects compatible ports. A schema may name its type
 * with `.meta({ portType: 'image' })`; otherwise the type is the schema's canonical JSON Schema, so
 * structurally equal schemas are compatible. Optional and default wrappers are ignored.
 *
 * @example
 * ```ts
 * import { portTypeOf } from '@vidgenie/engine';
 * import { z } from 'zod';
 * portTypeOf(z.string().meta({ portType: 'text' })); // 'text'
 * ```
 */
export function portTypeOf(schema: z.ZodType): string {
  const hit = cache.get(schema);
  if (hit !== undefined) return hit;
  const inner = unwrap(schema);
  const named = inner.meta()?.portType ?? schema.meta()?.portType;
  let type: string;
  if (typeof named === 'string') type = named;
  else {
    const json = withoutAnnotations(z.toJSONSchema(inner, { unrepresentable: 'any', io: 'output' }));
    type = Object.keys(json).length === 0 ? ANY_PORT_TYPE : (stringify(json) ?? ANY_PORT_TYPE);
  }
  cache.set(schema, type);
  return type;
}

/**
 * Whether an output port of type `from` may feed an input port of type `to`.
 *
 * @example
 * ```ts
 * import { arePortTypesCompatible } from '@vidgenie/engine';
 * arePortTypesCompatible({ from: 'image', to: '*' }); // true
 * ```
 */
export function arePortTypesCompatible(args: { readonly from: string; readonly to: string }): boolean {
  return args.to === ANY_PORT_TYPE || args.from === ANY_PORT_TYPE || args.from === args.to;
}

/** Whether an input port may be left unconnected. */
export function isOptionalPort(schema: z.ZodType): boolean {
  return schema.safeParse(undefined).success;
}

/** JSON Schema keywords that describe a value for people without changing what it accepts. */
const ANNOTATIONS = new Set([
  '$schema',
  '$id',
  'title',
  'description',
  'examples',
  'default',
  '$comment',
  'deprecated',
  'readOnly',
  'writeOnly',
]);

/** Keywords whose value maps names (not keywords) to schemas. */
const NAMED_SCHEMAS = new Set([
  'properties',
  'patternProperties',
  '$defs',
  'definitions',
  'dependentSchemas',
]);

function withoutAnnotations(json: Record<string, unknown>): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(json)) {
    if (ANNOTATIONS.has(key)) continue;
    if (NAMED_SCHEMAS.has(key) && typeof value === 'object' && value !== null) {
      result[key] = Object.fromEntries(Object.entries(value).map(([name, schema]) => [name, clean(schema)]));
    } else result[key] = clean(value);
  }
  return result;
}

function clean(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(clean);
  if (typeof value === 'object' && value !== null)
    return withoutAnnotations(value as Record<string, unknown>);
  return value;
}

function unwrap(schema: z.ZodType): z.ZodType {
  let current: z.ZodType = schema;
  while (
    current instanceof z.ZodOptional ||
    current instanceof z.ZodDefault ||
    current instanceof z.ZodNullable ||
    current instanceof z.ZodPrefault
  ) {
    current = current.unwrap() as z.ZodType;
  }
  return current;
}

import { DuplicateNodeTypeError, UnknownNodeTypeError } from '../errors/registry-errors.ts';
import type { NodeDefinition } from './node-definition.ts';

/** A node definition of any type, as held by a registry. */
type AnyDef = NodeDefinition.Any;

/**
 * A read-only set of node definitions, typed by what it holds.
 *
 * @typeParam TDefs - the definitions, as a tuple or union
 */
export interface NodeRegistry<TDefs extends AnyDef = AnyDef> {
  /** The registered types, in registration order. */
  readonly types: readonly TDefs['type'][];
  /** Whether a type is registered. */
  has(type: string): type is TDefs['type'];
  /** The definition of a registered type. Throws `UnknownNodeTypeError` for others. */
  get<TType extends TDefs['type']>(type: TType): Extract<TDefs, { type: TType }>;
  get(type: string): AnyDef;
  /** Every definition. */
  list(): readonly TDefs[];
  /** A new registry with more definitions. Throws `DuplicateNodeTypeError` on a clash. */
  with<const TMore extends readonly AnyDef[]>(defs: TMore): NodeRegistry<TDefs | TMore[number]>;
}

/** The union of node definitions a registry holds. */
export type AnyNodeOf<TRegistry> = TRegistry extends NodeRegistry<infer D> ? D : never;

/**
 * Creates a registry from node definitions.
 *
 * @example
 * ```ts
 * import { createNodeRegistry, defineNode } from '@vidgenie/engine';
 * import { z } from 'zod';
 * const hello = defineNode({
 *   type: 'hello', version: 1, input: z.object({}), output: z.object({ text: z.string() }),
 *   config: z.object({ name: z.string() }), run: ({ config }) => ({ text: `Hello ${config.name}` }),
 * });
 * const registry = createNodeRegistry([hello]);
 * registry.get('hello').type; // 'hello'
 * ```
 */
export function createNodeRegistry<const TDefs extends readonly AnyDef[]>(
  defs: TDefs,
): NodeRegistry<TDefs[number]> {
  const byType = new Map<string, AnyDef>();
  for (const def of defs) {
    if (byType.has(def.type)) throw new DuplicateNodeTypeError(def.type);
    byType.set(def.type, def);
  }
  const types = Object.freeze([...byType.keys()]);
  const registry = {
    types,
    has: (type: string): type is TDefs[number]['type'] => byType.has(type),
    get: (type: string) => {
      const def = byType.get(type);
      if (def === undefined) throw new UnknownNodeTypeError(type, types);
      return def;
    },
    list: () => [...byType.values()],
    with: (more: readonly AnyDef[]) => createNodeRegistry([...byType.values(), ...more]),
  };
  return Object.freeze(registry) as unknown as NodeRegistry<TDefs[number]>;
}

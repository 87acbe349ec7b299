import { z } from 'zod';
import type { ProviderKind } from '../provider/provider-types.ts';

/** The schema of a media node's `provider` config field. */
export type ProviderIdField = z.ZodString | z.ZodDefault<z.ZodString>;

/**
 * The `provider` config field of a media node, from the ids of the registered providers of its
 * kind: one of them, defaulting to the first, with an error that lists the choices. Without ids
 * (`undefined`: not known yet), any string is accepted and the field may be absent. Browser-safe.
 *
 * @example
 * ```ts
 * import { providerIdField } from '@vidgenie/nodes/specs';
 * providerIdField('image', ['local-image']).parse(undefined); // 'local-image'
 * ```
 */
export function providerIdField(kind: ProviderKind, ids: readonly string[] | undefined): ProviderIdField {
  if (ids === undefined) return z.string().default('');
  const field = z.string().refine((id) => ids.includes(id), {
    error: `Choose a ${kind} provider: ${ids.join(', ') || 'none is registered'}.`,
  });
  return ids[0] === undefined ? field : field.default(ids[0]);
}

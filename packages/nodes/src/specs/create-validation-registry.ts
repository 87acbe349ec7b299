import { createNodeRegistry, defineNode, type ObjectSchema } from '@vidgenie/engine';
import { enhanceSpec } from '../nodes/enhance-spec.ts';
import { imageSpec } from '../nodes/image-spec.ts';
import type { NodeSpec } from '../nodes/node-spec.ts';
import { outputSpec } from '../nodes/output-spec.ts';
import { promptSpec } from '../nodes/prompt-spec.ts';
import { providerIdField } from '../nodes/provider-id-field.ts';
import { videoSpec } from '../nodes/video-spec.ts';
import type { ProviderKind } from '../provider/provider-types.ts';
import { ValidationOnlyError } from './validation-only-error.ts';

/** What a browser knows of a registered provider (e.g. from `GET /api/user/api-keys`). */
export interface ProviderDescriptor {
  readonly kind: ProviderKind;
  readonly id: string;
}

/** A spec made into an engine node whose `run` throws {@link ValidationOnlyError}. */
function validationOnly<
  const TType extends string,
  TInput extends ObjectSchema,
  TOutput extends ObjectSchema,
  TConfig extends ObjectSchema,
>(spec: NodeSpec<TType, TInput, TOutput, TConfig>) {
  return defineNode<TType, TInput, TOutput, TConfig>({
    ...spec,
    run: (): never => {
      throw new ValidationOnlyError(spec.type);
    },
  });
}

/**
 * An engine `NodeRegistry` of the five short-video nodes for validation only: the same schemas as
 * the server's nodes (so `validateGraph` finds the same problems: ports, types, configs), no cost,
 * no secrets, and a `run` that throws {@link ValidationOnlyError}. Browser-safe.
 *
 * `providers` are the registered providers; each media node's `provider` config must name one of
 * its kind. Without them (not loaded yet), `provider` fields accept any string.
 *
 * @example
 * ```ts
 * import { validateGraph } from '@vidgenie/engine';
 * import { createValidationRegistry } from '@vidgenie/nodes/specs';
 * const registry = createValidationRegistry({ providers: [{ kind: 'text', id: 'local-text' }] });
 * validateGraph({ version: 1, nodes: [{ id: 'p', type: 'prompt', config: { text: '' } }] }, registry);
 * // { ok: false, issues: [{ code: 'INVALID_CONFIG', nodeId: 'p', ... }] }
 * ```
 */
export function createValidationRegistry(args: { readonly providers?: readonly ProviderDescriptor[] } = {}) {
  const { providers } = args;
  const field = (kind: ProviderKind) =>
    providerIdField(
      kind,
      providers?.filter((p) => p.kind === kind).map((p) => p.id),
    );
  return createNodeRegistry([
    validationOnly(promptSpec),
    validationOnly(enhanceSpec(field('text'))),
    validationOnly(imageSpec(field('image'))),
    validationOnly(videoSpec(field('video'))),
    validationOnly(outputSpec),
  ]);
}

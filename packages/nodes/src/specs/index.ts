/**
 * `@vidgenie/nodes/specs`: the browser-safe part of VidGenie's five nodes (their types, texts and
 * zod schemas), the short-video template, and a validation-only engine registry built from the
 * specs, for building and checking graphs with `validateGraph` of `@vidgenie/engine` in a browser.
 * Imports nothing Node-only.
 *
 * @module
 */

export { enhanceSpec } from '../nodes/enhance-spec.ts';
export { imageSpec } from '../nodes/image-spec.ts';
export { defineNodeSpec, type NodeSpec } from '../nodes/node-spec.ts';
export { outputSpec } from '../nodes/output-spec.ts';
export { MAX_PROMPT_LENGTH, promptSpec } from '../nodes/prompt-spec.ts';
export { type ProviderIdField, providerIdField } from '../nodes/provider-id-field.ts';
export { videoSpec } from '../nodes/video-spec.ts';
export type { ProviderKind } from '../provider/provider-types.ts';
export { type ShortVideoTemplateOptions, shortVideoTemplate } from '../template/short-video-template.ts';
export { createValidationRegistry, type ProviderDescriptor } from './create-validation-registry.ts';
export { ValidationOnlyError } from './validation-only-error.ts';

import type { Provider, ProviderKind, ProviderRegistry } from '@vidgenie/nodes';

/** A provider that uses a key slot. */
export interface ProviderKeySlotProvider {
  readonly id: string;
  readonly displayName: string;
  readonly kind: ProviderKind;
}

/**
 * One key a user can save: the key name providers ask for (`openai`, `stability`, `runway`,
 * `gemini`), its label, and the providers that use it (`openai` serves `openai-text` and
 * `openai-image`).
 */
export interface ProviderKeySlot {
  /** The key name (`provider.key.secret`): the vault's `provider_id`. */
  readonly providerId: string;
  /** The label for Settings, e.g. "OpenAI key". */
  readonly label: string;
  readonly providers: readonly ProviderKeySlotProvider[];
  /** True when some provider of the slot can check a key (`validateKey`). */
  readonly testable: boolean;
}

/**
 * The key slots of a registry, in the order their first provider was registered. Local providers
 * need no key and have no slot.
 *
 * @example
 * ```ts
 * import { createOpenAiImageProvider, createOpenAiTextProvider, createProviderRegistry } from '@vidgenie/nodes';
 * import { providerKeySlots } from '@vidgenie/server';
 * const slots = providerKeySlots(createProviderRegistry([createOpenAiTextProvider(), createOpenAiImageProvider()]));
 * console.log(slots.map((slot) => `${slot.providerId}: ${slot.providers.map((p) => p.id).join(', ')}`));
 * // [ 'openai: openai-text, openai-image' ]
 * ```
 */
export function providerKeySlots(registry: ProviderRegistry): readonly ProviderKeySlot[] {
  const slots = new Map<string, { label: string; providers: Provider[] }>();
  for (const provider of registry.list()) {
    if (provider.key === undefined) continue;
    const slot = slots.get(provider.key.secret);
    if (slot === undefined)
      slots.set(provider.key.secret, { label: provider.key.label, providers: [provider] });
    else slot.providers.push(provider);
  }
  return Object.freeze(
    [...slots].map(([providerId, slot]) =>
      Object.freeze({
        providerId,
        label: slot.label,
        providers: Object.freeze(
          slot.providers.map((p) => Object.freeze({ id: p.id, displayName: p.displayName, kind: p.kind })),
        ),
        testable: slot.providers.some((p) => p.validateKey !== undefined),
      }),
    ),
  );
}

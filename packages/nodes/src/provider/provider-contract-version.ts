/**
 * The major version of the provider contract: the `Provider` interfaces (`TextProvider`,
 * `ImageProvider`, `VideoProvider`), what a provider's calls receive and must return, and the
 * errors they throw. A provider may declare the version it was written against as
 * `contractVersion`; `createProviderRegistry` refuses a provider built for a newer major than this
 * package implements, with {@link ProviderContractVersionError}. A provider without
 * `contractVersion` is taken to be built for version 1.
 *
 * Adding an optional member is not a new version; removing or changing a member, or making a
 * new member required, is. See `docs/versioning.md`.
 *
 * @example
 * ```ts
 * import { defineProvider, PROVIDER_CONTRACT_VERSION } from '@vidgenie/nodes';
 * import { z } from 'zod';
 * export const echo = defineProvider({
 *   id: 'echo', displayName: 'Echo (local)', kind: 'text', local: true,
 *   contractVersion: PROVIDER_CONTRACT_VERSION,
 *   config: z.object({}),
 *   price: () => 1,
 *   generate: async ({ prompt }) => ({ text: prompt, tokensUsed: 0, model: 'echo' }),
 * });
 * ```
 */
export const PROVIDER_CONTRACT_VERSION = 1;

/**
 * A provider declares a contract version this package cannot load: built for a newer major than
 * {@link PROVIDER_CONTRACT_VERSION}, or not a version at all. Thrown by `createProviderRegistry`.
 *
 * @example
 * ```ts
 * import { createProviderRegistry, ProviderContractVersionError } from '@vidgenie/nodes';
 * try {
 *   createProviderRegistry([]);
 * } catch (e) {
 *   if (e instanceof ProviderContractVersionError) console.log(e.code, e.providerId, e.contractVersion);
 * }
 * ```
 */
export class ProviderContractVersionError extends TypeError {
  override readonly name = 'ProviderContractVersionError';
  /** The machine-readable code. */
  readonly code = 'PROVIDER_CONTRACT_VERSION';
  /** The provider that was refused. */
  readonly providerId: string;
  /** The contract version it declared. */
  readonly contractVersion: unknown;
  /** The contract version this package implements. */
  readonly supported: number = PROVIDER_CONTRACT_VERSION;
  constructor(providerId: string, contractVersion: unknown) {
    super(
      isNewerMajor(contractVersion)
        ? `Provider "${providerId}" is built for provider contract version ${contractVersion}, newer than this @vidgenie/nodes implements (${PROVIDER_CONTRACT_VERSION}): upgrade @vidgenie/nodes to a release that implements version ${contractVersion}, or use a release of the provider built for version ${PROVIDER_CONTRACT_VERSION}.`
        : `Provider "${providerId}" declares contract version ${String(contractVersion)}; contract versions are whole numbers from 1 to ${PROVIDER_CONTRACT_VERSION}.`,
    );
    this.providerId = providerId;
    this.contractVersion = contractVersion;
  }
}

/**
 * Throws {@link ProviderContractVersionError} unless the provider's declared contract version (1
 * when absent) is one this package implements.
 * @internal
 */
export function checkProviderContract(provider: {
  readonly id: string;
  readonly contractVersion?: unknown;
}): void {
  const version = provider.contractVersion;
  if (version === undefined) return;
  if (
    typeof version === 'number' &&
    Number.isSafeInteger(version) &&
    version >= 1 &&
    version <= PROVIDER_CONTRACT_VERSION
  )
    return;
  throw new ProviderContractVersionError(provider.id, version);
}

function isNewerMajor(version: unknown): version is number {
  return typeof version === 'number' && Number.isSafeInteger(version) && version > PROVIDER_CONTRACT_VERSION;
}

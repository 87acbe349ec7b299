import OpenAI from 'openai';
import type { ProviderIdentity } from '../../provider/provider-errors.ts';
import { ProviderRejectedError } from '../../provider/provider-errors.ts';
import type { KeyValidation } from '../../provider/provider-types.ts';
import { classifyOpenAiError } from './map-openai-error.ts';

/** Options shared by the OpenAI providers. */
export interface OpenAiProviderOptions {
  /**
   * The API's base URL, including `/v1`. Default `https://api.openai.com/v1` (the `OPENAI_BASE_URL`
   * variable is deliberately ignored: a user's key only goes where the deployment says).
   */
  readonly baseURL?: string | undefined;
  /** How long one call may take, in ms, before it fails as a timeout. */
  readonly timeoutMs?: number;
}

/** The OpenAI API. */
export const OPENAI_BASE_URL = 'https://api.openai.com/v1';
/** The secret and the label of the user's OpenAI key, shared by both OpenAI providers. */
export const OPENAI_KEY = Object.freeze({ secret: 'openai', label: 'OpenAI key' });
/** Key checks are one small GET; they should not keep Settings waiting. */
const VALIDATE_TIMEOUT_MS = 15_000;

/**
 * An OpenAI client for one call with the user's key. Retries are off (`maxRetries: 0`): the engine
 * retries failed nodes itself, honouring Retry-After, so SDK retries would multiply attempts and
 * hide the 429s. Organization, project and the other `OPENAI_*` variables of the server are not
 * picked up: with BYOK they belong to the deployment, not to the user's key. @internal
 */
export function createOpenAiClient(args: {
  readonly apiKey: string | undefined;
  readonly provider: ProviderIdentity;
  readonly baseURL: string | undefined;
  readonly timeoutMs: number;
}): OpenAI {
  if (args.apiKey === undefined || args.apiKey.trim() === '') {
    throw new ProviderRejectedError(`Add your OpenAI key in Settings to use ${args.provider.displayName}.`, {
      failure: 'invalid_key',
      providerId: args.provider.id,
    });
  }
  return new OpenAI({
    apiKey: args.apiKey,
    baseURL: args.baseURL ?? OPENAI_BASE_URL,
    organization: null,
    project: null,
    adminAPIKey: null,
    webhookSecret: null,
    maxRetries: 0,
    timeout: args.timeoutMs,
  });
}

/** The sentence Settings shows for a key that could not be confirmed. */
function validationReason(failure: ReturnType<typeof classifyOpenAiError>): string {
  switch (failure.failure) {
    case 'invalid_key':
      return failure.status === 403
        ? 'OpenAI refused access with this key: it may lack permissions, or OpenAI may not be available in your region.'
        : 'OpenAI rejected this key.';
    case 'quota_exhausted':
      return 'OpenAI accepted this key, but the account has no quota or credit left: check your plan and billing with OpenAI.';
    case 'rate_limited':
      return 'OpenAI is limiting requests right now, so the key could not be checked: try again in a moment.';
    case 'timeout':
      return 'OpenAI did not answer in time, so the key could not be checked: try again.';
    case 'unavailable':
      return failure.status === undefined
        ? 'Could not reach OpenAI to check the key: check the network connection and try again.'
        : `OpenAI is unavailable right now (HTTP ${failure.status}), so the key could not be checked: try again later.`;
    case 'malformed_response':
      return 'OpenAI sent an answer we could not read, so the key could not be checked: try again.';
    case 'content_rejected':
    case 'bad_request':
      return `OpenAI refused the key check${failure.status === undefined ? '' : ` (HTTP ${failure.status})`}${
        failure.reason === undefined ? '' : `: ${failure.reason}`
      }.`;
  }
}

/**
 * Checks a key with OpenAI's cheapest authenticated call, `GET /v1/models` (the first page of
 * `client.models.list()`; it costs nothing). 200 → valid; anything else → invalid with a sentence
 * a person understands (a rejected key, no quota, OpenAI unreachable or unavailable...): a key is
 * never reported valid unless OpenAI accepted it. An aborted `signal` rejects with its reason.
 * @internal
 */
export async function validateOpenAiKey(args: {
  readonly key: string;
  readonly signal: AbortSignal;
  readonly provider: ProviderIdentity;
  readonly baseURL: string | undefined;
  readonly timeoutMs: number | undefined;
}): Promise<KeyValidation> {
  const { key, signal } = args;
  signal.throwIfAborted();
  if (key.trim() === '') return { valid: false, reason: 'Enter an OpenAI key.' };
  const client = createOpenAiClient({
    apiKey: key,
    provider: args.provider,
    baseURL: args.baseURL,
    timeoutMs: Math.min(args.timeoutMs ?? VALIDATE_TIMEOUT_MS, VALIDATE_TIMEOUT_MS),
  });
  try {
    const page = await client.models.list({ signal });
    // A models list says `object: "list"`; anything else is not OpenAI's answer.
    if (page.object !== 'list') return validationFailure({ failure: 'malformed_response' });
    return { valid: true };
  } catch (error) {
    if (signal.aborted) throw signal.reason ?? error;
    return validationFailure(classifyOpenAiError(error, key));
  }
}

function validationFailure(failure: ReturnType<typeof classifyOpenAiError>): KeyValidation {
  return { valid: false, reason: validationReason(failure) };
}

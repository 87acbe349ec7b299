import { z } from 'zod';
import { defineProvider } from '../../provider/define-provider.ts';
import { CREDIT_PRICES } from '../../provider/pricing.ts';
import type { ProviderIdentity } from '../../provider/provider-errors.ts';
import { providerError } from '../../provider/provider-errors.ts';
import type { TextProvider } from '../../provider/provider-types.ts';
import { mapOpenAiError, OpenAiShapeError, reasonFrom } from './map-openai-error.ts';
import {
  createOpenAiClient,
  OPENAI_KEY,
  type OpenAiProviderOptions,
  validateOpenAiKey,
} from './openai-client.ts';

/**
 * The default chat model: `gpt-5.4-mini`, a current, fast and inexpensive model that follows
 * instructions well. Like every GPT-5.1+ model it defaults to no reasoning, which is what lets it
 * accept the PRD's temperature of 0.7 (GPT-5, GPT-5 mini and the o-series only accept 1). It is
 * configuration: a deployment or a node changes it with `options.model`.
 */
export const DEFAULT_OPENAI_TEXT_MODEL = 'gpt-5.4-mini';

/**
 * The enhancer's instructions (PRD §6.1), in English so every model reads them the same way; the
 * model answers in the language of the creator's prompt.
 */
export const OPENAI_ENHANCE_SYSTEM_PROMPT = [
  'You are an expert in prompts for AI image and video generation.',
  "Improve the user's prompt to get the best possible results from image and video models.",
  "Keep the user's idea and subject, and add details about visual style, lighting, composition, mood and quality.",
  'Keep the prompt concise but precise: at most 200 words.',
  "Always answer in the same language as the user's prompt: a prompt in French gets an answer in French.",
  'Reply with the improved prompt only, without any introduction, explanation, title or quotes.',
].join('\n');

/** How long an enhancement may take by default. */
const DEFAULT_TIMEOUT_MS = 60_000;

/** The config of the OpenAI text provider (a node's `options`). */
export const openAiTextConfig = z.object({
  /** The chat model id. */
  model: z.string().trim().min(1).default(DEFAULT_OPENAI_TEXT_MODEL),
  /** Sampling temperature (PRD: 0.7). Reasoning models only accept 1. */
  temperature: z.number().min(0).max(2).default(0.7),
  /** The answer's token budget: 200 words fit well within it, in French too. */
  maxOutputTokens: z.number().int().min(16).max(4096).default(600),
});

/** The part of a chat completion we read; the SDK does not check answers, so we do. */
const ChatCompletionShape = z.object({
  model: z.string().optional(),
  choices: z
    .array(
      z.object({
        finish_reason: z.string().nullable().optional(),
        message: z.object({
          content: z.string().nullable().optional(),
          refusal: z.string().nullable().optional(),
        }),
      }),
    )
    .min(1),
  usage: z.object({ total_tokens: z.number().nonnegative() }).nullable().optional(),
});

/**
 * Makes the OpenAI prompt enhancer (`openai-text`): one Chat Completions call with the PRD's
 * instructions ({@link OPENAI_ENHANCE_SYSTEM_PROMPT}: style, lighting, composition, mood and quality,
 * concise, at most ~200 words, in the prompt's language) at temperature 0.7, on the user's key
 * (secret `openai`). Config: `model` (default {@link DEFAULT_OPENAI_TEXT_MODEL}), `temperature`,
 * `maxOutputTokens`. It returns the answer, the tokens billed by OpenAI (`usage.total_tokens`) and
 * the model that answered. Failures become provider errors (a rejected key is not retried, a 429
 * is retried after OpenAI's delay...); the key never appears in them. Aborting `signal` aborts the
 * request and rejects with the signal's reason.
 *
 * @example
 * ```ts
 * import { createOpenAiTextProvider } from '@vidgenie/nodes';
 * const openai = createOpenAiTextProvider();
 * const result = await openai.generate(
 *   { prompt: 'un renard roux dans la neige' },
 *   { config: openai.config.parse({}), apiKey: process.env.OPENAI_KEY, signal: AbortSignal.timeout(60_000), progress: () => {} },
 * );
 * console.log(result.model, result.tokensUsed, result.text);
 * ```
 */
export function createOpenAiTextProvider(
  options: OpenAiProviderOptions = {},
): TextProvider<typeof openAiTextConfig> {
  const identity: ProviderIdentity = { id: 'openai-text', displayName: 'OpenAI', keyLabel: OPENAI_KEY.label };
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return defineProvider({
    id: identity.id,
    displayName: identity.displayName,
    kind: 'text',
    local: false,
    key: OPENAI_KEY,
    config: openAiTextConfig,
    price: () => CREDIT_PRICES.enhance,
    validateKey: (key, { signal }) =>
      validateOpenAiKey({ key, signal, provider: identity, baseURL: options.baseURL, timeoutMs }),
    async generate({ prompt }, { config, apiKey, signal, progress }) {
      signal.throwIfAborted();
      try {
        const client = createOpenAiClient({
          apiKey,
          provider: identity,
          baseURL: options.baseURL,
          timeoutMs,
        });
        progress(0.05, `Asking ${config.model}`);
        const raw: unknown = await client.chat.completions.create(
          {
            model: config.model,
            messages: [
              { role: 'system', content: OPENAI_ENHANCE_SYSTEM_PROMPT },
              { role: 'user', content: prompt },
            ],
            temperature: config.temperature,
            max_completion_tokens: config.maxOutputTokens,
          },
          { signal },
        );
        const parsed = ChatCompletionShape.safeParse(raw);
        if (!parsed.success) throw new OpenAiShapeError('the answer has no choices');
        const completion = parsed.data;
        const choice = completion.choices[0]!;
        const refusal = reasonFrom(choice.message.refusal, apiKey);
        if (refusal !== undefined) {
          throw providerError({ provider: identity, failure: 'content_rejected', reason: refusal });
        }
        if (choice.finish_reason === 'content_filter') {
          throw providerError({
            provider: identity,
            failure: 'content_rejected',
            reason: 'its content filter withheld the answer',
          });
        }
        const text = (choice.message.content ?? '').trim();
        if (text === '') throw new OpenAiShapeError('the answer was empty');
        progress(1);
        return {
          text,
          tokensUsed: completion.usage?.total_tokens ?? 0,
          model: completion.model ?? config.model,
        };
      } catch (error) {
        throw mapOpenAiError(error, { provider: identity, apiKey, signal });
      }
    },
  });
}

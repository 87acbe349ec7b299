import {
  createProviderRegistry,
  defineProvider,
  type ImageProvider,
  localProviders,
  type ProviderRegistry,
  providerError,
  shortVideoTemplate,
} from '@vidgenie/nodes';
import { expect } from 'vitest';
import { z } from 'zod';
import type { TestUser } from './test-app.ts';

/** What the flaky image provider does on its next calls. */
export type FlakyMode = 'ok' | 'reject' | 'rate-limit-once';

/** The id of {@link opsProviders}' flaky image provider. */
export const FLAKY_IMAGE = 'flaky-image';

/**
 * The local providers plus `flaky-image`, a local image provider that draws like `local-image`,
 * refuses the prompt (`content_rejected`, not retried) or answers one `rate_limited` before
 * drawing, as `mode` says.
 */
export function opsProviders(): { providers: ProviderRegistry; mode: FlakyMode } {
  const state: { providers: ProviderRegistry; mode: FlakyMode } = {
    providers: createProviderRegistry([]),
    mode: 'ok',
  };
  const identity = { id: FLAKY_IMAGE, displayName: 'Flaky' };
  const localImageProvider = localProviders().find((p): p is ImageProvider => p.kind === 'image');
  if (localImageProvider === undefined) throw new Error('no local image provider');
  let limited = false;
  const flaky = defineProvider({
    id: FLAKY_IMAGE,
    displayName: 'Flaky',
    kind: 'image',
    local: true,
    config: z.object({}),
    capabilities: localImageProvider.capabilities,
    price: ({ size }) => localImageProvider.price({ size }),
    generate: (request, ctx) => {
      if (state.mode === 'reject') throw providerError({ provider: identity, failure: 'content_rejected' });
      if (state.mode === 'rate-limit-once' && !limited) {
        limited = true;
        throw providerError({ provider: identity, failure: 'rate_limited', retryAfterMs: 1 });
      }
      return localImageProvider.generate(request, { ...ctx, config: {} });
    },
  });
  state.providers = createProviderRegistry([...localProviders(), flaky]);
  return state;
}

/** The short-video template drawing with the flaky image provider. */
export function flakyTemplate(prompt: string) {
  return shortVideoTemplate({ prompt, imageProvider: FLAKY_IMAGE, durationSeconds: 8 });
}

/** A run's status as the API reports it. */
export interface RunStatus {
  readonly status: string;
  readonly cost: { readonly reserved: number; readonly captured: number };
  readonly nodes: readonly { readonly nodeId: string; readonly status: string; readonly cost: number }[];
}

/** Has `user` run the short-video template (8 s clip) on `prompt`: the accepted run's id. */
export async function acceptTemplateRun(user: TestUser, prompt: string): Promise<string> {
  const response = await user.request('POST', '/api/workflow/execute', {
    graph: shortVideoTemplate({ durationSeconds: 8 }),
    initialPrompt: prompt,
  });
  expect(response.status).toBe(202);
  return ((await response.json()) as { runId: string }).runId;
}

/** Executes a graph for `user` and polls its status until the run has ended. */
export async function runToEnd(user: TestUser, graph: unknown): Promise<RunStatus & { runId: string }> {
  const accepted = await user.request('POST', '/api/workflow/execute', { graph });
  expect(accepted.status).toBe(202);
  const { runId } = (await accepted.json()) as { runId: string };
  const deadline = Date.now() + 90_000;
  for (;;) {
    const body = (await (await user.request('GET', `/api/workflow/status/${runId}`)).json()) as RunStatus;
    if (!['queued', 'running'].includes(body.status)) return { ...body, runId };
    if (Date.now() > deadline) throw new Error(`run ${runId} still ${body.status}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Retries `check` (an assertion) until it passes or `timeoutMs` ends; returns its value. */
export async function eventually<T>(check: () => Promise<T>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/**
 * The value of one sample in a Prometheus text exposition (labels in any order), or undefined.
 *
 * @example metricValue(text, 'vidgenie_runs_finished_total', { status: 'completed' })
 */
export function metricValue(
  text: string,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (match === null || match[1] !== name) continue;
    const found = Object.fromEntries(
      [...(match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map((m) => [
        m[1],
        m[2],
      ]),
    );
    if (
      Object.keys(found).length === Object.keys(labels).length &&
      Object.entries(labels).every(([key, value]) => found[key] === value)
    ) {
      return Number(match[3]);
    }
  }
  return undefined;
}

import { createStore } from 'jotai';
import { describe, expect, it } from 'vitest';
import { graphAtom } from '../atoms/graph.ts';
import { providerKeysAtom } from '../atoms/keys.ts';
import { graphIssuesAtom, graphValidationReadyAtom } from './graph-issues-atom.ts';
import { shortVideoGraph } from './short-video-graph.ts';

describe('graphIssuesAtom (the canvas’s issues, from the lazily loaded engine validation)', () => {
  it('becomes ready, then explains an empty prompt and an unknown provider on their nodes', async () => {
    const store = createStore();
    store.sub(graphIssuesAtom, () => undefined);
    await expect.poll(() => store.get(graphValidationReadyAtom)).toBe(true);
    // zod is told not to probe for eval (the app's CSP forbids it).
    expect((globalThis as { __zod_globalConfig?: { jitless?: boolean } }).__zod_globalConfig?.jitless).toBe(
      true,
    );

    store.set(graphAtom, shortVideoGraph({ prompt: '' }));
    expect(store.get(graphIssuesAtom).map((issue) => `${issue.code}:${issue.nodeId}`)).toEqual([
      'INVALID_CONFIG:prompt',
    ]);

    store.set(graphAtom, shortVideoGraph({ prompt: 'a fox', textProvider: 'openai-text' }));
    expect(store.get(graphIssuesAtom)).toEqual([]);
    store.set(providerKeysAtom, { keys: [], slots: [] });
    expect(store.get(graphIssuesAtom).map((issue) => `${issue.code}:${issue.nodeId}`)).toEqual([
      'INVALID_CONFIG:enhance',
    ]);
  });
});

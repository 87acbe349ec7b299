import { createStore } from 'jotai';
import { describe, expect, it, vi } from 'vitest';
import { graphAtom } from '../atoms/graph.ts';
import { providerKeysAtom } from '../atoms/keys.ts';
import { graphIssuesAtom, graphValidationReadyAtom } from './graph-issues-atom.ts';
import { shortVideoGraph } from './short-video-graph.ts';

describe('graphIssuesAtom (the canvas’s issues, from the lazily loaded engine validation)', () => {
  it('becomes ready even when first read before the validation loaded and mounted after', async () => {
    // A fresh copy of the module, so the validation is surely still loading when first read.
    vi.resetModules();
    const fresh = await import('./graph-issues-atom.ts');
    const store = createStore();
    expect(store.get(fresh.graphValidationReadyAtom)).toBe(false); // the first render's read
    await fresh.graphValidationLoaded; // the chunk arrives before the component mounts
    store.sub(fresh.graphValidationReadyAtom, () => undefined); // the mount
    await expect.poll(() => store.get(fresh.graphValidationReadyAtom)).toBe(true);
  });

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

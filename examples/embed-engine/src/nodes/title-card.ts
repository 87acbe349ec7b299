/**
 * A node that renders a title card on the host's render farm. It shows the two features a node
 * needs to survive crashes cheaply:
 *
 * - `requireServices<...>()`: the node declares the host services it uses, so `ctx.services` is
 *   typed and `createEngine` does not compile unless the host provides them.
 * - durable state (`ctx.state`): the node stores the farm's job id *before* waiting on the job. If
 *   the process dies while waiting, the resumed node finds the id and re-attaches to the job instead
 *   of submitting (and paying for) a second one.
 */
import { defineNode, requireServices } from '@vidgenie/engine';
import { z } from 'zod';
import type { RenderFarm } from '../render-farm.ts';

export const titleCard = defineNode({
  type: 'card.ascii',
  version: 1,
  title: 'Title card',
  description: 'Renders a title and an optional subtitle as an ASCII title card.',
  input: z.object({
    title: z.string().meta({ portType: 'text' }),
    // An optional input may be left unconnected; the validator only requires the others.
    subtitle: z.string().meta({ portType: 'text' }).optional(),
  }),
  output: z.object({ art: z.string(), lines: z.number().int() }),
  config: z.object({
    width: z.number().int().min(16).max(80).default(40),
    border: z.enum(['#', '*', '=']).default('#'),
  }),
  // The state schema is checked when a resumed node reads its state back.
  state: z.object({ jobId: z.string() }),
  services: requireServices<{ renderFarm: RenderFarm }>(),
  // Wide cards cost more: the estimate depends on config, and the canvas can show it before a run.
  estimateCost: ({ config }) => (config.width > 60 ? 5 : 3),
  // Every card of every run shares the farm: per-key limits (see `keyConcurrency`) bound them together.
  concurrencyKey: () => 'render-farm',
  // Fewer, quicker retries than the engine default: the farm is local and failures are rare.
  retry: { maxAttempts: 2, initialDelayMs: 50 },
  async run({ input, config, state, services, progress, signal }) {
    const saved = state.get();
    let jobId: string;
    if (saved === undefined) {
      const lines = input.subtitle === undefined ? [input.title] : [input.title, input.subtitle];
      jobId = await services.renderFarm.submit({ lines, width: config.width, border: config.border });
      // Await the write: once it resolves the job id is in the checkpoint store, so a crash from
      // here on cannot lose it.
      await state.set({ jobId });
      progress(0.1, `submitted ${jobId}`);
    } else {
      jobId = saved.jobId;
      progress(0.1, `re-attached to ${jobId}`);
    }
    const art = await services.renderFarm.waitFor(jobId, {
      signal,
      onProgress: (fraction) => progress(0.1 + 0.9 * fraction, 'rendering'),
    });
    return { art, lines: art.split('\n').length };
  },
});

/**
 * A text node: writes a headline for a topic. A real one would call an LLM; this one is
 * deterministic so the demo's output is stable. It shows the everyday parts of a node:
 * zod schemas (which become ports and config), a cost, a secret, progress and cancellation.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { defineNode } from '@vidgenie/engine';
import { z } from 'zod';

export const headline = defineNode({
  // The type is what graphs refer to; bump `version` when the same input would give another output.
  type: 'text.headline',
  version: 1,
  title: 'Headline',
  description: 'Writes a short headline about a topic.',
  // No input ports: the topic comes from config, which the graph stores per node.
  input: z.object({}),
  // Output port `text`. Naming the port type ('text') lets the validator check edges by name rather
  // than by comparing schemas, so a `z.string()` that means "a URL" cannot feed a text input.
  output: z.object({ text: z.string().meta({ portType: 'text' }) }),
  config: z.object({
    topic: z.string().min(1),
    style: z.enum(['plain', 'shout']).default('plain'),
  }),
  // Credits per successful run. The engine sums these for the estimate and the credit hold.
  estimateCost: () => 1,
  // Declares which secrets this node will ask for, so a host can check it has them before a run.
  requiredSecrets: () => ['COPYWRITER_API_KEY'],
  // A copywriting call should never take long; a stuck attempt times out and is retried.
  timeoutMs: 2_000,
  async run({ config, progress, secrets, signal }) {
    // Secrets are resolved just in time by the host and never stored in checkpoints.
    const apiKey = await secrets.get('COPYWRITER_API_KEY');
    progress(0.5, `drafting (key …${apiKey.slice(-4)})`);
    // Pass `signal` to anything that waits: a cancelled run (or a timeout) aborts it.
    await sleep(5, undefined, { signal });
    const text =
      config.style === 'shout'
        ? `${config.topic.toUpperCase()}!`
        : `${config.topic.charAt(0).toUpperCase()}${config.topic.slice(1)}`;
    progress(1, 'polished');
    return { text };
  },
});

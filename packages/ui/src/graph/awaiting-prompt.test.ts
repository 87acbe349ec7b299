import { describe, expect, it } from 'vitest';
import { isAwaitingPrompt, withStandInPrompts } from './awaiting-prompt.ts';
import { shortVideoGraph } from './short-video-graph.ts';

describe('an empty prompt', () => {
  const empty = shortVideoGraph({ prompt: '  ' });
  const issue = { code: 'INVALID_CONFIG', nodeId: 'prompt', values: { message: 'x' } } as const;

  it('is awaited, not a mistake, only on a prompt step without text', () => {
    expect(isAwaitingPrompt(issue, empty)).toBe(true);
    expect(isAwaitingPrompt(issue, shortVideoGraph({ prompt: 'a fox' }))).toBe(false);
    expect(isAwaitingPrompt({ ...issue, nodeId: 'video' }, empty)).toBe(false);
    expect(isAwaitingPrompt({ ...issue, code: 'REQUIRED_INPUT_MISSING' }, empty)).toBe(false);
  });

  it('gets a stand-in text for the estimate; a written prompt is sent as it is', () => {
    const priced = withStandInPrompts(empty, 'your idea');
    expect(priced.nodes.find((node) => node.id === 'prompt')?.config).toMatchObject({ text: 'your idea' });
    expect(priced.nodes.filter((node) => node.id !== 'prompt')).toEqual(
      empty.nodes.filter((node) => node.id !== 'prompt'),
    );
    const written = shortVideoGraph({ prompt: 'a fox' });
    expect(withStandInPrompts(written, 'your idea')).toBe(written);
  });
});

import { describe, expect, it } from 'vitest';
import { provideTestContext } from '../../../test/provider-context.ts';
import { CREDIT_PRICES } from '../../provider/pricing.ts';
import { localTextProvider } from './local-text-provider.ts';

const enhance = async (prompt: string) => localTextProvider.generate({ prompt }, provideTestContext());
const words = (text: string) => text.split(/\s+/).filter(Boolean).length;

describe('local-text provider', () => {
  it('is a free-standing local text provider at the enhance price', () => {
    expect(localTextProvider).toMatchObject({ id: 'local-text', kind: 'text', local: true });
    expect(localTextProvider.displayName).toBe('Local enhancer (offline)');
    expect(localTextProvider.key).toBeUndefined();
    expect(localTextProvider.price()).toBe(CREDIT_PRICES.enhance);
  });

  it('is deterministic', async () => {
    const a = await enhance('a red fox in the snow at dawn');
    const b = await enhance('a red fox in the snow at dawn');
    expect(a).toEqual(b);
    expect(a.model).toBe('local-rules-v1');
  });

  it('keeps the idea in English and adds style, lighting, composition, mood, quality and 9:16 framing', async () => {
    const { text, tokensUsed } = await enhance('a red fox in the snow at dawn');
    expect(text.startsWith('A red fox in the snow at dawn.')).toBe(true);
    expect(text).toMatch(/dawn light/);
    expect(text).toMatch(/snow texture/);
    expect(text).toMatch(/Details: .*Composition: /s);
    expect(text).toMatch(/Mood: calm and hopeful/);
    expect(text).toMatch(/Highly detailed/);
    expect(text).toMatch(/Vertical 9:16 framing[^.]*\.$/);
    expect(tokensUsed).toBe(words('a red fox in the snow at dawn') + words(text));
  });

  it('answers French prompts in French', async () => {
    const { text } = await enhance("un renard roux dans la neige à l'aube");
    expect(text.startsWith("Un renard roux dans la neige à l'aube.")).toBe(true);
    expect(text).toMatch(/lumière dorée de l’aube/);
    expect(text).toMatch(/Ambiance : |Ambiance: /);
    expect(text).toMatch(/Cadrage vertical 9:16/);
    expect(text).not.toMatch(/Vertical 9:16 framing/);
  });

  it('picks lighting and composition from keywords', async () => {
    expect((await enhance('a lighthouse by the sea at night')).text).toMatch(
      /moonlight.*Details: horizon on the lower third/s,
    );
    expect((await enhance('a busy city street at sunset')).text).toMatch(/golden-hour.*leading lines/s);
    expect((await enhance('portrait of an old woman in a forest')).text).toMatch(/close-up portrait/);
    expect((await enhance('une forêt sous la pluie la nuit')).text).toMatch(/clair de lune.*pluie/s);
    expect((await enhance('a watercolor of a cat')).text).toMatch(/Keep the requested style/);
  });

  it('stays within 200 words for long prompts', async () => {
    const long = Array.from({ length: 180 }, (_, i) => `word${i}`).join(' ');
    const { text } = await enhance(long);
    expect(words(text)).toBeLessThanOrEqual(200);
    expect(text).toMatch(/Vertical 9:16 framing/);
  });

  it('honours an aborted signal', async () => {
    await expect(
      localTextProvider.generate({ prompt: 'x' }, provideTestContext(AbortSignal.abort(new Error('stop')))),
    ).rejects.toThrow('stop');
  });
});

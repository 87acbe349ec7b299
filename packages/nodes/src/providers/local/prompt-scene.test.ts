import { describe, expect, it } from 'vitest';
import { detectLanguage, hashString, readScene, seededRandom } from './prompt-scene.ts';

describe('prompt-scene', () => {
  it.each([
    ['a red fox in the snow at dawn', 'en'],
    ["un renard roux dans la neige à l'aube", 'fr'],
    ['une ville la nuit sous la pluie', 'fr'],
    ['the sea at night', 'en'],
    ['Tokyo', 'en'],
    ['forêt enchantée', 'fr'],
  ] as const)('detects the language of %j', (prompt, language) => {
    expect(detectLanguage(prompt)).toBe(language);
  });

  it('reads time, setting, weather and subject from keywords, accents or not', () => {
    expect(readScene('A red fox in the SNOW at dawn')).toMatchObject({
      time: 'dawn',
      setting: 'snow',
      timeFromPrompt: true,
    });
    expect(readScene('une forêt sous la pluie la nuit')).toMatchObject({
      time: 'night',
      setting: 'forest',
      weather: 'rain',
    });
    expect(readScene('neon city street')).toMatchObject({ setting: 'city', timeFromPrompt: false });
    expect(readScene('portrait of a sailor by the sea at sunset')).toMatchObject({
      setting: 'sea',
      time: 'sunset',
      portrait: true,
    });
    expect(readScene('astronaut in space')).toMatchObject({ setting: 'space', time: 'night' });
    expect(readScene('a watercolor of hills').styled).toBe(true);
  });

  it('seeds from the normalised prompt', () => {
    expect(readScene('A  cat ').seed).toBe(readScene('a cat').seed);
    expect(readScene('a cat').seed).not.toBe(readScene('a dog').seed);
    expect(hashString('abc')).toBe(hashString('abc'));
    const a = seededRandom(1);
    const b = seededRandom(1);
    const values = Array.from({ length: 5 }, () => a());
    expect(values).toEqual(Array.from({ length: 5 }, () => b()));
    for (const v of values) expect(v >= 0 && v < 1).toBe(true);
  });
});

import { z } from 'zod';
import { defineProvider } from '../../provider/define-provider.ts';
import { CREDIT_PRICES } from '../../provider/pricing.ts';
import {
  readScene,
  type Scene,
  type SceneSetting,
  type SceneTime,
  type SceneWeather,
} from './prompt-scene.ts';

/** The longest enhanced prompt, in words. */
const MAX_WORDS = 200;

type Phrases = Readonly<Record<'en' | 'fr', string>>;
const p = (en: string, fr: string): Phrases => ({ en, fr });

const LIGHTING: Readonly<Record<SceneTime, Phrases>> = {
  dawn: p(
    'soft golden dawn light low on the horizon, long gentle shadows',
    'douce lumière dorée de l’aube rasant l’horizon, longues ombres délicates',
  ),
  day: p(
    'bright natural daylight with soft diffused shadows',
    'lumière naturelle du jour, ombres douces et diffuses',
  ),
  sunset: p(
    'warm golden-hour backlight with a glowing rim light',
    'contre-jour chaud de l’heure dorée, liseré lumineux autour du sujet',
  ),
  night: p(
    'cool moonlight and soft ambient glow with delicate highlights',
    'clair de lune froid et douce lueur ambiante, reflets délicats',
  ),
};

const PALETTE: Readonly<Record<SceneTime, Phrases>> = {
  dawn: p('peach, rose and pale blue', 'pêche, rose et bleu pâle'),
  day: p('fresh greens, clear blues and warm whites', 'verts frais, bleus limpides et blancs chauds'),
  sunset: p('amber, coral and deep violet', 'ambre, corail et violet profond'),
  night: p('deep navy, teal and silver', 'bleu nuit, sarcelle et argent'),
};

const SETTING: Readonly<Record<SceneSetting, Phrases>> = {
  sea: p(
    'horizon on the lower third, waves leading the eye toward the subject, glistening reflections',
    'horizon au tiers inférieur, vagues guidant le regard vers le sujet, reflets scintillants sur l’eau',
  ),
  city: p(
    'strong leading lines of streets and facades, reflections on wet pavement',
    'lignes de fuite marquées des rues et des façades, reflets sur le pavé mouillé',
  ),
  forest: p(
    'light rays filtering through the canopy, layered depth from foreground leaves to misty trunks',
    'rayons de lumière filtrant à travers la canopée, profondeur en couches des feuillages aux troncs brumeux',
  ),
  mountains: p(
    'majestic layered peaks fading into atmospheric haze, strong sense of scale',
    'sommets majestueux en couches se fondant dans la brume, forte impression d’échelle',
  ),
  snow: p(
    'crisp snow texture, sparkling flakes and cold blue shadows',
    'texture de neige nette, flocons scintillants et ombres bleues froides',
  ),
  desert: p(
    'rippled dunes with sculpted shadows, shimmering heat haze',
    'dunes ondulées aux ombres sculptées, brume de chaleur miroitante',
  ),
  space: p(
    'vast starfield with glowing nebula clouds, deep cosmic depth',
    'champ d’étoiles immense, nébuleuses lumineuses, profondeur cosmique',
  ),
  hills: p(
    'rolling layered hills receding into soft haze, clear foreground subject',
    'collines ondulantes en couches se perdant dans une brume douce, sujet net au premier plan',
  ),
};

const PORTRAIT = p(
  'close-up portrait, shallow depth of field, soft key light on the face, eyes in sharp focus',
  'portrait rapproché, faible profondeur de champ, lumière douce sur le visage, regard parfaitement net',
);

const COMPOSITIONS: readonly Phrases[] = [
  p(
    'rule of thirds, subject in the upper third, clear depth from foreground to background',
    'règle des tiers, sujet dans le tiers supérieur, profondeur nette du premier plan à l’arrière-plan',
  ),
  p(
    'centered subject, symmetrical balance, layered depth and leading lines',
    'sujet centré, équilibre symétrique, profondeur en couches et lignes directrices',
  ),
  p(
    'slightly low angle giving a sense of scale, subject framed by its surroundings',
    'légère contre-plongée donnant une impression d’échelle, sujet encadré par le décor',
  ),
];

const MOOD: Readonly<Record<SceneTime, Phrases>> = {
  dawn: p('calm and hopeful', 'calme et pleine d’espoir'),
  day: p('joyful and vibrant', 'joyeuse et vibrante'),
  sunset: p('warm and nostalgic', 'chaleureuse et nostalgique'),
  night: p('mysterious and serene', 'mystérieuse et sereine'),
};

const WEATHER: Readonly<Record<Exclude<SceneWeather, 'clear'>, Phrases>> = {
  rain: p(
    'rain-soaked, glistening surfaces and falling droplets',
    'sous la pluie, surfaces luisantes et gouttes en suspension',
  ),
  fog: p('dreamy drifting fog softening the background', 'brume onirique adoucissant l’arrière-plan'),
  storm: p('dramatic storm clouds and flashes of lightning', 'nuages d’orage dramatiques et éclairs'),
};

const STYLES: readonly Phrases[] = [
  p('Cinematic photograph, 35mm lens', 'Photographie cinématographique, objectif 35 mm'),
  p('Painterly digital illustration', 'Illustration numérique picturale'),
  p('Cinematic film still, anamorphic look', 'Image de film, rendu anamorphique'),
];

/** Labels, and the colon and semicolon with French spacing. */
const LABELS = {
  en: {
    palette: 'palette of',
    details: 'Details',
    composition: 'Composition',
    mood: 'Mood',
    colon: ':',
    semi: ';',
  },
  fr: {
    palette: 'palette de',
    details: 'Détails',
    composition: 'Composition',
    mood: 'Ambiance',
    colon: ' :',
    semi: ' ;',
  },
} as const;
const KEEP_STYLE = p('Keep the requested style', 'Conserver le style demandé');

const QUALITY = p(
  'Highly detailed, sharp focus, rich textures, 4K quality.',
  'Très détaillé, netteté précise, textures riches, qualité 4K.',
);
const FRAMING = p(
  'Vertical 9:16 framing, subject centered with headroom, safe margins at top and bottom for captions.',
  'Cadrage vertical 9:16, sujet centré avec de l’air au-dessus, marges de sécurité en haut et en bas pour les sous-titres.',
);

/** Counts whitespace-separated words. */
function countWords(text: string): number {
  return text.split(/\s+/).filter((w) => w !== '').length;
}

/** The enhanced prompt for `prompt`: the idea, then details picked from its keywords. @internal */
export function enhancePrompt(prompt: string): string {
  const scene: Scene = readScene(prompt);
  const lang = scene.language;
  const labels = LABELS[lang];
  const style = scene.styled ? KEEP_STYLE[lang] : STYLES[scene.seed % STYLES.length]![lang];
  const composition = scene.portrait ? PORTRAIT : COMPOSITIONS[(scene.seed >>> 3) % COMPOSITIONS.length]!;
  const weather = scene.weather === 'clear' ? '' : `, ${WEATHER[scene.weather][lang]}`;
  const { colon, semi } = labels;
  const details = [
    `${style}, ${LIGHTING[scene.time][lang]}${weather}${semi} ${labels.palette} ${PALETTE[scene.time][lang]}.`,
    `${labels.details}${colon} ${SETTING[scene.setting][lang]}.`,
    `${labels.composition}${colon} ${composition[lang]}.`,
    `${labels.mood}${colon} ${MOOD[scene.time][lang]}.`,
    QUALITY[lang],
    FRAMING[lang],
  ].join(' ');

  let idea = prompt
    .trim()
    .replace(/\s+/g, ' ')
    .replace(/[\s.,;:!?…]+$/u, '');
  const room = MAX_WORDS - countWords(details);
  const ideaWords = idea.split(' ');
  if (ideaWords.length > room) idea = `${ideaWords.slice(0, room - 1).join(' ')}…`;
  idea = idea.charAt(0).toUpperCase() + idea.slice(1);
  return `${idea}. ${details}`;
}

/**
 * The offline prompt enhancer: deterministic rules, no model and no key. It answers in the
 * prompt’s language (French or English, from common words), keeps the idea and adds concise
 * style, lighting, palette, composition, mood and quality details chosen from its keywords (night,
 * dawn, sea, city, forest, portrait...), ending with vertical 9:16 framing cues; at most 200 words.
 * `tokensUsed` counts the words of the prompt and the answer.
 *
 * @example
 * ```ts
 * import { localProviders } from '@vidgenie/nodes';
 * const [text] = localProviders();
 * if (text?.kind === 'text') {
 *   const result = await text.generate(
 *     { prompt: 'a red fox in the snow at dawn' },
 *     { config: {}, apiKey: undefined, signal: new AbortController().signal, progress: () => {} },
 *   );
 *   console.log(result.model, result.text); // local-rules-v1 A red fox in the snow at dawn. …
 * }
 * ```
 */
export const localTextProvider = defineProvider({
  id: 'local-text',
  displayName: 'Local enhancer (offline)',
  kind: 'text',
  local: true,
  config: z.object({}),
  price: () => CREDIT_PRICES.enhance,
  async generate({ prompt }, { signal, progress }) {
    signal.throwIfAborted();
    const text = enhancePrompt(prompt);
    progress(1);
    return { text, tokensUsed: countWords(prompt) + countWords(text), model: 'local-rules-v1' };
  },
});

/**
 * What the offline providers read from a prompt: its language, the time of day, the setting and a
 * seed, all deterministic. Shared by the local text and image providers. @internal
 *
 * @module
 */

/** Time of day of a scene. @internal */
export type SceneTime = 'dawn' | 'day' | 'sunset' | 'night';
/** Landscape of a scene. @internal */
export type SceneSetting = 'sea' | 'city' | 'forest' | 'mountains' | 'snow' | 'desert' | 'space' | 'hills';
/** Weather of a scene. @internal */
export type SceneWeather = 'clear' | 'rain' | 'fog' | 'storm';

/** A prompt read by keywords. @internal */
export interface Scene {
  readonly language: 'en' | 'fr';
  readonly time: SceneTime;
  /** Whether the time came from a keyword (otherwise it was picked from the seed). */
  readonly timeFromPrompt: boolean;
  readonly setting: SceneSetting;
  readonly weather: SceneWeather;
  /** The prompt asks for a person or a close-up. */
  readonly portrait: boolean;
  /** The prompt names an art style (watercolor, anime...), which the enhancer then keeps. */
  readonly styled: boolean;
  /** A 32-bit hash of the normalised prompt. */
  readonly seed: number;
}

const TIME_WORDS: readonly (readonly [SceneTime, RegExp])[] = [
  [
    'night',
    /\b(night|nights|midnight|nocturnal|moon|moonlit|moonlight|stars?|starry|nuit|nuits|minuit|nocturne|lune|etoiles?|etoile)\b/,
  ],
  ['dawn', /\b(dawn|sunrise|daybreak|morning|aube|aurore|lever|matin|matinal)\b/],
  ['sunset', /\b(sunset|dusk|twilight|golden hour|evening|crepuscule|coucher|soir|soiree|couchant)\b/],
  ['day', /\b(day|daylight|noon|midday|sunny|summer|jour|journee|midi|ensoleille|soleil)\b/],
];

const SETTING_WORDS: readonly (readonly [SceneSetting, RegExp])[] = [
  ['space', /\b(space|galaxy|nebula|planet|cosmos|astronaut|espace|galaxie|nebuleuse|planete|astronaute)\b/],
  [
    'city',
    /\b(city|cities|street|streets|urban|downtown|skyline|building|buildings|neon|tokyo|paris|new york|ville|rue|rues|urbain|immeubles?|batiments?|neons?)\b/,
  ],
  [
    'sea',
    /\b(sea|ocean|beach|waves?|shore|coast|lake|river|harbor|harbour|mer|plage|vagues?|rivage|cote|lac|riviere|port)\b/,
  ],
  ['snow', /\b(snow|snowy|winter|ice|icy|frozen|glacier|neige|enneige|hiver|glace|gele|banquise)\b/],
  ['forest', /\b(forest|forests|woods|trees?|jungle|grove|foret|forets|bois|arbres?|sous-bois)\b/],
  [
    'mountains',
    /\b(mountains?|peaks?|alps|cliffs?|canyon|valley|montagnes?|sommets?|alpes|falaises?|vallee)\b/,
  ],
  ['desert', /\b(desert|dunes?|sahara|sand|sable|oasis)\b/],
];

const WEATHER_WORDS: readonly (readonly [SceneWeather, RegExp])[] = [
  ['storm', /\b(storm|stormy|thunder|lightning|tempete|orage|orageux|eclairs?)\b/],
  ['rain', /\b(rain|rainy|raining|drizzle|pluie|pluvieux|bruine)\b/],
  ['fog', /\b(fog|foggy|mist|misty|haze|brume|brouillard|brumeux)\b/],
];

const PORTRAIT_WORDS =
  /\b(portrait|face|selfie|close-?up|woman|man|girl|boy|person|people|child|visage|femme|homme|fille|garcon|personne|enfant|gros plan)\b/;
const STYLE_WORDS =
  /\b(watercolou?r|oil painting|anime|manga|cartoon|pixel art|3d render|low poly|sketch|comic|aquarelle|peinture|dessin anime|croquis|bande dessinee|illustration)\b/;

const FRENCH_WORDS = new Set(
  'le la les un une des du de et dans sur avec au aux est pour sous sans qui que ce cette ces mon ma mes son sa ses leur leurs nous vous il elle ils elles tres entre vers pres chez par'.split(
    ' ',
  ),
);
const ENGLISH_WORDS = new Set(
  'the a an of in on with and at to is are under for from by this that these his her its their into over near very between through'.split(
    ' ',
  ),
);

/** Lowercases and strips accents, so keywords match "forêt" as "foret". @internal */
export function normalizeText(text: string): string {
  return text
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase();
}

/** 32-bit FNV-1a hash of a string. @internal */
export function hashString(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** A small seeded PRNG (mulberry32) returning numbers in [0, 1). @internal */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * French or English, by counting common function words (and accented letters for French). Ties,
 * and prompts with neither, are English. @internal
 */
export function detectLanguage(prompt: string): 'en' | 'fr' {
  const lower = prompt.toLowerCase();
  let fr = (lower.match(/[àâçéèêëîïôûùüÿœ]/g)?.length ?? 0) * 0.5;
  fr += lower.match(/\b[ldjcnsqu]'\p{L}/gu)?.length ?? 0; // l'aube, d'un, qu'il
  let en = 0;
  for (const word of normalizeText(prompt).split(/[^a-z]+/)) {
    if (FRENCH_WORDS.has(word)) fr++;
    if (ENGLISH_WORDS.has(word)) en++;
  }
  return fr > en ? 'fr' : 'en';
}

/** Reads a prompt's language, time of day, setting, weather and seed. @internal */
export function readScene(prompt: string): Scene {
  const text = normalizeText(prompt.trim()).replace(/\s+/g, ' ');
  const seed = hashString(text);
  const find = <T>(table: readonly (readonly [T, RegExp])[]) =>
    table.find(([, words]) => words.test(text))?.[0];
  const time = find(TIME_WORDS);
  const setting = find(SETTING_WORDS) ?? 'hills';
  const times: readonly SceneTime[] = ['day', 'dawn', 'sunset', 'day', 'night'];
  return {
    language: detectLanguage(prompt),
    time: time ?? (setting === 'space' ? 'night' : (times[seed % times.length] ?? 'day')),
    timeFromPrompt: time !== undefined,
    setting,
    weather: find(WEATHER_WORDS) ?? 'clear',
    portrait: PORTRAIT_WORDS.test(text),
    styled: STYLE_WORDS.test(text),
    seed,
  };
}

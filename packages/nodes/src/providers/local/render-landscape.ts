import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Scene, SceneSetting, SceneTime } from './prompt-scene.ts';
import { seededRandom } from './prompt-scene.ts';

type RGB = readonly [number, number, number];

/** Sky colours (top, middle, horizon), sun or moon colour, its height and glow by time of day. */
const SKIES: Readonly<
  Record<SceneTime, { sky: readonly [RGB, RGB, RGB]; sun: RGB; sunY: number; glow: number }>
> = {
  dawn: {
    sky: [
      [42, 52, 110],
      [196, 120, 150],
      [255, 196, 150],
    ],
    sun: [255, 236, 200],
    sunY: 0.82,
    glow: 0.55,
  },
  day: {
    sky: [
      [38, 106, 196],
      [110, 170, 235],
      [210, 232, 250],
    ],
    sun: [255, 252, 235],
    sunY: 0.25,
    glow: 0.35,
  },
  sunset: {
    sky: [
      [30, 24, 80],
      [190, 70, 100],
      [255, 170, 90],
    ],
    sun: [255, 220, 150],
    sunY: 0.78,
    glow: 0.7,
  },
  night: {
    sky: [
      [4, 6, 20],
      [14, 24, 60],
      [40, 58, 110],
    ],
    sun: [230, 236, 255],
    sunY: 0.22,
    glow: 0.25,
  },
};
/** How the time of day tints the land. */
const LIGHT: Readonly<Record<SceneTime, RGB>> = {
  dawn: [0.8, 0.68, 0.75],
  day: [1, 1, 1],
  sunset: [0.78, 0.52, 0.5],
  night: [0.16, 0.2, 0.34],
};
/** The nearest layer's colour in daylight, per setting. */
const LAND: Readonly<Record<SceneSetting, RGB>> = {
  hills: [64, 124, 70],
  forest: [26, 82, 46],
  mountains: [74, 84, 108],
  snow: [226, 234, 246],
  desert: [214, 160, 98],
  sea: [214, 190, 140],
  city: [52, 56, 72],
  space: [58, 40, 84],
};
const BAYER = [0, 8, 2, 10, 12, 4, 14, 6, 3, 11, 1, 9, 15, 7, 13, 5].map((v) => v / 16 - 0.5);

interface Layer {
  readonly kind: 'land' | 'water' | 'city';
  /** The top edge, in pixels, of each column. */
  readonly ridge: Float32Array;
  /** Its colour, already faded into the horizon haze for far layers. */
  readonly colour: RGB;
  /** Where its shading (darker toward the bottom) starts: its highest point. */
  readonly top: number;
  /** City layers: the first column of each column's building, and a building id. */
  readonly start?: Int32Array;
  readonly id?: Int32Array;
}

const mix = (a: number, b: number, t: number) => a + (b - a) * t;
const mixRGB = (a: RGB, b: RGB, t: number): RGB => [
  mix(a[0], b[0], t),
  mix(a[1], b[1], t),
  mix(a[2], b[2], t),
];
const scale = (a: RGB, s: RGB): RGB => [a[0] * s[0], a[1] * s[1], a[2] * s[2]];
const clamp01 = (v: number) => Math.max(0, Math.min(1, v));

/** Deterministic [0, 1) from an integer. */
function hashInt(n: number): number {
  let h = Math.imul(n ^ 0x9e3779b9, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return ((h ^ (h >>> 16)) >>> 0) / 4294967296;
}

/** Smooth 1D fractal noise in [0, 1] from a seeded lattice. */
function makeNoise(random: () => number): (t: number) => number {
  const lattice = Float32Array.from({ length: 256 }, random);
  const at = (t: number) => {
    const i = Math.floor(t);
    const f = t - i;
    const a = lattice[i & 255] ?? 0;
    const b = lattice[(i + 1) & 255] ?? 0;
    return mix(a, b, f * f * (3 - 2 * f));
  };
  return (t) => at(t) * 0.55 + at(t * 2.1 + 17) * 0.28 + at(t * 4.3 + 41) * 0.17;
}

/** Builds the landscape layers, far to near. */
function buildLayers(
  scene: Scene,
  width: number,
  height: number,
  horizon: number,
  random: () => number,
): Layer[] {
  const light = LIGHT[scene.time];
  const near = scale(LAND[scene.setting], light);
  const haze = scale(SKIES[scene.time].sky[2], [0.85, 0.85, 0.85]);
  const fog = scene.weather === 'fog' ? 0.25 : 0;
  const layers: Layer[] = [];
  const count = scene.setting === 'sea' ? 1 : 3 + (scene.seed & 1);
  for (let i = 0; i < count; i++) {
    const depth = count === 1 ? 0 : i / (count - 1);
    const noise = makeNoise(random);
    const phase = random() * 100;
    const ridge = new Float32Array(width);
    const base = horizon + (height - horizon) * (0.04 + 0.5 * depth);
    const rugged = scene.setting === 'mountains' || scene.setting === 'snow';
    const amp =
      height * (rugged ? 0.24 - 0.1 * depth : scene.setting === 'desert' ? 0.06 : 0.1 - 0.04 * depth);
    const freq = (rugged ? 2.2 : 1.3) + 1.4 * i;
    const treeSpacing = height * (0.014 + 0.02 * depth);
    const city = scene.setting === 'city' && i < count - 1;
    const start = city ? new Int32Array(width) : undefined;
    const id = city ? new Int32Array(width) : undefined;
    let buildingEnd = -1;
    let buildingTop = 0;
    let building = 0;
    for (let x = 0; x < width; x++) {
      const n = noise((x / height) * freq + phase);
      // Peaks: ridged noise (sharp tops where the noise crosses its middle), stretched to use its range.
      let y = base - amp * (rugged ? 0.85 * (1 - Math.abs(Math.tanh((n - 0.5) * 5))) + 0.15 * n : n);
      // At sea, the far layer is a few islands on the water line (hidden by the water elsewhere).
      if (scene.setting === 'sea') y = horizon + 1 - amp * 1.6 * Math.max(0, n - 0.45);
      if (scene.setting === 'forest' && i > 0) {
        const local = x / treeSpacing;
        const tree = Math.floor(local);
        const tip = 1 - Math.abs(2 * (local - tree) - 1);
        y -= treeSpacing * (1.6 + 1.6 * hashInt(tree * 7 + i)) * tip;
      }
      if (start !== undefined && id !== undefined) {
        if (x > buildingEnd) {
          building++;
          buildingEnd = x + Math.round(height * (0.035 + 0.06 * hashInt(building * 13 + i)) * (1 + depth));
          buildingTop = base - height * (0.08 + 0.3 * hashInt(building * 29 + i) ** 1.5) * (1 - 0.3 * depth);
        }
        start[x] = buildingEnd;
        id[x] = building;
        y = buildingTop;
      }
      ridge[x] = y;
    }
    const colour = mixRGB(near, haze, clamp01((1 - depth) * 0.7 + fog));
    layers.push({
      kind: start === undefined ? 'land' : 'city',
      ridge,
      colour,
      top: Math.min(...ridge),
      ...(start === undefined ? {} : { start }),
      ...(id === undefined ? {} : { id }),
    });
    if (scene.setting === 'sea') {
      layers.push({
        kind: 'water',
        ridge: new Float32Array(width).fill(horizon),
        colour: near,
        top: horizon,
      });
      if (scene.seed & 2) {
        const beach = new Float32Array(width);
        for (let x = 0; x < width; x++) beach[x] = height * (0.9 - 0.05 * noise((x / height) * 2.5 + 50));
        layers.push({ kind: 'land', ridge: beach, colour: near, top: Math.min(...beach) });
      }
    }
  }
  return layers;
}

/**
 * Draws a landscape for a scene into RGB bytes (3 per pixel): a sky gradient with a sun or moon
 * and its glow, stars at night, layered hills, peaks, dunes, trees, a skyline or the sea with
 * waves and a sun path, a soft vignette and ordered dithering against banding. Deterministic from
 * `scene.seed`. Yields to the event loop between bands of rows, checks `signal` there and reports
 * progress in [0, 1]. @internal
 */
export async function renderLandscape(args: {
  readonly width: number;
  readonly height: number;
  readonly scene: Scene;
  readonly signal: AbortSignal;
  readonly onProgress?: (fraction: number) => void;
}): Promise<Buffer> {
  const { width: w, height: h, scene, signal } = args;
  const random = seededRandom(scene.seed);
  const palette = SKIES[scene.time];
  const grey: RGB = scene.weather === 'fog' ? [200, 205, 212] : [88, 94, 106];
  const cloudy = scene.weather === 'clear' ? 0 : scene.weather === 'fog' ? 0.45 : 0.5;
  const [top, middle, low] = palette.sky.map((c) =>
    mixRGB(c, scale(grey, LIGHT[scene.time]), cloudy * (scene.time === 'night' ? 0.4 : 1)),
  ) as [RGB, RGB, RGB];
  const horizon = h * (scene.setting === 'sea' ? 0.56 : 0.6);
  const sunX = w * (0.22 + 0.56 * random());
  const sunY = horizon * palette.sunY;
  const radius = Math.min(w, h) * (scene.time === 'night' ? 0.045 : 0.06);
  const glowRadius = radius * 4;
  const glow = palette.glow * (1 - cloudy * 0.6);
  const sun = palette.sun;
  const layers = buildLayers(scene, w, h, horizon, random);

  const stars = new Uint8Array(w * h);
  if (scene.time === 'night' || scene.setting === 'space') {
    const count = Math.round((w * h) / 700);
    for (let k = 0; k < count; k++) {
      const x = Math.floor(random() * w);
      const y = Math.floor(random() * horizon);
      stars[y * w + x] = Math.round(40 + 200 * random() ** 3);
    }
  }
  // Space: two soft nebula clouds in the sky.
  const nebulae =
    scene.setting === 'space'
      ? [
          {
            x: w * random(),
            y: horizon * (0.2 + 0.5 * random()),
            r: w * 0.35,
            colour: [150, 60, 170] as RGB,
          },
          { x: w * random(), y: horizon * (0.2 + 0.5 * random()), r: w * 0.3, colour: [40, 140, 160] as RGB },
        ]
      : [];
  const waveNoise = makeNoise(random);
  const columnNoise = Float32Array.from({ length: w }, (_, x) => waveNoise((x / h) * 6));
  const windowW = Math.max(3, Math.round(h * 0.011));
  const windowH = Math.max(4, Math.round(h * 0.015));
  const windowsLit = scene.time === 'day' ? 0 : scene.time === 'night' ? 0.45 : 0.25;
  const vignette = 0.55;

  const out = Buffer.allocUnsafe(w * h * 3);
  const band = Math.max(16, Math.ceil(h / 24));
  for (let y0 = 0; y0 < h; y0 += band) {
    signal.throwIfAborted();
    for (let y = y0; y < Math.min(h, y0 + band); y++) {
      const t = Math.min(1, y / horizon);
      const sky = t < 0.6 ? mixRGB(top, middle, t / 0.6) : mixRGB(middle, low, (t - 0.6) / 0.4);
      const dy = y - sunY;
      const vy = (y / h - 0.5) ** 2;
      for (let x = 0; x < w; x++) {
        let r = sky[0];
        let g = sky[1];
        let b = sky[2];
        const dx = x - sunX;
        const d2 = dx * dx + dy * dy;
        if (d2 < glowRadius * glowRadius * 9) {
          const k = glow * Math.exp(-d2 / (glowRadius * glowRadius));
          r += sun[0] * k;
          g += sun[1] * k;
          b += sun[2] * k;
          const disk = clamp01(radius - Math.sqrt(d2) + 0.5);
          if (disk > 0) {
            r = mix(r, Math.max(r + sun[0] * 0.5, sun[0]), disk);
            g = mix(g, Math.max(g + sun[1] * 0.5, sun[1]), disk);
            b = mix(b, Math.max(b + sun[2] * 0.5, sun[2]), disk);
          }
        }
        for (const cloud of nebulae) {
          const ex = x - cloud.x;
          const ey = y - cloud.y;
          const k = 0.45 * Math.exp(-(ex * ex + ey * ey) / (cloud.r * cloud.r));
          r += cloud.colour[0] * k;
          g += cloud.colour[1] * k;
          b += cloud.colour[2] * k;
        }
        const star = stars[y * w + x] ?? 0;
        if (star > 0) {
          r += star;
          g += star;
          b += star * 1.05;
        }
        for (const layer of layers) {
          const edge = layer.ridge[x] ?? h;
          const a = clamp01(y - edge + 0.5);
          if (a === 0) continue;
          const shade = 1 - 0.35 * Math.min(1, (y - layer.top) / (h * 0.35));
          let lr = layer.colour[0] * shade;
          let lg = layer.colour[1] * shade;
          let lb = layer.colour[2] * shade;
          if (layer.kind === 'water') {
            const v = clamp01((y - edge) / (h - edge));
            const wave = Math.sin(38 / (v + 0.08) + (columnNoise[x] ?? 0) * (3 + 8 * v));
            const deep = scale([28, 84, 130], LIGHT[scene.time]);
            const mirror = mixRGB(low, deep, Math.sqrt(v));
            const lift = 1 + 0.08 * wave * Math.sqrt(v + 0.05);
            lr = mirror[0] * lift;
            lg = mirror[1] * lift;
            lb = mirror[2] * lift;
            const spread = w * (0.02 + 0.14 * v);
            const path =
              Math.abs(x - sunX) < spread ? (1 - Math.abs(x - sunX) / spread) * Math.max(0, wave) ** 3 : 0;
            lr += sun[0] * path * glow;
            lg += sun[1] * path * glow;
            lb += sun[2] * path * glow;
          } else if (layer.kind === 'city' && layer.start !== undefined && layer.id !== undefined) {
            const rx = (layer.start[x] ?? 0) - x;
            const ry = y - edge;
            if (
              rx > windowW &&
              ry > windowH &&
              rx % windowW < windowW * 0.55 &&
              ry % windowH < windowH * 0.55
            ) {
              const lit =
                hashInt((layer.id[x] ?? 0) * 977 + Math.floor(ry / windowH) * 31 + Math.floor(rx / windowW)) <
                windowsLit;
              const pane: RGB = lit ? [255, 206, 130] : [lr * 1.25 + 12, lg * 1.25 + 14, lb * 1.25 + 20];
              lr = pane[0];
              lg = pane[1];
              lb = pane[2];
            }
          }
          r = mix(r, lr, a);
          g = mix(g, lg, a);
          b = mix(b, lb, a);
        }
        const vx = (x / w - 0.5) ** 2;
        const v = 1 - vignette * (vx + vy);
        const dither = BAYER[((y & 3) << 2) | (x & 3)] ?? 0;
        const i = (y * w + x) * 3;
        out[i] = Math.max(0, Math.min(255, Math.round(r * v + dither)));
        out[i + 1] = Math.max(0, Math.min(255, Math.round(g * v + dither)));
        out[i + 2] = Math.max(0, Math.min(255, Math.round(b * v + dither)));
      }
    }
    args.onProgress?.(Math.min(1, (y0 + band) / h));
    await nextTurn();
  }
  signal.throwIfAborted();
  return out;
}

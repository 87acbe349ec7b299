import { describe, expect, it } from 'vitest';
import { spreadAround } from '../bench/provider-fakes.ts';
import { seededRandom } from './support/seeded-random.ts';

// The runs bench draws every provider response and job time with `spreadAround`: its figures
// depend on the draws keeping each time's mean while spreading them as real services do.
describe('spreadAround (the runs bench provider times)', () => {
  it('keeps the mean and spreads the draws (σ 0.3: a quarter of them below 0.7× or above 1.4×)', () => {
    const draw = spreadAround(seededRandom(2026), 0.3);
    const draws = Array.from({ length: 20_000 }, () => draw(1_000));
    const mean = draws.reduce((sum, value) => sum + value, 0) / draws.length;
    expect(mean).toBeGreaterThan(985);
    expect(mean).toBeLessThan(1_015);
    const outside = draws.filter((value) => value < 700 || value > 1_400).length / draws.length;
    // Log-normal, σ 0.3, mean 1: P(X < 0.7) + P(X > 1.4) = Φ(−1.04) + 1 − Φ(1.27) ≈ 0.25.
    expect(outside).toBeGreaterThan(0.22);
    expect(outside).toBeLessThan(0.28);
    expect(Math.min(...draws)).toBeGreaterThan(0);
  });

  it('gives the figure itself with σ 0, and 0 for 0', () => {
    const random = seededRandom(1);
    expect(Array.from({ length: 5 }, () => spreadAround(random, 0)(250))).toEqual([250, 250, 250, 250, 250]);
    expect(spreadAround(random, 0.3)(0)).toBe(0);
  });

  it('replays the same draws from the same seed', () => {
    const draws = (seed: number) =>
      Array.from({ length: 8 }, spreadAround(seededRandom(seed), 0.3).bind(null, 100));
    expect(draws(7)).toEqual(draws(7));
    expect(draws(7)).not.toEqual(draws(8));
  });
});

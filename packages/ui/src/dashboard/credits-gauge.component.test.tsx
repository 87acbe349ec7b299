// @vitest-environment happy-dom
import { cleanup, screen } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { renderWithProviders } from '../test-support/render-with-providers.tsx';
import { CreditsGauge } from './credits-gauge.tsx';
import { gaugeShare, PLAN_ALLOWANCE } from './format.ts';

afterEach(cleanup);

const CIRCUMFERENCE = 2 * Math.PI * 52;

/** The share of the ring drawn, from the fill circle's dash array. */
const drawnShare = (gauge: Element): number => {
  const dash = gauge.querySelector('.gauge__fill')?.getAttribute('stroke-dasharray') ?? '';
  const [drawn, whole] = dash.split(' ').map(Number);
  return (drawn ?? Number.NaN) / (whole ?? Number.NaN);
};

describe('CreditsGauge', () => {
  it('says how many credits are left out of the plan’s allowance, and fills the ring that much', () => {
    renderWithProviders(
      <CreditsGauge available={40} share={gaugeShare(40, 40, PLAN_ALLOWANCE.free)} allowance={100} />,
    );
    const gauge = screen.getByRole('img', { name: '40 of 100 credits available' });
    expect(gauge.querySelector('title')?.textContent).toBe('40 of 100 credits available');
    expect(screen.getByTestId('credits-available').textContent).toBe('40');
    expect(gauge.querySelector('.gauge__label')?.textContent).toBe('available');
    expect(drawnShare(gauge)).toBeCloseTo(0.4);
    expect(gauge.getAttribute('class')).toBe('gauge gauge--ok');
  });

  it('turns "low" at 25 % and "empty" at 10 % (the colour also has the number and words)', () => {
    const { rerender } = renderWithProviders(<CreditsGauge available={20} share={0.2} allowance={100} />);
    expect(screen.getByRole('img').getAttribute('class')).toBe('gauge gauge--low');
    rerender(<CreditsGauge available={25} share={0.25} allowance={100} />);
    expect(screen.getByRole('img').getAttribute('class')).toBe('gauge gauge--low');
    rerender(<CreditsGauge available={10} share={0.1} allowance={100} />);
    expect(screen.getByRole('img').getAttribute('class')).toBe('gauge gauge--empty');
    rerender(<CreditsGauge available={0} share={0} allowance={100} />);
    const empty = screen.getByRole('img', { name: '0 of 100 credits available' });
    expect(empty.getAttribute('class')).toBe('gauge gauge--empty');
    expect(drawnShare(empty)).toBe(0);
    expect(screen.getByTestId('credits-available').textContent).toBe('0');
  });

  it('fills the whole ring when granted credits exceed the allowance', () => {
    const share = gaugeShare(250, 250, PLAN_ALLOWANCE.free);
    renderWithProviders(<CreditsGauge available={250} share={share} allowance={100} />);
    const gauge = screen.getByRole('img', { name: '250 of 100 credits available' });
    expect(drawnShare(gauge)).toBeCloseTo(1);
    expect(gauge.querySelector('.gauge__fill')?.getAttribute('stroke-dasharray')).toBe(
      `${CIRCUMFERENCE} ${CIRCUMFERENCE}`,
    );
  });

  it('uses the available credits as the scale when the plan has no allowance', () => {
    renderWithProviders(<CreditsGauge available={30} share={1} allowance={null} />);
    expect(screen.getByRole('img', { name: '30 of 30 credits available' })).toBeTruthy();
  });

  it('shows unlimited credits as a full ring and an infinity sign', () => {
    renderWithProviders(<CreditsGauge available={null} share={0} allowance={null} />);
    const gauge = screen.getByRole('img', { name: 'Unlimited credits' });
    expect(screen.getByTestId('credits-available').textContent).toBe('∞');
    expect(drawnShare(gauge)).toBeCloseTo(1);
    expect(gauge.getAttribute('class')).toBe('gauge gauge--ok');
  });

  it('speaks French', () => {
    renderWithProviders(<CreditsGauge available={40} share={0.4} allowance={100} />, { language: 'fr' });
    const gauge = screen.getByRole('img', { name: '40 crédits disponibles sur 100' });
    expect(gauge.querySelector('.gauge__label')?.textContent).toBe('disponibles');
  });
});

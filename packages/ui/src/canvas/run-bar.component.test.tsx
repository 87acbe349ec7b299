// @vitest-environment happy-dom
import { act, cleanup, screen, within } from '@testing-library/react';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { CostEstimate } from '../api/api-types.ts';
import { graphAtom } from '../atoms/graph.ts';
import { estimateAtom, runAtom, runErrorAtom, runRefusalAtom } from '../atoms/run.ts';
import { graphValidationLoaded } from '../graph/graph-issues-atom.ts';
import { shortVideoGraph } from '../graph/short-video-graph.ts';
import type { Language } from '../i18n/translate.ts';
import { IDLE_RUN, type RunState } from '../run/run-state.ts';
import { renderWithProviders, type TestStore } from '../test-support/render-with-providers.tsx';
import { RunBar } from './run-bar.tsx';

// The engine's graph validation is loaded apart from the first page: wait for it once.
beforeAll(() => graphValidationLoaded);

afterEach(cleanup);

interface Setup {
  readonly estimate?: CostEstimate;
  readonly run?: Partial<RunState>;
  readonly language?: Language;
  readonly store?: (store: TestStore) => void;
}

/** Renders the Run bar with a valid short-video graph and the given estimate and run. */
function renderBar(setup: Setup = {}) {
  const onRun = vi.fn<() => void>();
  const onCancel = vi.fn<() => void>();
  const rendered = renderWithProviders(<RunBar onRun={onRun} onCancel={onCancel} />, {
    language: setup.language ?? 'en',
  });
  act(() => {
    rendered.store.set(graphAtom, shortVideoGraph({ prompt: 'A red fox in the snow' }));
    rendered.store.set(runAtom, { ...IDLE_RUN, ...setup.run });
    if (setup.estimate) rendered.store.set(estimateAtom, setup.estimate);
    setup.store?.(rendered.store);
  });
  const bar = screen.getByRole('region', { name: 'Run' });
  return { ...rendered, onRun, onCancel, bar };
}

const estimate = (total: number, available: number | null): CostEstimate => ({
  total,
  nodes: [{ nodeId: 'video', nodeType: 'video', cost: total }],
  available,
  enough: available === null || available >= total,
});

describe('RunBar before a run', () => {
  it('waits for the estimate before letting the user run', () => {
    const { bar } = renderBar();
    expect(screen.getByTestId('estimate').textContent).toBe('Estimating…');
    expect(screen.getByTestId('available').textContent).toBe('');
    expect(bar.getAttribute('data-settled')).toBe('false');
    const run = within(bar).getByRole('button', { name: 'Run' }) as HTMLButtonElement;
    expect(run.disabled).toBe(true);
  });

  it('shows the estimated cost and the available balance, and the cost on the Run button', async () => {
    const { bar, user, onRun, onCancel } = renderBar({ estimate: estimate(42, 100) });
    expect(screen.getByTestId('estimate').textContent).toBe('Estimated cost: 42 credits');
    expect(screen.getByTestId('available').textContent).toBe('Available: 100 credits');
    expect(within(bar).queryByRole('alert')).toBeNull();
    const run = within(bar).getByRole('button', { name: 'Run · 42 credits' }) as HTMLButtonElement;
    expect(run.disabled).toBe(false);
    await user.click(run);
    expect(onRun).toHaveBeenCalledTimes(1);
    expect(onCancel).not.toHaveBeenCalled();
  });

  it('says credits are short, by how much, and what to do, and does not run', async () => {
    const { bar, user, onRun } = renderBar({ estimate: estimate(120, 40) });
    expect(screen.getByTestId('available').textContent).toBe('Available: 40 credits');
    expect(within(bar).getByRole('alert').textContent).toBe(
      'Not enough credits: this graph needs 120 and 40 are available. Pick a shorter video or wait for your monthly renewal.',
    );
    const run = within(bar).getByRole('button', { name: 'Run · 120 credits' }) as HTMLButtonElement;
    expect(run.disabled).toBe(true);
    await user.click(run);
    expect(onRun).not.toHaveBeenCalled();
  });

  it('shows an unlimited balance in words', () => {
    renderBar({ estimate: estimate(42, null) });
    expect(screen.getByTestId('available').textContent).toBe('Available: unlimited credits');
  });

  it('says how many problems block an invalid graph, and does not run', () => {
    const { bar } = renderBar({
      estimate: estimate(42, 100),
      store: (store) => {
        const graph = store.get(graphAtom);
        store.set(graphAtom, {
          ...graph,
          edges: (graph.edges ?? []).filter((edge) => edge.id !== 'image-video'),
        });
      },
    });
    expect(screen.getByTestId('run-invalid').textContent).toBe(
      'Fix 1 problem(s) before running: see the nodes outlined in red.',
    );
    expect(
      (within(bar).getByRole('button', { name: 'Run · 42 credits' }) as HTMLButtonElement).disabled,
    ).toBe(true);
  });

  it('asks calmly for the idea while the prompt is empty: the cost shown, Run waiting, nothing in red', () => {
    const { bar } = renderBar({
      estimate: estimate(42, 100),
      store: (store) => store.set(graphAtom, shortVideoGraph({ prompt: '' })),
    });
    expect(screen.getByTestId('run-awaiting').textContent).toBe(
      'Type your idea in the Prompt step, then Run.',
    );
    expect(screen.queryByTestId('run-invalid')).toBeNull();
    expect(within(bar).queryByRole('alert')).toBeNull();
    expect(
      (within(bar).getByRole('button', { name: 'Run · 42 credits' }) as HTMLButtonElement).disabled,
    ).toBe(true);
    expect(bar.getAttribute('data-settled')).toBe('true');
  });

  it('counts a real problem in red even while the prompt is empty', () => {
    renderBar({
      estimate: estimate(42, 100),
      store: (store) => {
        const graph = shortVideoGraph({ prompt: '' });
        store.set(graphAtom, {
          ...graph,
          edges: (graph.edges ?? []).filter((edge) => edge.id !== 'image-video'),
        });
      },
    });
    expect(screen.getByTestId('run-invalid').textContent).toBe(
      'Fix 1 problem(s) before running: see the nodes outlined in red.',
    );
    expect(screen.queryByTestId('run-awaiting')).toBeNull();
  });

  it('shows why the graph could not be estimated', () => {
    const { bar } = renderBar({
      store: (store) =>
        store.set(runErrorAtom, 'The server could not be reached. Check your connection and try again.'),
    });
    expect(within(bar).getByRole('alert').textContent).toBe(
      'The server could not be reached. Check your connection and try again.',
    );
  });

  it("keeps a refused Run's reason through later estimates of the same graph, and drops it once edited", () => {
    const refusal = 'Add your OpenAI key in Settings (none is saved) to run this workflow.';
    const { bar, store } = renderBar({
      estimate: estimate(42, 100),
      store: (store) => store.set(runRefusalAtom, { message: refusal, graph: store.get(graphAtom) }),
    });
    expect(within(bar).getByRole('alert').textContent).toBe(refusal);
    // The debounced estimate of the graph sent answers after the refusal: it clears only its own error.
    act(() => {
      store.set(estimateAtom, estimate(42, 100));
      store.set(runErrorAtom, null);
    });
    expect(within(bar).getByRole('alert').textContent).toBe(refusal);
    expect(bar.getAttribute('data-settled')).toBe('true');
    // Another provider picked: the refusal was about the graph before.
    act(() => store.set(graphAtom, shortVideoGraph({ prompt: 'A lighthouse in a storm' })));
    expect(within(bar).queryByRole('alert')).toBeNull();
  });

  it('says a reason once when the estimate and the refusal give the same one', () => {
    const text = 'The server could not be reached. Check your connection and try again.';
    const { bar } = renderBar({
      store: (store) => {
        store.set(runErrorAtom, text);
        store.set(runRefusalAtom, { message: text, graph: store.get(graphAtom) });
      },
    });
    expect(
      within(bar)
        .getAllByRole('alert')
        .map((alert) => alert.textContent),
    ).toEqual([text]);
  });

  it('speaks French', () => {
    renderWithProviders(<RunBar onRun={() => undefined} onCancel={() => undefined} />, { language: 'fr' });
    expect(screen.getByRole('region', { name: 'Exécution' })).toBeTruthy();
    expect(screen.getByTestId('estimate').textContent).toBe('Estimation…');
  });
});

describe('RunBar during and after a run', () => {
  it('replaces Run by Cancel while the run is queued or running', async () => {
    const { bar, user, onCancel, onRun } = renderBar({
      estimate: estimate(42, 100),
      run: { runId: 'run-1', phase: 'queued' },
    });
    expect(screen.getByTestId('run-phase').textContent).toBe('Run: queued');
    expect(screen.getByTestId('run-phase').getAttribute('data-phase')).toBe('queued');
    expect(within(bar).queryByRole('button', { name: /^Run/ })).toBeNull();
    await user.click(within(bar).getByRole('button', { name: 'Cancel' }));
    expect(onCancel).toHaveBeenCalledTimes(1);
    expect(onRun).not.toHaveBeenCalled();
  });

  it('cannot cancel a run the server has not accepted yet', () => {
    const { bar } = renderBar({ estimate: estimate(42, 100), run: { runId: null, phase: 'starting' } });
    expect(screen.getByTestId('run-phase').textContent).toBe('Run: starting');
    expect((within(bar).getByRole('button', { name: 'Cancel' }) as HTMLButtonElement).disabled).toBe(true);
  });

  it('says what a completed run charged, and offers Run again', () => {
    const { bar } = renderBar({
      estimate: estimate(42, 58),
      run: { runId: 'run-1', phase: 'completed', captured: 40 },
    });
    expect(screen.getByTestId('run-phase').textContent).toBe('Run: completed · charged 40 credits');
    expect(
      (within(bar).getByRole('button', { name: 'Run · 42 credits' }) as HTMLButtonElement).disabled,
    ).toBe(false);
  });

  it('shows why a run failed', () => {
    const { bar } = renderBar({
      estimate: estimate(42, 100),
      run: { runId: 'run-1', phase: 'failed', error: 'Your Runway key was rejected: update it in Settings' },
    });
    expect(screen.getByTestId('run-phase').textContent).toBe('Run: failed');
    expect(within(bar).getByRole('alert').textContent).toBe(
      'Your Runway key was rejected: update it in Settings',
    );
  });
});

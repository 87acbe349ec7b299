// @vitest-environment happy-dom
import { act, cleanup, screen, within } from '@testing-library/react';
import { type NodeTypes, ReactFlow } from '@xyflow/react';
import type { ReactElement } from 'react';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Content, CostEstimate, ProviderKeys } from '../api/api-types.ts';
import { graphAtom } from '../atoms/graph.ts';
import { providerKeysAtom } from '../atoms/keys.ts';
import { contentAtom, estimateAtom, runAtom } from '../atoms/run.ts';
import { graphValidationLoaded } from '../graph/graph-issues-atom.ts';
import type { StepNode, StepType } from '../graph/graph-types.ts';
import { shortVideoGraph } from '../graph/short-video-graph.ts';
import type { Language } from '../i18n/translate.ts';
import { IDLE_NODE, IDLE_RUN, type NodeRunState, type RunState } from '../run/run-state.ts';
import { renderWithProviders, type TestStore } from '../test-support/render-with-providers.tsx';
import { RerunContext, serverIssuesAtom } from './canvas-atoms.ts';
import { StepNodeView } from './step-node.tsx';
import { canvasNodesOf } from './to-canvas.ts';

// The engine's graph validation is loaded apart from the first page: wait for it once.
beforeAll(() => graphValidationLoaded);

const nodeTypes = {
  prompt: StepNodeView,
  enhance: StepNodeView,
  image: StepNodeView,
  video: StepNodeView,
  output: StepNodeView,
} satisfies NodeTypes;

const XSS = '<img src=x onerror="window.__xss=1">';

afterEach(() => {
  cleanup();
  vi.useRealTimers();
  Reflect.deleteProperty(window, '__xss');
});

interface Setup {
  readonly prompt?: string;
  readonly run?: Partial<RunState>;
  readonly nodes?: Readonly<Record<string, NodeRunState>>;
  readonly estimate?: CostEstimate;
  readonly content?: Content;
  readonly selected?: string;
  readonly rerun?: (nodeId: string) => void;
  readonly language?: Language;
  readonly store?: (store: TestStore) => void;
}

/**
 * Renders the short-video graph's nodes on a real React Flow canvas (the node component, its
 * handles and the atoms it reads, as the create page wires them), with the given run state.
 */
function renderCanvas(setup: Setup = {}) {
  const graph = shortVideoGraph({ prompt: setup.prompt ?? 'A red fox in the snow' });
  // Sized nodes are visible at once (React Flow hides a node until it knows its size).
  const nodes: StepNode[] = canvasNodesOf(graph).map((node) => ({
    ...node,
    initialWidth: 240,
    initialHeight: 180,
    selected: node.id === setup.selected,
  }));
  const canvas: ReactElement = (
    <div style={{ width: 1600, height: 400 }}>
      <ReactFlow nodes={nodes} edges={[]} nodeTypes={nodeTypes} onError={() => undefined} />
    </div>
  );
  const element =
    setup.rerun === undefined ? (
      canvas
    ) : (
      <RerunContext.Provider value={setup.rerun}>{canvas}</RerunContext.Provider>
    );
  const rendered = renderWithProviders(element, { flow: true, language: setup.language ?? 'en' });
  act(() => {
    rendered.store.set(graphAtom, graph);
    rendered.store.set(runAtom, { ...IDLE_RUN, ...setup.run, nodes: setup.nodes ?? {} });
    if (setup.estimate) rendered.store.set(estimateAtom, setup.estimate);
    if (setup.content) rendered.store.set(contentAtom, setup.content);
    setup.store?.(rendered.store);
  });
  return rendered;
}

/** A node of the canvas by its step id. */
const nodeOf = (id: StepType) => screen.getByTestId(`node-${id}`);

/** The text of a node's body (its live content). */
const bodyOf = (id: StepType): string => nodeOf(id).querySelector('.step-node__body')?.textContent ?? '';

const progressOf = (id: StepType) => within(nodeOf(id)).getByRole('progressbar') as HTMLProgressElement;

/** The key slots the API lists with the keys: where the canvas learns the providers' names. */
const PROVIDER_KEYS: ProviderKeys = {
  keys: [],
  slots: [
    {
      providerId: 'runway',
      label: 'Runway key',
      providers: [{ id: 'runway-video', displayName: 'Runway', kind: 'video' }],
      testable: false,
    },
  ],
};

const ESTIMATE: CostEstimate = {
  total: 42,
  nodes: [
    { nodeId: 'prompt', nodeType: 'prompt', cost: 0 },
    { nodeId: 'enhance', nodeType: 'enhance', cost: 1 },
    { nodeId: 'image', nodeType: 'image', cost: 5 },
    { nodeId: 'video', nodeType: 'video', cost: 36 },
    { nodeId: 'output', nodeType: 'output', cost: 0 },
  ],
  available: 100,
  enough: true,
};

const CONTENT: Content = {
  id: 'content-1',
  runId: 'run-1',
  prompt: 'A red fox in the snow',
  enhancedPrompt: 'A cinematic red fox in fresh snow at dawn',
  media: {
    video: { url: '/media/content-1/video.mp4', downloadUrl: '/media/content-1/video.mp4?download=1' },
    image: { url: '/media/content-1/image.png', downloadUrl: '/media/content-1/image.png?download=1' },
    thumbnail: { url: '/media/content-1/thumb.jpg', downloadUrl: '/media/content-1/thumb.jpg?download=1' },
  },
  durationSeconds: 8,
  width: 720,
  height: 1280,
  fileSizeBytes: 2_400_000,
  costCredits: 42,
  providers: { text: 'openai-text', image: 'openai-image', video: 'runway-video' },
  createdAt: '2026-11-26T00:00:00.000Z',
};

describe('StepNodeView before a run (idle)', () => {
  it('shows each step with its title, the word "Ready", its icon and an empty progress bar', () => {
    renderCanvas();
    for (const [id, title] of [
      ['prompt', 'Prompt'],
      ['enhance', 'Enhance'],
      ['image', 'Image'],
      ['video', 'Video'],
      ['output', 'Output'],
    ] as const) {
      const node = nodeOf(id);
      expect(node.getAttribute('data-state')).toBe('idle');
      expect(node.classList.contains('step-node--idle')).toBe(true);
      expect(node.getAttribute('aria-label')).toBe(`${title}: Ready`);
      expect(within(node).getByText(title)).toBeTruthy();
      expect(node.querySelector('.step-node__state')?.textContent).toBe('○ Ready');
      const progress = within(node).getByRole('progressbar', { name: `${title} progress` });
      expect((progress as HTMLProgressElement).value).toBe(0);
      expect(within(node).queryByRole('button')).toBeNull();
    }
  });

  it('shows the prompt text, the settings of each step and where the video will appear', () => {
    renderCanvas();
    expect(within(nodeOf('prompt')).getByText('A red fox in the snow')).toBeTruthy();
    expect(within(nodeOf('enhance')).getByText('Rewrites your idea into a detailed prompt.')).toBeTruthy();
    expect(bodyOf('image')).toContain('medium · 9:16');
    expect(bodyOf('video')).toContain('8 s · motion medium');
    expect(bodyOf('video')).not.toContain('elapsed');
    expect(within(nodeOf('output')).getByText('Your video appears here.')).toBeTruthy();
  });

  it('asks for a prompt when there is none', () => {
    renderCanvas({ prompt: '' });
    expect(within(nodeOf('prompt')).getByText('Describe your video in the panel.')).toBeTruthy();
  });

  /** Puts a hosted provider on the video step. */
  const runwayVideo = (store: TestStore) => {
    const graph = store.get(graphAtom);
    store.set(graphAtom, {
      ...graph,
      nodes: graph.nodes.map((node) =>
        node.id === 'video' ? { ...node, config: { ...node.config, provider: 'runway-video' } } : node,
      ),
    });
  };

  it('marks the local providers "local" and shows a hosted provider by its display name, its id in the tooltip', () => {
    renderCanvas({
      store: (store) => {
        runwayVideo(store);
        store.set(providerKeysAtom, PROVIDER_KEYS);
      },
    });
    const enhanceBadge = nodeOf('enhance').querySelector('.badge');
    expect(enhanceBadge?.textContent).toBe('local');
    expect(enhanceBadge?.getAttribute('title')).toBe('local-text');
    expect(enhanceBadge?.classList.contains('badge--local')).toBe(true);
    const videoBadge = nodeOf('video').querySelector('.badge');
    expect(videoBadge?.textContent).toBe('Runway');
    expect(videoBadge?.getAttribute('title')).toBe('runway-video');
    expect(videoBadge?.classList.contains('badge--local')).toBe(false);
    expect(nodeOf('prompt').querySelector('.badge')).toBeNull();
  });

  it('shows a hosted provider by its id until the providers are loaded', () => {
    renderCanvas({ store: runwayVideo });
    const videoBadge = nodeOf('video').querySelector('.badge');
    expect(videoBadge?.textContent).toBe('runway-video');
    expect(videoBadge?.getAttribute('title')).toBe('runway-video');
  });

  it('shows each step’s estimated cost in credits before anything is spent', () => {
    renderCanvas({ estimate: ESTIMATE });
    expect(nodeOf('video').querySelector('.step-node__cost')?.textContent).toBe('36 cr');
    expect(nodeOf('image').querySelector('.step-node__cost')?.textContent).toBe('5 cr');
    expect(nodeOf('prompt').querySelector('.step-node__cost')?.textContent).toBe('0 cr');
  });

  it('shows no cost before the estimate arrives', () => {
    renderCanvas();
    expect(nodeOf('video').querySelector('.step-node__cost')).toBeNull();
  });

  it('has typed handles named after the engine’s ports', () => {
    renderCanvas();
    const handles = (id: StepType, side: 'source' | 'target') =>
      Array.from(nodeOf(id).querySelectorAll(`.react-flow__handle.${side}`), (handle) =>
        handle.getAttribute('data-handleid'),
      );
    expect(handles('prompt', 'target')).toEqual([]);
    expect(handles('prompt', 'source')).toEqual(['prompt']);
    expect(handles('enhance', 'source')).toEqual(['prompt', 'original']);
    expect(handles('video', 'target')).toEqual(['image', 'prompt']);
    expect(handles('output', 'target')).toEqual(['video', 'image', 'prompt', 'original']);
    expect(nodeOf('video').querySelector('.react-flow__handle.target.port--image')).not.toBeNull();
  });

  it('marks the selected node', () => {
    renderCanvas({ selected: 'image' });
    expect(nodeOf('image').classList.contains('step-node--selected')).toBe(true);
    expect(nodeOf('video').classList.contains('step-node--selected')).toBe(false);
  });

  it('speaks French when the app does', () => {
    renderCanvas({ language: 'fr', nodes: { video: { state: 'running', progress: 0.2 } } });
    expect(nodeOf('enhance').getAttribute('aria-label')).toBe('Amélioration: Prêt');
    expect(nodeOf('video').getAttribute('aria-label')).toBe('Vidéo: En cours');
    expect(within(nodeOf('video')).getByRole('progressbar', { name: 'Progression : Vidéo' })).toBeTruthy();
  });
});

describe('StepNodeView while running (loading)', () => {
  it('shows the running state, its progress and the step’s message', () => {
    renderCanvas({
      run: { runId: 'run-1', phase: 'running' },
      nodes: {
        prompt: { state: 'success', progress: 1, durationMs: 12, cost: 0 },
        image: { state: 'running', progress: 0.4, message: 'Rendering the still' },
      },
    });
    const image = nodeOf('image');
    expect(image.getAttribute('data-state')).toBe('running');
    expect(image.classList.contains('step-node--running')).toBe(true);
    expect(image.getAttribute('aria-label')).toBe('Image: Running');
    expect(image.querySelector('.step-node__state')?.textContent).toBe('◌ Running');
    expect(progressOf('image').value).toBeCloseTo(0.4);
    expect(progressOf('image').max).toBe(1);
    expect(within(image).getByText('Rendering the still')).toBeTruthy();
    // No rerun while a run is under way, even with a provider of reruns.
    expect(within(image).queryByRole('button')).toBeNull();
  });

  it('keeps the steps that have not started idle while the run is queued', () => {
    renderCanvas({ run: { runId: 'run-1', phase: 'queued' } });
    for (const id of ['prompt', 'enhance', 'image', 'video', 'output'] as const) {
      expect(nodeOf(id).getAttribute('data-state')).toBe('idle');
      expect(progressOf(id).value).toBe(0);
    }
  });

  it('counts the video’s elapsed time and shows an ETA from its progress', () => {
    vi.useFakeTimers({ toFake: ['Date', 'setInterval', 'clearInterval'] });
    const start = new Date('2026-11-26T10:00:00.000Z').getTime();
    vi.setSystemTime(start + 30_000);
    renderCanvas({
      run: { runId: 'run-1', phase: 'running' },
      nodes: { video: { state: 'running', progress: 0.5, startedAt: start } },
    });
    expect(bodyOf('video')).toContain('30 s elapsed');
    expect(bodyOf('video')).toContain('about 30 s left');
    act(() => {
      vi.advanceTimersByTime(10_000);
    });
    // 40 s for half the work: about 40 s left.
    expect(bodyOf('video')).toContain('40 s elapsed');
    expect(bodyOf('video')).toContain('about 40 s left');
  });

  it('never counts below zero: a step that starts after the card was drawn, or on a server clock ahead', () => {
    vi.useFakeTimers({ toFake: ['Date', 'setInterval', 'clearInterval'] });
    const drawn = new Date('2026-11-26T10:00:00.000Z').getTime();
    vi.setSystemTime(drawn);
    const rendered = renderCanvas({ run: { runId: 'run-1', phase: 'running' } });
    // The video starts a minute later: the card's clock must not still read the time it was drawn.
    vi.setSystemTime(drawn + 60_000);
    act(() => {
      rendered.store.set(runAtom, {
        ...IDLE_RUN,
        runId: 'run-1',
        phase: 'running',
        nodes: { video: { ...IDLE_NODE, state: 'running', progress: 0, startedAt: drawn + 60_000 } },
      });
    });
    expect(bodyOf('video')).toContain('0 s elapsed');
    // The server's clock 4 s ahead of the browser's.
    act(() => {
      rendered.store.set(runAtom, {
        ...IDLE_RUN,
        runId: 'run-1',
        phase: 'running',
        nodes: { video: { ...IDLE_NODE, state: 'running', progress: 0, startedAt: drawn + 64_000 } },
      });
    });
    expect(bodyOf('video')).toContain('0 s elapsed');
    expect(bodyOf('video')).not.toContain('-');
  });

  it('shows the elapsed time but no ETA until the video has made some progress', () => {
    vi.useFakeTimers({ toFake: ['Date', 'setInterval', 'clearInterval'] });
    const start = new Date('2026-11-26T10:00:00.000Z').getTime();
    vi.setSystemTime(start + 5_000);
    renderCanvas({
      run: { runId: 'run-1', phase: 'running' },
      nodes: { video: { state: 'running', progress: 0, startedAt: start } },
    });
    expect(bodyOf('video')).toContain('5 s elapsed');
    expect(bodyOf('video')).not.toContain('left');
  });
});

describe('StepNodeView after success', () => {
  it('shows the word "Done", the duration and the credits charged', () => {
    renderCanvas({
      run: { runId: 'run-1', phase: 'completed' },
      estimate: ESTIMATE,
      nodes: { video: { state: 'success', progress: 1, durationMs: 61_250, cost: 30 } },
    });
    const video = nodeOf('video');
    expect(video.getAttribute('data-state')).toBe('success');
    expect(video.classList.contains('step-node--success')).toBe(true);
    expect(video.getAttribute('aria-label')).toBe('Video: Done');
    expect(video.querySelector('.step-node__state')?.textContent).toBe('✓ Done · 61.3 s');
    // The charged cost replaces the estimate.
    expect(video.querySelector('.step-node__cost')?.textContent).toBe('30 cr');
    expect(progressOf('video').value).toBe(1);
    // No timer once finished.
    expect(bodyOf('video')).toContain('8 s · motion medium');
    expect(bodyOf('video')).not.toContain('elapsed');
  });

  it('shows the enhanced prompt beside the original', () => {
    renderCanvas({
      run: { runId: 'run-1', phase: 'running' },
      nodes: {
        enhance: {
          state: 'success',
          progress: 1,
          durationMs: 800,
          cost: 1,
          output: { original: 'A red fox in the snow', prompt: 'A cinematic red fox in fresh snow at dawn' },
        },
      },
    });
    const texts = nodeOf('enhance').querySelector('dl');
    expect(texts).not.toBeNull();
    const terms = Array.from(texts?.querySelectorAll('dt') ?? [], (term) => term.textContent);
    const values = Array.from(texts?.querySelectorAll('dd') ?? [], (value) => value.textContent);
    expect(terms).toEqual(['Before', 'After']);
    expect(values).toEqual(['A red fox in the snow', 'A cinematic red fox in fresh snow at dawn']);
  });

  it('shows the generated image as a thumbnail', () => {
    renderCanvas({
      run: { runId: 'run-1', phase: 'completed' },
      nodes: { image: { state: 'success', progress: 1, durationMs: 2_000, cost: 5 } },
      content: CONTENT,
    });
    const still = within(nodeOf('image')).getByRole('img', { name: 'Generated still' });
    expect(still.getAttribute('src')).toBe('/media/content-1/image.png');
  });

  it("shows the image node's picture from the node media route as soon as its output is known", () => {
    renderCanvas({
      run: { runId: 'run-1', phase: 'running' },
      nodes: {
        image: {
          state: 'success',
          progress: 1,
          durationMs: 2_000,
          cost: 5,
          output: {
            image: {
              key: 'users/u/runs/run-1/image.png',
              mimeType: 'image/png',
              bytes: 2048,
              width: 720,
              height: 1280,
            },
          },
        },
        video: { state: 'running', progress: 0.2 },
      },
    });
    const image = nodeOf('image');
    const still = within(image).getByRole('img', { name: 'Generated still' });
    expect(still.getAttribute('src')).toBe('/api/workflow/runs/run-1/nodes/image/media/image');
    expect(still.getAttribute('title')).toBe('Image ready · 720×1280 · 2 kB');
    expect(image.querySelector('.step-node__frame')?.getAttribute('data-ready')).toBe('true');
    expect(image.textContent).not.toContain('when the run ends');
  });

  it('plays the finished video in place, with its size and a download link', () => {
    renderCanvas({
      run: { runId: 'run-1', phase: 'completed' },
      nodes: { output: { state: 'success', progress: 1, durationMs: 300, cost: 0 } },
      content: CONTENT,
    });
    const output = nodeOf('output');
    const player = within(output).getByLabelText('Generated video');
    expect(player.tagName).toBe('VIDEO');
    expect(player.getAttribute('src')).toBe('/media/content-1/video.mp4');
    expect(player.getAttribute('poster')).toBe('/media/content-1/thumb.jpg');
    expect(player.hasAttribute('controls')).toBe(true);
    const facts = output.querySelector('.step-node__meta')?.textContent ?? '';
    for (const fact of ['8.0 s', '720×1280', '2.4 MB']) expect(facts).toContain(fact);
    const download = within(output).getByRole('link', { name: 'Download' });
    expect(download.getAttribute('href')).toBe('/media/content-1/video.mp4?download=1');
    expect(download.hasAttribute('download')).toBe(true);
  });

  it('says the player is being prepared until the content is recorded', () => {
    renderCanvas({
      run: { runId: 'run-1', phase: 'completed' },
      nodes: { output: { state: 'success', progress: 1, durationMs: 300, cost: 0 } },
    });
    expect(within(nodeOf('output')).getByText('Preparing the player…')).toBeTruthy();
  });

  it('marks a reused (cached) step and the credits it saved', () => {
    renderCanvas({
      run: { runId: 'run-2', phase: 'completed' },
      nodes: { image: { state: 'cached', progress: 1, saved: 5 } },
    });
    const image = nodeOf('image');
    expect(image.getAttribute('data-state')).toBe('cached');
    expect(image.classList.contains('step-node--cached')).toBe(true);
    expect(image.querySelector('.step-node__state')?.textContent).toBe('↺ Reused · saved 5 cr');
  });
});

describe('StepNodeView after a failure', () => {
  const failedRun = {
    run: { runId: 'run-1', phase: 'failed' as const, error: 'The video step failed.' },
    nodes: {
      prompt: { state: 'success' as const, progress: 1, durationMs: 5, cost: 0 },
      video: {
        state: 'failed' as const,
        progress: 0.3,
        error: 'Your Runway key was rejected: update it in Settings',
      },
      output: { state: 'skipped' as const, progress: 0 },
    },
  };

  it('shows the error in plain words and says what to do', () => {
    renderCanvas({ ...failedRun, rerun: vi.fn() });
    const video = nodeOf('video');
    expect(video.getAttribute('data-state')).toBe('failed');
    expect(video.classList.contains('step-node--failed')).toBe(true);
    expect(video.getAttribute('aria-label')).toBe('Video: Failed');
    expect(video.querySelector('.step-node__state')?.textContent).toBe('✕ Failed');
    expect(within(video).getByRole('alert').textContent).toBe(
      'Your Runway key was rejected: update it in Settings',
    );
    expect(
      within(video).getByText(
        'Fix the cause (a key in Settings, or this step’s settings), then rerun from here.',
      ),
    ).toBeTruthy();
  });

  it('keeps the technical details behind a "Details" toggle, closed by default', async () => {
    const { user } = renderCanvas({
      ...failedRun,
      nodes: {
        ...failedRun.nodes,
        video: {
          ...failedRun.nodes.video,
          failure: {
            code: 'NON_RETRYABLE',
            retryable: false,
            attempts: 2,
            providerId: 'runway-video',
            reason: 'invalid_key',
          },
        },
      },
      store: (store) => store.set(providerKeysAtom, PROVIDER_KEYS),
    });
    const video = nodeOf('video');
    const toggle = within(video).getByRole('button', { name: 'Details' });
    expect(toggle.getAttribute('aria-expanded')).toBe('false');
    const list = document.getElementById(toggle.getAttribute('aria-controls') ?? '');
    expect(list?.hidden).toBe(true);
    // The plain-words message stays the only alert; the details are not announced.
    expect(within(video).getAllByRole('alert')).toHaveLength(1);

    await user.click(toggle);
    expect(toggle.getAttribute('aria-expanded')).toBe('true');
    expect(list?.hidden).toBe(false);
    const facts = Array.from(list?.querySelectorAll('dt') ?? [], (term) => [
      term.textContent,
      term.nextElementSibling?.textContent,
    ]);
    expect(facts).toEqual([
      ['Error code', 'NON_RETRYABLE'],
      ['Provider', 'Runway (runway-video)'],
      ['Cause', 'invalid_key'],
      ['Attempts', '2'],
      ['Worth retrying', 'no'],
    ]);

    await user.click(toggle);
    expect(toggle.getAttribute('aria-expanded')).toBe('false');
    expect(list?.hidden).toBe(true);
  });

  it('shows only the facts the failure carries, in French too', async () => {
    const { user } = renderCanvas({
      ...failedRun,
      nodes: {
        ...failedRun.nodes,
        video: {
          ...failedRun.nodes.video,
          failure: { code: 'NODE_FAILED', retryable: true, attempts: 3 },
        },
      },
      language: 'fr',
    });
    await user.click(within(nodeOf('video')).getByRole('button', { name: 'Détails' }));
    const list = nodeOf('video').querySelector('.failure-details__list');
    expect(Array.from(list?.querySelectorAll('dt') ?? [], (term) => term.textContent)).toEqual([
      'Code d’erreur',
      'Tentatives',
      'Réessayer peut aider',
    ]);
    expect(list?.textContent).toContain('NODE_FAILED');
    expect(list?.textContent).toContain('oui');
  });

  it('reruns from the failed step when asked', async () => {
    const rerun = vi.fn<(nodeId: string) => void>();
    const { user } = renderCanvas({ ...failedRun, rerun });
    await user.click(within(nodeOf('video')).getByRole('button', { name: 'Rerun from here' }));
    expect(rerun).toHaveBeenCalledTimes(1);
    expect(rerun).toHaveBeenCalledWith('video');
  });

  it('offers a rerun on every step the finished run reached, and not on the others', () => {
    renderCanvas({ ...failedRun, rerun: vi.fn() });
    expect(within(nodeOf('prompt')).getByRole('button', { name: 'Rerun from here' })).toBeTruthy();
    // Never reached: nothing to rerun from.
    expect(within(nodeOf('enhance')).queryByRole('button')).toBeNull();
  });

  it('offers no rerun when the page gives no way to rerun', () => {
    renderCanvas(failedRun);
    expect(within(nodeOf('video')).queryByRole('button')).toBeNull();
  });

  it('marks the steps skipped after the failure', () => {
    renderCanvas({ ...failedRun, rerun: vi.fn() });
    const output = nodeOf('output');
    expect(output.getAttribute('data-state')).toBe('skipped');
    expect(output.getAttribute('aria-label')).toBe('Output: Skipped');
    expect(output.querySelector('.step-node__state')?.textContent).toBe('– Skipped');
    expect(within(output).queryByRole('alert')).toBeNull();
  });

  it('marks the steps of a cancelled run "Cancelled"', () => {
    const rerun = vi.fn<(nodeId: string) => void>();
    renderCanvas({
      run: { runId: 'run-1', phase: 'cancelled' },
      nodes: { video: { state: 'cancelled', progress: 0.6 } },
      rerun,
    });
    const video = nodeOf('video');
    expect(video.getAttribute('data-state')).toBe('cancelled');
    expect(video.classList.contains('step-node--cancelled')).toBe(true);
    expect(video.querySelector('.step-node__state')?.textContent).toBe('■ Cancelled');
    expect(within(video).getByRole('button', { name: 'Rerun from here' })).toBeTruthy();
  });
});

describe('StepNodeView with an invalid graph', () => {
  it('outlines the node and lists what to fix, from the browser’s check and the server', () => {
    renderCanvas({
      store: (store) => {
        const graph = store.get(graphAtom);
        // The image loses its prompt: "Connect the prompt input".
        store.set(graphAtom, {
          ...graph,
          edges: (graph.edges ?? []).filter((edge) => edge.id !== 'enhance-image'),
        });
        store.set(serverIssuesAtom, [{ nodeId: 'image', message: 'size: must be small, medium or large' }]);
      },
    });
    const image = nodeOf('image');
    expect(image.getAttribute('data-invalid')).toBe('true');
    expect(image.classList.contains('step-node--invalid')).toBe(true);
    const issues = within(screen.getByTestId('issues-image')).getAllByRole('listitem');
    expect(issues.map((issue) => issue.textContent)).toEqual([
      'Connect the prompt input: this step needs it.',
      'size: must be small, medium or large',
    ]);
    expect(nodeOf('video').hasAttribute('data-invalid')).toBe(false);
  });
});

describe('StepNodeView before the idea is typed', () => {
  it('leaves an empty prompt step calm: no red outline, no problem listed', () => {
    renderCanvas({ prompt: '' });
    const prompt = nodeOf('prompt');
    expect(prompt.hasAttribute('data-invalid')).toBe(false);
    expect(prompt.classList.contains('step-node--invalid')).toBe(false);
    expect(screen.queryByTestId('issues-prompt')).toBeNull();
  });
});

describe('StepNodeView and untrusted text', () => {
  it('shows markup in a prompt, an enhanced prompt, an error and an issue as text, never as HTML', () => {
    renderCanvas({
      prompt: XSS,
      run: { runId: 'run-1', phase: 'failed' },
      nodes: {
        enhance: { state: 'success', progress: 1, output: { original: XSS, prompt: `${XSS} enhanced` } },
        image: { state: 'failed', progress: 0, error: XSS },
      },
      store: (store) => store.set(serverIssuesAtom, [{ nodeId: 'video', message: XSS }]),
    });
    expect(within(nodeOf('prompt')).getByText(XSS)).toBeTruthy();
    expect(within(nodeOf('enhance')).getByText(XSS)).toBeTruthy();
    expect(within(nodeOf('enhance')).getByText(`${XSS} enhanced`)).toBeTruthy();
    expect(within(nodeOf('image')).getByRole('alert').textContent).toBe(XSS);
    expect(within(nodeOf('video')).getByText(XSS)).toBeTruthy();
    expect(document.querySelector('img')).toBeNull();
    expect(document.querySelector('[onerror]')).toBeNull();
    expect(Reflect.get(window, '__xss')).toBeUndefined();
  });
});

import { Handle, type NodeProps, Position, useNodeId, useUpdateNodeInternals } from '@xyflow/react';
import { useAtomValue } from 'jotai';
import { useContext, useEffect, useRef, useState } from 'react';
import { configOf, graphAtom } from '../atoms/graph.ts';
import { providerNamesAtom } from '../atoms/keys.ts';
import { useT } from '../atoms/language.ts';
import { estimateAtom, runActiveAtom, runAtom, runContentAtom } from '../atoms/run.ts';
import type { StepNode, StepType } from '../graph/graph-types.ts';
import { NODE_SPECS } from '../graph/validate-graph.ts';
import { imageOfOutput, nodeImageUrl } from '../run/node-media.ts';
import { IDLE_NODE, type NodeRunState } from '../run/run-state.ts';
import { localIssuesAtom, RerunContext, serverIssuesAtom, VerticalLayoutContext } from './canvas-atoms.ts';
import { FailureDetails } from './failure-details.tsx';
import { formatBytes } from './media-facts.ts';
import { OutputPlayer } from './output-player.tsx';
import { STATE_ICON, STEP_META } from './step-meta.ts';

const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
const field = (value: unknown, key: string): unknown =>
  typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;

/**
 * One step of the workflow on the canvas: header (icon, title, provider, cost), live body, footer
 * (state word, progress, duration) and typed handles named after the engine's ports. The state is
 * on `data-state` (idle, running, success, failed, cached, skipped, cancelled).
 */
export function StepNodeView({ id, type, selected }: NodeProps<StepNode>) {
  const graph = useAtomValue(graphAtom);
  const run = useAtomValue(runAtom);
  const estimate = useAtomValue(estimateAtom);
  const config = configOf(graph, id);
  const node = run.nodes[id] ?? IDLE_NODE;
  const meta = STEP_META[type];
  const t = useT();
  const title = t(`step.${type}`);
  const stateWord = t(`state.${node.state}`);
  const provider = text(config.provider);
  const providerNames = useAtomValue(providerNamesAtom);
  const local = provider?.startsWith('local-') === true;
  const cost = node.cost ?? estimate?.nodes.find((entry) => entry.nodeId === id)?.cost;
  // Handles are named after the engine's ports (edges reference them).
  const ports = {
    inputs: NODE_SPECS[type].inputs.map((port) => port.name),
    outputs: NODE_SPECS[type].outputs.map((port) => port.name),
  };
  const localIssues = useAtomValue(localIssuesAtom);
  const serverIssues = useAtomValue(serverIssuesAtom);
  const active = useAtomValue(runActiveAtom);
  const rerun = useContext(RerunContext);
  const vertical = useContext(VerticalLayoutContext);
  const updateNodeInternals = useUpdateNodeInternals();
  // The handles move (left/right ↔ top/bottom) with the layout: React Flow measures them again.
  // Not on mount (React Flow measures a new node itself; measuring one node early would let a
  // queued fit view fit that node alone).
  const shownVertical = useRef(vertical);
  useEffect(() => {
    if (shownVertical.current === vertical) return;
    shownVertical.current = vertical;
    updateNodeInternals(id);
  }, [vertical, id, updateNodeInternals]);
  const inSide = vertical ? Position.Top : Position.Left;
  const outSide = vertical ? Position.Bottom : Position.Right;
  const along = (index: number, count: number) =>
    vertical
      ? { left: `${((index + 1) * 100) / (count + 1)}%` }
      : { top: `${((index + 1) * 100) / (count + 1)}%` };
  const problems = [
    ...localIssues
      .filter((issue) => issue.nodeId === id)
      .map((issue) => t(`issue.${issue.code}`, localValues(issue.values, t))),
    ...serverIssues.filter((issue) => issue.nodeId === id).map((issue) => issue.message),
  ];
  const finished = run.phase === 'completed' || run.phase === 'failed' || run.phase === 'cancelled';
  const canRerun =
    rerun !== null &&
    !active &&
    finished &&
    run.runId !== null &&
    node.state !== 'idle' &&
    run.nodes[id] !== undefined;

  return (
    <article
      className={`step-node step-node--${type} step-node--${node.state}${selected ? ' step-node--selected' : ''}${problems.length > 0 ? ' step-node--invalid' : ''}`}
      data-state={node.state}
      data-invalid={problems.length > 0 ? 'true' : undefined}
      data-testid={`node-${id}`}
      aria-label={`${title}: ${stateWord}`}
    >
      {ports.inputs.map((port, index) => (
        <Handle
          key={`in-${port}`}
          id={port}
          type="target"
          position={inSide}
          className={`port port--${port}`}
          style={along(index, ports.inputs.length)}
          title={port}
        />
      ))}
      <header className="step-node__header">
        <span className={`step-node__icon${type === 'enhance' ? ' step-node__icon--brain' : ''}`} aria-hidden>
          {meta.icon}
        </span>
        <span className="step-node__title">{title}</span>
        {provider && (
          // The provider's name as people know it ("Runway"); its id in the tooltip.
          <span className={`badge${local ? ' badge--local' : ''}`} title={provider}>
            {local ? t('node.local') : (providerNames.get(provider) ?? provider)}
          </span>
        )}
        {cost !== undefined && (
          <span className="step-node__cost">{t('node.credits', { credits: cost })}</span>
        )}
      </header>
      <div className="step-node__body">
        <StepBody type={type} config={config} node={node} />
      </div>
      <footer className="step-node__footer">
        <span className="step-node__state">
          <span aria-hidden>{STATE_ICON[node.state]}</span> {stateWord}
          {node.durationMs !== undefined && ` · ${(node.durationMs / 1000).toFixed(1)} s`}
          {node.saved !== undefined && t('node.saved', { credits: node.saved })}
        </span>
        <progress
          className="step-node__progress"
          max={1}
          value={node.progress}
          aria-label={t('node.progress', { title })}
        />
        {/* Always there (empty when idle), so a progress message never pushes the card taller. */}
        <span className="step-node__message">{node.state === 'running' ? (node.message ?? '') : ''}</span>
        {node.error && (
          <p className="step-node__error" role="alert">
            {node.error}
          </p>
        )}
        {node.state === 'failed' && <p className="step-node__hint">{t('node.failedHint')}</p>}
        {node.state === 'failed' && node.failure && <FailureDetails failure={node.failure} />}
        {problems.length > 0 && (
          <ul className="step-node__issues" data-testid={`issues-${id}`}>
            {problems.map((problem) => (
              <li key={problem}>{problem}</li>
            ))}
          </ul>
        )}
        {canRerun && (
          <button type="button" className="button button--small nodrag" onClick={() => rerun(id)}>
            {t('node.rerun')}
          </button>
        )}
      </footer>
      {ports.outputs.map((port, index) => (
        <Handle
          key={`out-${port}`}
          id={port}
          type="source"
          position={outSide}
          className={`port port--${port}`}
          style={along(index, ports.outputs.length)}
          title={port}
        />
      ))}
    </article>
  );
}

/** Port types in the reader's language, the other values as they are. */
function localValues(values: Readonly<Record<string, string>>, t: ReturnType<typeof useT>) {
  const word = (value: string | undefined) =>
    value === 'text' || value === 'image' || value === 'video' ? t(`port.${value}`) : value;
  return Object.fromEntries(
    Object.entries(values).map(([key, value]) => [
      key,
      key === 'from' || key === 'to' ? (word(value) ?? '') : value,
    ]),
  );
}

function StepBody(props: {
  readonly type: StepType;
  readonly config: Readonly<Record<string, unknown>>;
  readonly node: NodeRunState;
}) {
  const { type, config, node } = props;
  const content = useAtomValue(runContentAtom);
  const t = useT();
  switch (type) {
    case 'prompt': {
      const prompt = text(config.text) ?? '';
      return <p className="step-node__text">{prompt === '' ? t('node.promptEmpty') : prompt}</p>;
    }
    case 'enhance': {
      const before = text(field(node.output, 'original'));
      const after = text(field(node.output, 'prompt'));
      if (after === undefined) return <p className="step-node__hint">{t('node.enhanceHint')}</p>;
      return (
        <dl className="step-node__texts">
          <dt>{t('node.before')}</dt>
          <dd>{before}</dd>
          <dt>{t('node.after')}</dt>
          <dd>{after}</dd>
        </dl>
      );
    }
    case 'image':
      return <ImageBody config={config} node={node} />;
    case 'video':
      return <VideoBody config={config} node={node} />;
    case 'output': {
      const video = content?.media.video;
      if (content === null || video === undefined || video === null)
        return (
          <div className="step-node__screen step-node__screen--empty">
            <p className="step-node__hint">
              {node.state === 'success' ? t('node.preparing') : t('node.videoHere')}
            </p>
          </div>
        );
      return <OutputPlayer content={content} video={video} />;
    }
  }
}

function VideoBody(props: {
  readonly config: Readonly<Record<string, unknown>>;
  readonly node: NodeRunState;
}) {
  const { config, node } = props;
  const t = useT();
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (node.state !== 'running') return;
    // `now` dates from the card's first render: without this, a step that starts later would show
    // a negative time until the first tick.
    setNow(Date.now());
    const timer = setInterval(() => setNow(Date.now()), 500);
    return () => clearInterval(timer);
  }, [node.state]);
  const elapsed =
    node.state === 'running' && node.startedAt !== undefined
      ? // The start time is the server's clock: a browser clock behind it must not count below 0.
        Math.max(0, (now - node.startedAt) / 1000)
      : undefined;
  const eta =
    elapsed !== undefined && node.progress > 0.05
      ? Math.max(0, elapsed / node.progress - elapsed)
      : undefined;
  // The body's height is fixed (styles.css): the timer and ETA wrapping onto a second line move nothing.
  return (
    <p className="step-node__hint">
      {String(config.durationSeconds ?? 8)} s ·{' '}
      {t('node.motion', { motion: String(config.motion ?? 'medium') })}
      {elapsed !== undefined && t('node.elapsed', { seconds: elapsed.toFixed(0) })}
      {eta !== undefined && t('node.eta', { seconds: Math.ceil(eta) })}
    </p>
  );
}

/**
 * The image node's body: a frame of fixed height holding the picture from the moment the image
 * node completes (its `node.completed` event: the node media route serves what its output
 * references, while the run goes on), else what the image is.
 */
function ImageBody(props: {
  readonly config: Readonly<Record<string, unknown>>;
  readonly node: NodeRunState;
}) {
  const { config, node } = props;
  const content = useAtomValue(runContentAtom);
  const { runId } = useAtomValue(runAtom);
  const nodeId = useNodeId();
  const t = useT();
  const done = node.state === 'success' || node.state === 'cached';
  const made = done ? imageOfOutput(node.output) : undefined;
  // The node's own media route as soon as its output is known (a reused node's output references
  // its parent's image); the content's image for a run told without outputs. A node that did not
  // run (one just added) shows no picture.
  const live =
    done && runId !== null && nodeId !== null ? nodeImageUrl(runId, nodeId, node.output) : undefined;
  const picture = done ? (live ?? content?.media.image?.url ?? content?.media.thumbnail?.url) : undefined;
  const facts = made
    ? t('node.imageReady', { width: made.width, height: made.height, size: formatBytes(made.bytes) })
    : undefined;
  return (
    <>
      {/* The picture's place, kept from the start so nothing moves when it arrives. */}
      <div
        className={`step-node__frame${picture ? '' : ' step-node__frame--empty'}`}
        data-ready={made || picture ? 'true' : undefined}
      >
        {picture ? (
          <img className="step-node__thumb" src={picture} alt={t('node.still')} title={facts} />
        ) : made ? (
          <p className="step-node__hint">
            {facts}
            <br />
            {t('node.imageSoon')}
          </p>
        ) : null}
      </div>
      <p className="step-node__hint">
        {String(config.size ?? 'medium')} · {String(config.aspectRatio ?? '9:16')}
      </p>
    </>
  );
}

import { Handle, type NodeProps, Position } from '@xyflow/react';
import { useAtomValue } from 'jotai';
import { useEffect, useState } from 'react';
import { configOf, graphAtom } from '../atoms/graph.ts';
import { contentAtom, estimateAtom, runAtom } from '../atoms/run.ts';
import type { StepNode, StepType } from '../graph/graph-types.ts';
import { STEP_PORTS } from '../graph/short-video-graph.ts';
import { IDLE_NODE, type NodeRunState } from '../run/run-state.ts';
import { STATE_LABEL, STEP_META } from './step-meta.ts';

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
  const provider = text(config.provider);
  const cost = node.cost ?? estimate?.nodes.find((entry) => entry.nodeId === id)?.cost;
  const ports = STEP_PORTS[type];

  return (
    <article
      className={`step-node step-node--${node.state}${selected ? ' step-node--selected' : ''}`}
      data-state={node.state}
      data-testid={`node-${id}`}
      aria-label={`${meta.title}: ${STATE_LABEL[node.state].word}`}
    >
      {ports.inputs.map((port, index) => (
        <Handle
          key={`in-${port}`}
          id={port}
          type="target"
          position={Position.Left}
          className={`port port--${port}`}
          style={{ top: `${((index + 1) * 100) / (ports.inputs.length + 1)}%` }}
          title={port}
        />
      ))}
      <header className="step-node__header">
        <span className={`step-node__icon${type === 'enhance' ? ' step-node__icon--brain' : ''}`} aria-hidden>
          {meta.icon}
        </span>
        <span className="step-node__title">{meta.title}</span>
        {provider && (
          <span className={`badge${provider.startsWith('local-') ? ' badge--local' : ''}`}>
            {provider.startsWith('local-') ? 'local' : provider}
          </span>
        )}
        {cost !== undefined && <span className="step-node__cost">{cost} cr</span>}
      </header>
      <div className="step-node__body">
        <StepBody type={type} config={config} node={node} />
      </div>
      <footer className="step-node__footer">
        <span className="step-node__state">
          <span aria-hidden>{STATE_LABEL[node.state].icon}</span> {STATE_LABEL[node.state].word}
          {node.durationMs !== undefined && ` · ${(node.durationMs / 1000).toFixed(1)} s`}
          {node.saved !== undefined && ` · saved ${node.saved} cr`}
        </span>
        <progress
          className="step-node__progress"
          max={1}
          value={node.progress}
          aria-label={`${meta.title} progress`}
        />
        {node.message && node.state === 'running' && (
          <span className="step-node__message">{node.message}</span>
        )}
        {node.error && (
          <p className="step-node__error" role="alert">
            {node.error}
          </p>
        )}
      </footer>
      {ports.outputs.map((port, index) => (
        <Handle
          key={`out-${port}`}
          id={port}
          type="source"
          position={Position.Right}
          className={`port port--${port}`}
          style={{ top: `${((index + 1) * 100) / (ports.outputs.length + 1)}%` }}
          title={port}
        />
      ))}
    </article>
  );
}

function StepBody(props: {
  readonly type: StepType;
  readonly config: Readonly<Record<string, unknown>>;
  readonly node: NodeRunState;
}) {
  const { type, config, node } = props;
  const content = useAtomValue(contentAtom);
  switch (type) {
    case 'prompt': {
      const prompt = text(config.text) ?? '';
      return (
        <p className="step-node__text">{prompt === '' ? 'Describe your video in the panel.' : prompt}</p>
      );
    }
    case 'enhance': {
      const before = text(field(node.output, 'original'));
      const after = text(field(node.output, 'prompt'));
      if (after === undefined)
        return <p className="step-node__hint">Rewrites your idea into a detailed prompt.</p>;
      return (
        <dl className="step-node__texts">
          <dt>Before</dt>
          <dd>{before}</dd>
          <dt>After</dt>
          <dd>{after}</dd>
        </dl>
      );
    }
    case 'image': {
      const thumbnail = content?.media.image?.url ?? content?.media.thumbnail?.url;
      if (thumbnail) return <img className="step-node__thumb" src={thumbnail} alt="Generated still" />;
      return (
        <p className="step-node__hint">
          {String(config.size ?? 'medium')} · {String(config.aspectRatio ?? '9:16')}
        </p>
      );
    }
    case 'video':
      return <VideoBody config={config} node={node} />;
    case 'output': {
      const video = content?.media.video;
      if (video === undefined || video === null)
        return (
          <p className="step-node__hint">
            {node.state === 'success' ? 'Preparing the player…' : 'Your video appears here.'}
          </p>
        );
      return (
        <div className="step-node__player nodrag">
          {/* biome-ignore lint/a11y/useMediaCaption: the generated clips carry no dialogue; captions come with hosted audio */}
          <video
            controls
            playsInline
            preload="metadata"
            src={video.url}
            poster={content?.media.thumbnail?.url}
            aria-label="Generated video"
          />
          <p className="step-node__meta">
            {content?.durationSeconds !== null && `${content?.durationSeconds?.toFixed(1)} s`}
            {content?.width && content.height ? ` · ${content.width}×${content.height}` : ''}
            {content ? ` · ${(content.fileSizeBytes / 1_000_000).toFixed(1)} MB` : ''}
          </p>
          <a className="button button--small" href={video.downloadUrl} download>
            Download
          </a>
        </div>
      );
    }
  }
}

function VideoBody(props: {
  readonly config: Readonly<Record<string, unknown>>;
  readonly node: NodeRunState;
}) {
  const { config, node } = props;
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (node.state !== 'running') return;
    const timer = setInterval(() => setNow(Date.now()), 500);
    return () => clearInterval(timer);
  }, [node.state]);
  const elapsed =
    node.state === 'running' && node.startedAt !== undefined ? (now - node.startedAt) / 1000 : undefined;
  const eta =
    elapsed !== undefined && node.progress > 0.05
      ? Math.max(0, elapsed / node.progress - elapsed)
      : undefined;
  return (
    <p className="step-node__hint">
      {String(config.durationSeconds ?? 8)} s · motion {String(config.motion ?? 'medium')}
      {elapsed !== undefined && ` · ${elapsed.toFixed(0)} s elapsed`}
      {eta !== undefined && ` · about ${Math.ceil(eta)} s left`}
    </p>
  );
}

import { useAtomValue, useSetAtom } from 'jotai';
import { useId } from 'react';
import { configOf, graphAtom, patchConfigAtom, selectedNodeIdAtom } from '../atoms/graph.ts';
import { providerChoicesAtom } from '../atoms/keys.ts';
import { runActiveAtom } from '../atoms/run.ts';
import { isStepType } from '../graph/graph-types.ts';
import { STEP_META } from './step-meta.ts';

const KEY_WORDS = {
  'not-needed': 'local, no key needed',
  none: 'needs a key (Settings)',
  valid: 'key valid',
  invalid: 'key rejected: update it in Settings',
  unchecked: 'key saved, not tested',
} as const;

/** The selected node's settings: the prompt, the provider (local or with a key) and its options. */
export function NodePanel() {
  const graph = useAtomValue(graphAtom);
  const selected = useAtomValue(selectedNodeIdAtom);
  const patch = useSetAtom(patchConfigAtom);
  const choices = useAtomValue(providerChoicesAtom);
  const locked = useAtomValue(runActiveAtom);
  const ids = { prompt: useId(), provider: useId(), size: useId(), duration: useId(), motion: useId() };
  const node = graph.nodes.find((candidate) => candidate.id === selected);
  if (node === undefined || !isStepType(node.type))
    return <aside className="panel">Select a node to see its settings.</aside>;
  const config = configOf(graph, node.id);
  const meta = STEP_META[node.type];
  const set = (key: string, value: unknown) => patch({ nodeId: node.id, patch: { [key]: value } });

  return (
    <aside className="panel" aria-label={`${meta.title} settings`}>
      <h2>{meta.title}</h2>
      {node.type === 'prompt' && (
        <>
          <label htmlFor={ids.prompt}>Prompt</label>
          <textarea
            id={ids.prompt}
            rows={6}
            maxLength={2000}
            disabled={locked}
            placeholder="A red fox in the snow at dawn"
            value={typeof config.text === 'string' ? config.text : ''}
            onChange={(event) => set('text', event.target.value)}
          />
        </>
      )}
      {meta.kind !== undefined && (
        <>
          <label htmlFor={ids.provider}>Provider</label>
          <select
            id={ids.provider}
            disabled={locked}
            value={typeof config.provider === 'string' ? config.provider : ''}
            onChange={(event) => set('provider', event.target.value)}
          >
            {choices(meta.kind).map((choice) => (
              <option key={choice.id} value={choice.id}>
                {choice.name} ({KEY_WORDS[choice.key]})
              </option>
            ))}
          </select>
        </>
      )}
      {node.type === 'image' && (
        <>
          <label htmlFor={ids.size}>Image size</label>
          <select
            id={ids.size}
            disabled={locked}
            value={String(config.size ?? 'medium')}
            onChange={(event) => set('size', event.target.value)}
          >
            <option value="small">Small</option>
            <option value="medium">Medium</option>
            <option value="large">Large</option>
          </select>
        </>
      )}
      {node.type === 'video' && (
        <>
          <label htmlFor={ids.duration}>Duration</label>
          <select
            id={ids.duration}
            disabled={locked}
            value={String(config.durationSeconds ?? 8)}
            onChange={(event) => set('durationSeconds', Number(event.target.value))}
          >
            {[8, 15, 30, 60].map((seconds) => (
              <option key={seconds} value={seconds}>
                {seconds} seconds
              </option>
            ))}
          </select>
          <label htmlFor={ids.motion}>Motion</label>
          <select
            id={ids.motion}
            disabled={locked}
            value={String(config.motion ?? 'medium')}
            onChange={(event) => set('motion', event.target.value)}
          >
            <option value="low">Low</option>
            <option value="medium">Medium</option>
            <option value="high">High</option>
          </select>
        </>
      )}
      {node.type === 'output' && <p>The finished video plays here, ready to download.</p>}
    </aside>
  );
}

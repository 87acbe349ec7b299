import { useAtomValue, useSetAtom } from 'jotai';
import { useId } from 'react';
import { configOf, graphAtom, patchConfigAtom, selectedNodeIdAtom } from '../atoms/graph.ts';
import { providerChoicesAtom } from '../atoms/keys.ts';
import { useT } from '../atoms/language.ts';
import { runActiveAtom } from '../atoms/run.ts';
import { isStepType } from '../graph/graph-types.ts';
import { SaveTemplate } from './save-template.tsx';
import { STEP_META } from './step-meta.ts';

/** The selected node's settings: the prompt, the provider (local or with a key) and its options. */
export function NodePanel() {
  const graph = useAtomValue(graphAtom);
  const selected = useAtomValue(selectedNodeIdAtom);
  const patch = useSetAtom(patchConfigAtom);
  const choices = useAtomValue(providerChoicesAtom);
  const locked = useAtomValue(runActiveAtom);
  const t = useT();
  const ids = { prompt: useId(), provider: useId(), size: useId(), duration: useId(), motion: useId() };
  const node = graph.nodes.find((candidate) => candidate.id === selected);
  if (node === undefined || !isStepType(node.type))
    return (
      <aside className="panel">
        <p>{t('panel.select')}</p>
        <SaveTemplate />
      </aside>
    );
  const config = configOf(graph, node.id);
  const meta = STEP_META[node.type];
  const title = t(`step.${node.type}`);
  const set = (key: string, value: unknown) => patch({ nodeId: node.id, patch: { [key]: value } });

  return (
    <aside className="panel" aria-label={t('panel.settings', { title })}>
      <h2>{title}</h2>
      {node.type === 'prompt' && (
        <>
          <label htmlFor={ids.prompt}>{t('panel.prompt')}</label>
          <textarea
            id={ids.prompt}
            rows={6}
            maxLength={2000}
            disabled={locked}
            placeholder={t('panel.promptPlaceholder')}
            value={typeof config.text === 'string' ? config.text : ''}
            onChange={(event) => set('text', event.target.value)}
          />
        </>
      )}
      {meta.kind !== undefined && (
        <>
          <label htmlFor={ids.provider}>{t('panel.provider')}</label>
          <select
            id={ids.provider}
            disabled={locked}
            value={typeof config.provider === 'string' ? config.provider : ''}
            onChange={(event) => set('provider', event.target.value)}
          >
            {choices(meta.kind).map((choice) => (
              <option key={choice.id} value={choice.id}>
                {choice.name} ({t(`key.${choice.key}`)})
              </option>
            ))}
          </select>
        </>
      )}
      {node.type === 'image' && (
        <>
          <label htmlFor={ids.size}>{t('panel.imageSize')}</label>
          <select
            id={ids.size}
            disabled={locked}
            value={String(config.size ?? 'medium')}
            onChange={(event) => set('size', event.target.value)}
          >
            <option value="small">{t('panel.small')}</option>
            <option value="medium">{t('panel.medium')}</option>
            <option value="large">{t('panel.large')}</option>
          </select>
        </>
      )}
      {node.type === 'video' && (
        <>
          <label htmlFor={ids.duration}>{t('panel.duration')}</label>
          <select
            id={ids.duration}
            disabled={locked}
            value={String(config.durationSeconds ?? 8)}
            onChange={(event) => set('durationSeconds', Number(event.target.value))}
          >
            {[8, 15, 30, 60].map((seconds) => (
              <option key={seconds} value={seconds}>
                {t('panel.seconds', { seconds })}
              </option>
            ))}
          </select>
          <label htmlFor={ids.motion}>{t('panel.motion')}</label>
          <select
            id={ids.motion}
            disabled={locked}
            value={String(config.motion ?? 'medium')}
            onChange={(event) => set('motion', event.target.value)}
          >
            <option value="low">{t('panel.low')}</option>
            <option value="medium">{t('panel.medium')}</option>
            <option value="high">{t('panel.high')}</option>
          </select>
        </>
      )}
      {node.type === 'output' && <p>{t('panel.output')}</p>}
      <SaveTemplate />
    </aside>
  );
}

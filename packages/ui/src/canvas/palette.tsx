import { useAtom, useAtomValue } from 'jotai';
import { graphAtom, selectedNodeIdAtom } from '../atoms/graph.ts';
import { useT } from '../atoms/language.ts';
import { runActiveAtom } from '../atoms/run.ts';
import { addNode, removeElements } from '../graph/edit-graph.ts';
import { STEP_TYPES } from '../graph/graph-types.ts';
import { NODE_SPECS } from '../graph/validate-graph.ts';
import { canvasStatusAtom, selectedEdgeIdAtom } from './canvas-atoms.ts';
import { STEP_META } from './step-meta.ts';
import { PHONE_QUERY, useMediaQuery } from './use-media-query.ts';

/**
 * The palette of the registered node types (add one, e.g. a second image node to compare
 * providers), the Delete button for the selected node or edge, and the edit status line.
 */
export function Palette() {
  const [graph, setGraph] = useAtom(graphAtom);
  const [selectedNode, setSelectedNode] = useAtom(selectedNodeIdAtom);
  const [selectedEdge, setSelectedEdge] = useAtom(selectedEdgeIdAtom);
  const [status, setStatus] = useAtom(canvasStatusAtom);
  const locked = useAtomValue(runActiveAtom);
  const phone = useMediaQuery(PHONE_QUERY);
  const t = useT();
  const portList = (ports: readonly { name: string }[]) =>
    ports.length === 0 ? t('edit.none') : ports.map((port) => port.name).join(', ');

  const add = (type: (typeof STEP_TYPES)[number]) => {
    const added = addNode(graph, type);
    setGraph(added.graph);
    setSelectedNode(added.id);
    setSelectedEdge(null);
    setStatus({ text: t('edit.added', { id: added.id }), error: false });
  };

  return (
    <section className="palette" aria-label={t('edit.palette')}>
      {/* One row that scrolls sideways on a phone (styles.css), leaving the height to the canvas. */}
      <div className="palette__tools">
        <span className="palette__title">{t('edit.palette')}</span>
        {STEP_TYPES.map((type) => (
          <button
            key={type}
            type="button"
            className="button button--small"
            disabled={locked}
            aria-label={t('edit.addLabel', {
              title: t(`step.${type}`),
              inputs: portList(NODE_SPECS[type].inputs),
              outputs: portList(NODE_SPECS[type].outputs),
            })}
            title={t('edit.addLabel', {
              title: t(`step.${type}`),
              inputs: portList(NODE_SPECS[type].inputs),
              outputs: portList(NODE_SPECS[type].outputs),
            })}
            onClick={() => add(type)}
          >
            <span aria-hidden>{STEP_META[type].icon}</span> {t('edit.add', { title: t(`step.${type}`) })}
          </button>
        ))}
        <DeleteButton
          disabled={locked || (selectedNode === null && selectedEdge === null)}
          onDelete={() => {
            setGraph(
              removeElements(graph, {
                nodeIds: selectedNode === null ? [] : [selectedNode],
                edgeIds: selectedEdge === null ? [] : [selectedEdge],
              }),
            );
            setStatus({
              text: t('edit.deleted', { what: selectedNode ?? selectedEdge ?? '' }),
              error: false,
            });
            setSelectedNode(null);
            setSelectedEdge(null);
          }}
        />
      </div>
      <p
        className={`palette__status${status?.error ? ' palette__status--error' : ''}`}
        role="status"
        data-testid="canvas-status"
      >
        {/* On a phone the canvas scrolls: the hint says how, rather than how to wire handles. */}
        {status?.text ?? t(phone ? 'canvas.phoneHint' : 'edit.hint')}
      </p>
    </section>
  );
}

function DeleteButton(props: { readonly disabled: boolean; readonly onDelete: () => void }) {
  const t = useT();
  return (
    <button
      type="button"
      className="button button--small button--danger"
      disabled={props.disabled}
      onClick={props.onDelete}
    >
      {t('edit.delete')}
    </button>
  );
}

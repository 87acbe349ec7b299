import {
  applyNodeChanges,
  Background,
  Controls,
  type Edge,
  MiniMap,
  type NodeTypes,
  type OnNodesChange,
  ReactFlow,
  useReactFlow,
} from '@xyflow/react';
import { useAtom, useAtomValue, useSetAtom } from 'jotai';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { api, messageOf } from '../api/api-client.ts';
import type { ContentList, CostEstimate, ProviderKeys, RunAccepted } from '../api/api-types.ts';
import { graphAtom, moveNodeAtom, selectedNodeIdAtom } from '../atoms/graph.ts';
import { providerKeysAtom } from '../atoms/keys.ts';
import { useT } from '../atoms/language.ts';
import { locationAtom, navigateAtom } from '../atoms/route.ts';
import { contentAtom, estimateAtom, runAtom, runErrorAtom } from '../atoms/run.ts';
import { NodePanel } from '../canvas/node-panel.tsx';
import { RunBar } from '../canvas/run-bar.tsx';
import { STATE_COLOUR } from '../canvas/step-meta.ts';
import { StepNodeView } from '../canvas/step-node.tsx';
import { canvasEdgesOf, canvasNodesOf } from '../canvas/to-canvas.ts';
import type { StepNode } from '../graph/graph-types.ts';
import { followRun } from '../run/follow-run.ts';
import { applyRunEvent, IDLE_NODE, IDLE_RUN } from '../run/run-state.ts';

const nodeTypes = {
  prompt: StepNodeView,
  enhance: StepNodeView,
  image: StepNodeView,
  video: StepNodeView,
  output: StepNodeView,
} satisfies NodeTypes;

const randomKey = () => {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
};

/** /create: the five-step canvas, the selected node's panel and the Run bar, live while running. */
export function CreatePage() {
  const [graph] = useAtom(graphAtom);
  const moveNode = useSetAtom(moveNodeAtom);
  const [selected, setSelected] = useAtom(selectedNodeIdAtom);
  const [run, setRun] = useAtom(runAtom);
  const setContent = useSetAtom(contentAtom);
  const setEstimate = useSetAtom(estimateAtom);
  const setRunError = useSetAtom(runErrorAtom);
  const setKeys = useSetAtom(providerKeysAtom);
  const navigate = useSetAtom(navigateAtom);
  const location = useAtomValue(locationAtom);
  const [nodes, setNodes] = useState<StepNode[]>(() => canvasNodesOf(graph));
  const t = useT();
  const stopFollowing = useRef<(() => void) | undefined>(undefined);

  useEffect(() => {
    api<ProviderKeys>('GET', '/api/user/api-keys').then(setKeys, () => undefined);
  }, [setKeys]);

  // The estimate follows every change of the graph (debounced), and the balance with it.
  useEffect(() => {
    const timer = setTimeout(() => {
      api<CostEstimate>('POST', '/api/workflow/estimate', { body: graph }).then(
        (estimate) => {
          setEstimate(estimate);
          setRunError(null);
        },
        (error: unknown) => setRunError(messageOf(error)),
      );
    }, 250);
    return () => clearTimeout(timer);
  }, [graph, setEstimate, setRunError]);

  const refreshEstimate = useCallback(() => {
    api<CostEstimate>('POST', '/api/workflow/estimate', { body: graph }).then(setEstimate, () => undefined);
  }, [graph, setEstimate]);

  const loadContent = useCallback(
    async (runId: string) => {
      for (let attempt = 0; attempt < 20; attempt++) {
        const list = await api<ContentList>('GET', '/api/contents?limit=20').catch(() => undefined);
        const content = list?.contents.find((candidate) => candidate.runId === runId);
        if (content) {
          setContent(content);
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    },
    [setContent],
  );

  const follow = useCallback(
    (runId: string) => {
      stopFollowing.current?.();
      stopFollowing.current = followRun(runId, {
        onEvent: (event) => setRun((state) => (state.runId === runId ? applyRunEvent(state, event) : state)),
        onEnd: (event) => {
          refreshEstimate();
          if (event.type === 'run.completed') void loadContent(runId);
        },
      });
    },
    [setRun, refreshEstimate, loadContent],
  );

  // Coming back to /create?run=… shows that run where it is (the stream replays from the start).
  const runParam = new URLSearchParams(location.search).get('run');
  useEffect(() => {
    if (runParam === null) return;
    setRun((state) => (state.runId === runParam ? state : { ...IDLE_RUN, runId: runParam, phase: 'queued' }));
    follow(runParam);
  }, [runParam, follow, setRun]);

  useEffect(() => () => stopFollowing.current?.(), []);

  const start = async () => {
    setRunError(null);
    setContent(null);
    setRun({ ...IDLE_RUN, phase: 'starting' });
    try {
      const accepted = await api<RunAccepted>('POST', '/api/workflow/execute', {
        body: { graph },
        headers: { 'idempotency-key': randomKey() },
      });
      setRun({
        ...IDLE_RUN,
        runId: accepted.runId,
        phase: accepted.status === 'running' ? 'running' : 'queued',
      });
      navigate(`/create?run=${encodeURIComponent(accepted.runId)}`);
    } catch (error) {
      setRun(IDLE_RUN);
      setRunError(messageOf(error));
    }
  };

  const cancel = async () => {
    if (run.runId === null) return;
    try {
      await api('POST', `/api/workflow/runs/${encodeURIComponent(run.runId)}/cancel`);
    } catch (error) {
      setRunError(messageOf(error));
    }
  };

  const onNodesChange: OnNodesChange<StepNode> = useCallback(
    (changes) => {
      setNodes((current) => applyNodeChanges(changes, current));
      for (const change of changes)
        if (change.type === 'position' && change.dragging === false && change.position)
          moveNode({ nodeId: change.id, position: change.position });
    },
    [moveNode],
  );

  const edges = useMemo<Edge[]>(
    () =>
      canvasEdgesOf(graph).map((edge) => {
        const target = run.nodes[edge.target]?.state;
        const source = run.nodes[edge.source]?.state;
        const flowing = target === 'running' && (source === 'success' || source === 'cached');
        return { ...edge, animated: flowing, ...(flowing ? { className: 'edge--flowing' } : {}) };
      }),
    [graph, run.nodes],
  );

  return (
    <div className="create">
      <RunBar onRun={() => void start()} onCancel={() => void cancel()} />
      <div className="create__body">
        <section className="canvas" aria-label={t('canvas.region')}>
          <ReactFlow<StepNode, Edge>
            nodes={nodes.map((node) => ({ ...node, selected: node.id === selected }))}
            edges={edges}
            nodeTypes={nodeTypes}
            onNodesChange={onNodesChange}
            onNodeClick={(_event, node) => setSelected(node.id)}
            onPaneClick={() => setSelected(null)}
            nodesConnectable={false}
            fitView
            fitViewOptions={{ padding: 0.15 }}
            minZoom={0.2}
          >
            <Background />
            <FitWhenContentArrives />
            <Controls />
            <MiniMap
              position="top-right"
              pannable
              zoomable
              nodeColor={(node) => STATE_COLOUR[(run.nodes[node.id] ?? IDLE_NODE).state]}
            />
          </ReactFlow>
        </section>
        <NodePanel />
      </div>
    </div>
  );
}

/** Fits the view again once the output node holds the player (it grows the node). */
function FitWhenContentArrives() {
  const { fitView } = useReactFlow();
  const content = useAtomValue(contentAtom);
  useEffect(() => {
    if (content === null) return;
    const frame = requestAnimationFrame(() => void fitView({ padding: 0.15, duration: 300 }));
    return () => cancelAnimationFrame(frame);
  }, [content, fitView]);
  return null;
}

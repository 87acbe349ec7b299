import {
  applyNodeChanges,
  Background,
  type Connection,
  Controls,
  type Edge,
  MiniMap,
  type NodeTypes,
  type OnNodesChange,
  PanOnScrollMode,
  ReactFlow,
  useReactFlow,
} from '@xyflow/react';
import { useAtom, useAtomValue, useSetAtom } from 'jotai';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { ApiRequestError, messageOf, request } from '../api/api-client.ts';
import type { RunAccepted } from '../api/api-types.ts';
import { graphAtom, moveNodeAtom, selectedNodeIdAtom } from '../atoms/graph.ts';
import { providerKeysAtom } from '../atoms/keys.ts';
import { useT } from '../atoms/language.ts';
import { locationAtom, navigateAtom } from '../atoms/route.ts';
import {
  canvasRunIdAtom,
  contentAtom,
  estimateAtom,
  runActiveAtom,
  runAtom,
  runErrorAtom,
  runRefusalAtom,
} from '../atoms/run.ts';
import {
  canvasStatusAtom,
  localIssuesAtom,
  RerunContext,
  selectedEdgeIdAtom,
  serverIssuesAtom,
  serverIssuesOf,
  VerticalLayoutContext,
} from '../canvas/canvas-atoms.ts';
import { NodePanel } from '../canvas/node-panel.tsx';
import { Palette } from '../canvas/palette.tsx';
import { PhoneCanvasView } from '../canvas/phone-canvas-view.tsx';
import type { PhoneBox } from '../canvas/phone-view.ts';
import { RunBar } from '../canvas/run-bar.tsx';
import { STATE_COLOUR } from '../canvas/step-meta.ts';
import { StepNodeView } from '../canvas/step-node.tsx';
import { canvasEdgesOf, canvasNodesOf } from '../canvas/to-canvas.ts';
import { PHONE_QUERY, useMediaQuery } from '../canvas/use-media-query.ts';
import { VERTICAL_LAYOUT, verticalLayout } from '../canvas/vertical-layout.ts';
import { withStandInPrompts } from '../graph/awaiting-prompt.ts';
import { addEdge, removeElements } from '../graph/edit-graph.ts';
import { graphValidationReadyAtom } from '../graph/graph-issues-atom.ts';
import type { StepNode, WorkflowGraphInput } from '../graph/graph-types.ts';
import { checkConnection } from '../graph/validate-graph.ts';
import { graphOfTemplate } from '../library/graph-of-template.ts';
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
  const [graph, setGraph] = useAtom(graphAtom);
  const localIssues = useAtomValue(localIssuesAtom);
  const validationReady = useAtomValue(graphValidationReadyAtom);
  const setServerIssues = useSetAtom(serverIssuesAtom);
  const [selectedEdge, setSelectedEdge] = useAtom(selectedEdgeIdAtom);
  const setStatus = useSetAtom(canvasStatusAtom);
  const moveNode = useSetAtom(moveNodeAtom);
  const [selected, setSelected] = useAtom(selectedNodeIdAtom);
  const [run, setRun] = useAtom(runAtom);
  const setContent = useSetAtom(contentAtom);
  const setEstimate = useSetAtom(estimateAtom);
  const setRunError = useSetAtom(runErrorAtom);
  const setRefusal = useSetAtom(runRefusalAtom);
  const setKeys = useSetAtom(providerKeysAtom);
  const [canvasRunId, setCanvasRunId] = useAtom(canvasRunIdAtom);
  // Read by the effect that reopens a run's graph, without re-running it when the atom changes.
  const canvasRunIdRef = useRef(canvasRunId);
  canvasRunIdRef.current = canvasRunId;
  const navigate = useSetAtom(navigateAtom);
  const location = useAtomValue(locationAtom);
  const [nodes, setNodes] = useState<StepNode[]>(() => canvasNodesOf(graph));
  const t = useT();
  const standIn = t('run.standInPrompt');
  const hasEstimate = useRef(false);
  hasEstimate.current = useAtomValue(estimateAtom) !== null;
  const active = useAtomValue(runActiveAtom);
  const stopFollowing = useRef<(() => void) | undefined>(undefined);
  const phone = useMediaQuery(PHONE_QUERY);

  // Nodes added or removed (palette, Delete, a template loaded) rebuild the canvas nodes; drags
  // stay local until they end (then the graph keeps the position).
  const nodeKey = graph.nodes.map((node) => `${node.id}:${node.type}`).join('|');
  const graphRef = useRef(graph);
  graphRef.current = graph;
  useEffect(() => {
    void nodeKey;
    setNodes(canvasNodesOf(graphRef.current));
  }, [nodeKey]);

  /** Shows the server's per-node issues of a 400 on their nodes. */
  const showServerIssues = useCallback(
    (error: unknown, sent: WorkflowGraphInput) => {
      if (error instanceof ApiRequestError && error.status === 400)
        setServerIssues(
          serverIssuesOf(
            error.details,
            sent.nodes.map((node) => node.id),
          ),
        );
    },
    [setServerIssues],
  );

  useEffect(() => {
    request('get', '/api/user/api-keys').then(setKeys, () => undefined);
  }, [setKeys]);

  // The estimate follows every change of the graph (debounced), and the balance with it.
  useEffect(() => {
    // A graph the browser already knows is invalid is not sent: its nodes say what to fix (and
    // none is sent before the engine's validation has loaded).
    if (localIssues.length > 0 || !validationReady) {
      setRunError(null);
      setServerIssues([]);
      return;
    }
    const timer = setTimeout(
      () => {
        // Before the creator has typed, the price is asked for with a stand-in prompt: the Run
        // button shows the cost from the first screen (a price never depends on the words).
        request('post', '/api/workflow/estimate', { body: withStandInPrompts(graph, standIn) }).then(
          (estimate) => {
            setEstimate(estimate);
            setRunError(null);
            setServerIssues([]);
          },
          (error: unknown) => {
            setRunError(messageOf(error));
            showServerIssues(error, graph);
          },
        );
      },
      // The first estimate at once (the page is not ready without it); later ones once typing pauses.
      hasEstimate.current ? 250 : 0,
    );
    return () => clearTimeout(timer);
  }, [
    graph,
    standIn,
    localIssues,
    validationReady,
    setEstimate,
    setRunError,
    setServerIssues,
    showServerIssues,
  ]);

  const refreshEstimate = useCallback(() => {
    request('post', '/api/workflow/estimate', { body: withStandInPrompts(graph, standIn) }).then(
      setEstimate,
      () => undefined,
    );
  }, [graph, standIn, setEstimate]);

  const loadContent = useCallback(
    async (runId: string) => {
      for (let attempt = 0; attempt < 20; attempt++) {
        const list = await request('get', '/api/contents', { query: { limit: 20 } }).catch(() => undefined);
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

  // Coming back to /create?run=… shows that run where it is (the stream replays from the start), on
  // its own graph: the canvas reopens what the run executes, so "Rerun from here" starts from it.
  const runParam = new URLSearchParams(location.search).get('run');
  useEffect(() => {
    if (runParam === null) return;
    setRun((state) => (state.runId === runParam ? state : { ...IDLE_RUN, runId: runParam, phase: 'queued' }));
    follow(runParam);
    if (canvasRunIdRef.current === runParam) return;
    let current = true;
    request('get', '/api/workflow/status/{runId}', { params: { runId: runParam } }).then(
      (status) => {
        const runGraph = graphOfTemplate(status.graph);
        if (!current || runGraph === null) return;
        setGraph(runGraph);
        setCanvasRunId(runParam);
      },
      () => undefined,
    );
    return () => {
      current = false;
    };
  }, [runParam, follow, setRun, setGraph, setCanvasRunId]);

  useEffect(() => () => stopFollowing.current?.(), []);
  // A refusal is about the page left: back from Settings with the missing key, Run is offered again.
  useEffect(() => () => setRefusal(null), [setRefusal]);

  /**
   * Sends a run (`submit`) and follows it on the canvas; a refusal puts the run back to idle with
   * the server's reason, its graph issues on their nodes. `canvasGraph`: the run executes the
   * canvas's graph (so a later rerun may send the canvas's settings).
   */
  const launch = useCallback(
    async (submit: () => Promise<RunAccepted>, canvasGraph: boolean) => {
      setRefusal(null);
      setContent(null);
      setRun({ ...IDLE_RUN, phase: 'starting' });
      try {
        const accepted = await submit();
        if (canvasGraph) setCanvasRunId(accepted.runId);
        setRun({
          ...IDLE_RUN,
          runId: accepted.runId,
          phase: accepted.status === 'running' ? 'running' : 'queued',
        });
        navigate(`/create?run=${encodeURIComponent(accepted.runId)}`);
      } catch (error) {
        setRun(IDLE_RUN);
        setRefusal({ message: messageOf(error), graph });
        showServerIssues(error, graph);
      }
    },
    [graph, setCanvasRunId, setRun, setContent, setRefusal, navigate, showServerIssues],
  );

  const start = () => {
    if (localIssues.length > 0) return;
    void launch(
      () =>
        request('post', '/api/workflow/execute', {
          body: { graph },
          headers: { 'idempotency-key': randomKey() },
        }),
      true,
    );
  };

  /**
   * Rerun from a node of the run shown, with the canvas's settings: upstream outputs are reused, only
   * the rest (and any node whose settings changed) runs and is charged.
   */
  const rerun = useCallback(
    async (fromNodeId: string) => {
      const parent = run.runId;
      if (parent === null) return;
      // The canvas's graph when it is the run's: settings changed since (a new motion, another
      // provider) run again too. A run whose graph the canvas has not reopened yet is rerun with
      // its own graph.
      const sendGraph = canvasRunId === parent;
      await launch(
        () =>
          request('post', '/api/workflow/runs/{runId}/rerun', {
            params: { runId: parent },
            body: sendGraph ? { fromNodeId, graph } : { fromNodeId },
            headers: { 'idempotency-key': randomKey() },
          }),
        sendGraph,
      );
    },
    [run.runId, graph, canvasRunId, launch],
  );
  const rerunFromNode = useCallback((nodeId: string) => void rerun(nodeId), [rerun]);

  const isValidConnection = useCallback(
    (connection: Connection | Edge) => {
      const problem = checkConnection(graph, connection);
      if (problem === null) return true;
      const text =
        problem.code === 'INCOMPATIBLE_PORTS'
          ? t('connect.INCOMPATIBLE_PORTS', { from: t(`port.${problem.from}`), to: t(`port.${problem.to}`) })
          : t(`connect.${problem.code}`);
      setStatus((current) => (current?.text === text ? current : { text, error: true }));
      return false;
    },
    [graph, setStatus, t],
  );

  const onConnect = useCallback(
    (connection: Connection) => {
      const { source, target, sourceHandle, targetHandle } = connection;
      if (sourceHandle == null || targetHandle == null) return;
      if (checkConnection(graph, connection) !== null) return;
      setGraph(addEdge(graph, { source, target, sourceHandle, targetHandle }));
      setStatus({ text: t('edit.connected', { source, target }), error: false });
    },
    [graph, setGraph, setStatus, t],
  );

  const onDelete = useCallback(
    ({ nodes: gone, edges: cut }: { nodes: readonly { id: string }[]; edges: readonly { id: string }[] }) => {
      if (gone.length === 0 && cut.length === 0) return;
      setGraph(
        removeElements(graph, { nodeIds: gone.map((node) => node.id), edgeIds: cut.map((edge) => edge.id) }),
      );
      setStatus({
        text: t('edit.deleted', { what: [...gone, ...cut].map((element) => element.id).join(', ') }),
        error: false,
      });
      setSelected(null);
      setSelectedEdge(null);
    },
    [graph, setGraph, setStatus, setSelected, setSelectedEdge, t],
  );

  const cancel = async () => {
    if (run.runId === null) return;
    try {
      await request('post', '/api/workflow/runs/{runId}/cancel', { params: { runId: run.runId } });
    } catch (error) {
      setRunError(messageOf(error));
    }
  };

  const onNodesChange: OnNodesChange<StepNode> = useCallback(
    (changes) => {
      // On a phone the layout places the nodes (they are not draggable): only their sizes change.
      setNodes((current) => applyNodeChanges(changes, current));
      if (phone) return;
      for (const change of changes)
        if (change.type === 'position' && change.dragging === false && change.position)
          moveNode({ nodeId: change.id, position: change.position });
    },
    [moveNode, phone],
  );

  // Desktop: the graph's positions. Phone: top to bottom (view-only; the graph keeps its positions),
  // each row as tall as the cards React Flow measured.
  const graphEdges = graph.edges;
  const shownNodes = useMemo<StepNode[]>(() => {
    const marked = nodes.map((node) => ({ ...node, selected: node.id === selected }));
    if (!phone) return marked;
    const positions = verticalLayout(
      nodes.map((node) => ({
        id: node.id,
        position: node.position,
        ...(node.measured?.width === undefined ? {} : { width: node.measured.width }),
        ...(node.measured?.height === undefined ? {} : { height: node.measured.height }),
      })),
      graphEdges ?? [],
    );
    return marked.map((node) => ({ ...node, position: positions.get(node.id) ?? node.position }));
  }, [nodes, selected, phone, graphEdges]);
  // The phone view reads the column's boxes (sizes as measured, else the layout's defaults).
  const phoneBoxes = useMemo<PhoneBox[]>(
    () =>
      phone
        ? shownNodes.map((node) => ({
            id: node.id,
            x: node.position.x,
            y: node.position.y,
            width: node.measured?.width ?? VERTICAL_LAYOUT.width,
            height: node.measured?.height ?? VERTICAL_LAYOUT.defaultHeight,
          }))
        : [],
    [phone, shownNodes],
  );
  // The step the phone view keeps in sight: the one running now (the first in the graph's order),
  // or, once a run failed, the step that failed.
  const focusState = active ? 'running' : run.phase === 'failed' ? 'failed' : null;
  const focusId =
    focusState === null
      ? null
      : (graph.nodes.find((node) => run.nodes[node.id]?.state === focusState)?.id ?? null);

  const edges = useMemo<Edge[]>(
    () =>
      canvasEdgesOf(graph).map((edge) => {
        const target = run.nodes[edge.target]?.state;
        const source = run.nodes[edge.source]?.state;
        const flowing = target === 'running' && (source === 'success' || source === 'cached');
        return {
          ...edge,
          selected: edge.id === selectedEdge,
          animated: flowing,
          ...(flowing ? { className: 'edge--flowing' } : {}),
        };
      }),
    [graph, run.nodes, selectedEdge],
  );

  return (
    <RerunContext.Provider value={rerunFromNode}>
      <VerticalLayoutContext.Provider value={phone}>
        <div className="create">
          <RunBar onRun={start} onCancel={() => void cancel()} />
          <Palette />
          <div className="create__body">
            <section className="canvas" aria-label={t('canvas.region')}>
              <ReactFlow<StepNode, Edge>
                nodes={shownNodes}
                edges={edges}
                nodeTypes={nodeTypes}
                onNodesChange={onNodesChange}
                onNodeClick={(_event, node) => {
                  setSelected(node.id);
                  setSelectedEdge(null);
                }}
                onEdgeClick={(_event, edge) => {
                  setSelectedEdge(edge.id);
                  setSelected(null);
                }}
                onPaneClick={() => {
                  setSelected(null);
                  setSelectedEdge(null);
                }}
                nodesConnectable={!active}
                nodesDraggable={!phone}
                edgesFocusable
                isValidConnection={isValidConnection}
                onConnect={onConnect}
                onDelete={onDelete}
                deleteKeyCode={active ? null : ['Delete', 'Backspace']}
                // Desktop: the whole graph in view. Phone: the column at the canvas's width, from
                // the top, scrolled (wheel or finger) and pinched (PhoneCanvasView).
                fitView={!phone}
                fitViewOptions={{ padding: 0.15 }}
                minZoom={phone ? 0.1 : 0.2}
                panOnScroll={phone}
                panOnScrollMode={PanOnScrollMode.Vertical}
              >
                <Background />
                {phone ? (
                  <PhoneCanvasView boxes={phoneBoxes} focusId={focusId} />
                ) : (
                  <FitWhenNodesChange count={graph.nodes.length} />
                )}
                <FitWhenBackOnDesktop phone={phone} />
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
      </VerticalLayoutContext.Provider>
    </RerunContext.Provider>
  );
}

/** Fits the view again when a node is added or removed, so a new node is in sight. */
function FitWhenNodesChange(props: { readonly count: number }) {
  const { fitView } = useReactFlow();
  const first = useRef(true);
  useEffect(() => {
    void props.count;
    if (first.current) {
      first.current = false;
      return;
    }
    const frame = requestAnimationFrame(() => void fitView({ padding: 0.15 }));
    return () => cancelAnimationFrame(frame);
  }, [props.count, fitView]);
  return null;
}

/** Fits the whole graph in view again when the canvas leaves the phone layout (a window widened or turned). */
function FitWhenBackOnDesktop(props: { readonly phone: boolean }) {
  const { phone } = props;
  const { fitView } = useReactFlow();
  const was = useRef(phone);
  useEffect(() => {
    const left = was.current && !phone;
    was.current = phone;
    if (!left) return;
    const frame = requestAnimationFrame(() => void fitView({ padding: 0.15 }));
    return () => cancelAnimationFrame(frame);
  }, [phone, fitView]);
  return null;
}

import type { ProviderKind } from '../api/api-types.ts';
import type { StepType } from '../graph/graph-types.ts';
import type { NodeState } from '../run/run-state.ts';

/** How the canvas presents each step (UI metadata lives here, not in the engine's node contract). */
export const STEP_META: Readonly<
  Record<StepType, { readonly title: string; readonly icon: string; readonly kind?: ProviderKind }>
> = {
  prompt: { title: 'Prompt', icon: '✎' },
  enhance: { title: 'Enhance', icon: '✦', kind: 'text' },
  image: { title: 'Image', icon: '▣', kind: 'image' },
  video: { title: 'Video', icon: '▶', kind: 'video' },
  output: { title: 'Output', icon: '★' },
};

/** Each state has a word and an icon: colour is never the only signal. */
export const STATE_LABEL: Readonly<Record<NodeState, { readonly word: string; readonly icon: string }>> = {
  idle: { word: 'Ready', icon: '○' },
  running: { word: 'Running', icon: '◌' },
  success: { word: 'Done', icon: '✓' },
  failed: { word: 'Failed', icon: '✕' },
  cached: { word: 'Reused', icon: '↺' },
  skipped: { word: 'Skipped', icon: '–' },
  cancelled: { word: 'Cancelled', icon: '■' },
};

/** MiniMap colours, the PRD's palette. */
export const STATE_COLOUR: Readonly<Record<NodeState, string>> = {
  idle: '#E5E7EB',
  running: '#3B82F6',
  success: '#10B981',
  failed: '#EF4444',
  cached: '#10B981',
  skipped: '#E5E7EB',
  cancelled: '#9CA3AF',
};

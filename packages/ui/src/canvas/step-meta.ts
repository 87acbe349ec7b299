import type { ProviderKind } from '../api/api-types.ts';
import type { StepType } from '../graph/graph-types.ts';
import type { NodeState } from '../run/run-state.ts';

/** How the canvas presents each step (UI metadata lives here, not in the engine's node contract). */
export const STEP_META: Readonly<Record<StepType, { readonly icon: string; readonly kind?: ProviderKind }>> =
  {
    prompt: { icon: '✎' },
    enhance: { icon: '✦', kind: 'text' },
    image: { icon: '▣', kind: 'image' },
    video: { icon: '▶', kind: 'video' },
    output: { icon: '★' },
  };

/** Each state has a word (`state.*` in the dictionaries) and an icon: colour is never the only signal. */
export const STATE_ICON: Readonly<Record<NodeState, string>> = {
  idle: '○',
  running: '◌',
  success: '✓',
  failed: '✕',
  cached: '↺',
  skipped: '–',
  cancelled: '■',
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

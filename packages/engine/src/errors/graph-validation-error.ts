import type { GraphIssue } from '../graph/graph-issue.ts';
import { EngineError } from './engine-error.ts';

/**
 * A graph failed validation; it never started. Carries every issue found.
 *
 * @example
 * ```ts
 * import { GraphValidationError } from '@vidgenie/engine';
 * const e = new GraphValidationError([{ code: 'CYCLE', nodeIds: ['a', 'b'], message: 'These nodes form a cycle: a → b.' }]);
 * console.log(e.issues.length); // 1
 * ```
 */
export class GraphValidationError extends EngineError {
  override readonly name: string = 'GraphValidationError';
  readonly issues: readonly GraphIssue[];
  constructor(issues: readonly GraphIssue[]) {
    const first = issues[0]?.message ?? 'unknown problem';
    const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : '';
    super('GRAPH_INVALID', `The graph is invalid: ${first}${more}`, { retryable: false });
    this.issues = issues;
  }
  override details(): Readonly<Record<string, unknown>> {
    return { issues: this.issues };
  }
}

import type { z } from 'zod';
import { EngineError } from './engine-error.ts';

/** Where a schema check happened. */
export type SchemaTarget = 'input' | 'output' | 'config' | 'state';

/** One schema issue: a path into the value and what is wrong there. */
export interface SchemaIssue {
  readonly path: readonly PropertyKey[];
  readonly message: string;
}

/**
 * A node's input, output or config did not match its schema. Not retryable: the same value fails
 * the same way.
 *
 * @example
 * ```ts
 * import { SchemaValidationError } from '@vidgenie/engine';
 * const e = new SchemaValidationError({ target: 'config', issues: [{ path: ['size'], message: 'Invalid option' }] });
 * console.log(e.message); // config is invalid: size: Invalid option
 * ```
 */
export class SchemaValidationError extends EngineError {
  override readonly name: string = 'SchemaValidationError';
  readonly target: SchemaTarget;
  readonly issues: readonly SchemaIssue[];
  constructor(args: {
    readonly target: SchemaTarget;
    readonly issues: readonly SchemaIssue[];
    readonly nodeType?: string;
  }) {
    const summary = args.issues.map((i) => `${formatPath(i.path)}${i.message}`).join('; ');
    const who = args.nodeType === undefined ? '' : `${args.nodeType} `;
    super('SCHEMA_VALIDATION', `${who}${args.target} is invalid: ${summary}`, { retryable: false });
    this.target = args.target;
    this.issues = args.issues;
  }
  override details(): Readonly<Record<string, unknown>> {
    return {
      target: this.target,
      issues: this.issues.map((i) => ({ path: i.path.map(String), message: i.message })),
    };
  }

  /** Builds the error from a zod error. */
  static fromZod(args: {
    readonly target: SchemaTarget;
    readonly error: z.ZodError;
    readonly nodeType?: string;
  }) {
    return new SchemaValidationError({
      target: args.target,
      issues: args.error.issues.map((i) => ({ path: i.path, message: i.message })),
      ...(args.nodeType === undefined ? {} : { nodeType: args.nodeType }),
    });
  }
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.length === 0 ? '' : `${path.map(String).join('.')}: `;
}

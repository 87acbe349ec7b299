import { EngineError } from './engine-error.ts';

/**
 * A node type was registered twice.
 *
 * @example
 * ```ts
 * import { DuplicateNodeTypeError } from '@vidgenie/engine';
 * const e = new DuplicateNodeTypeError('image');
 * console.log(e.code); // DUPLICATE_NODE_TYPE
 * ```
 */
export class DuplicateNodeTypeError extends EngineError {
  override readonly name: string = 'DuplicateNodeTypeError';
  readonly nodeType: string;
  constructor(nodeType: string) {
    super('DUPLICATE_NODE_TYPE', `Node type "${nodeType}" is registered more than once.`, {
      retryable: false,
    });
    this.nodeType = nodeType;
  }
  override details(): Readonly<Record<string, unknown>> {
    return { nodeType: this.nodeType };
  }
}

/**
 * A node type was looked up that is not in the registry.
 *
 * @example
 * ```ts
 * import { UnknownNodeTypeError } from '@vidgenie/engine';
 * const e = new UnknownNodeTypeError('imagee', ['image', 'video']);
 * console.log(e.message); // Unknown node type "imagee". Known types: image, video.
 * ```
 */
export class UnknownNodeTypeError extends EngineError {
  override readonly name: string = 'UnknownNodeTypeError';
  readonly nodeType: string;
  constructor(nodeType: string, known: readonly string[] = []) {
    const hint = known.length > 0 ? ` Known types: ${known.join(', ')}.` : '';
    super('UNKNOWN_NODE_TYPE', `Unknown node type "${nodeType}".${hint}`, { retryable: false });
    this.nodeType = nodeType;
  }
  override details(): Readonly<Record<string, unknown>> {
    return { nodeType: this.nodeType };
  }
}

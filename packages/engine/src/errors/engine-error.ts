import type { EngineErrorCode } from './engine-error-code.ts';

/** Options common to every engine error. */
export interface EngineErrorOptions {
  /** The underlying error, kept for logs and debugging. */
  readonly cause?: unknown;
  /** Whether the engine may retry the failed attempt. Defaults by code. */
  readonly retryable?: boolean;
}

/** A serialisable summary of an engine error, as stored in checkpoints and carried by events. */
export interface EngineErrorJSON {
  readonly name: string;
  readonly code: EngineErrorCode;
  readonly message: string;
  readonly retryable: boolean;
  readonly details?: Readonly<Record<string, unknown>>;
}

/**
 * The base of every error the engine raises or reports. It carries a typed `code`; `cause` is kept.
 *
 * @example
 * ```ts
 * import { EngineError } from '@vidgenie/engine';
 * try { throw new EngineError('NODE_FAILED', 'provider returned 503') } catch (e) {
 *   if (e instanceof EngineError && e.code === 'NODE_FAILED') console.log(e.retryable);
 * }
 * ```
 */
export class EngineError extends Error {
  override readonly name: string = 'EngineError';
  /** The machine-readable code. */
  readonly code: EngineErrorCode;
  /** Whether another attempt could succeed. */
  readonly retryable: boolean;

  constructor(code: EngineErrorCode, message: string, options: EngineErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retryable = options.retryable ?? code === 'NODE_FAILED';
  }

  /** Extra, serialisable facts about the error (ids, amounts). Subclasses override. */
  details(): Readonly<Record<string, unknown>> | undefined {
    return undefined;
  }

  /** The error as plain data; never includes `cause` (which may hold secrets). */
  toJSON(): EngineErrorJSON {
    const details = this.details();
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      retryable: this.retryable,
      ...(details === undefined ? {} : { details }),
    };
  }
}

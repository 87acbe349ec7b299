import { NonRetryableError } from '@vidgenie/engine';

/**
 * Thrown by the `run` of a node from `createValidationRegistry`: those definitions only validate
 * graphs (in the browser); runs happen on the server. Not retried (code `NON_RETRYABLE`).
 */
export class ValidationOnlyError extends NonRetryableError {
  override readonly name: string = 'ValidationOnlyError';
  constructor(type: string) {
    super(`Node type "${type}": this definition only validates; runs happen on the server.`);
  }
}

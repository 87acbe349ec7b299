import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { EngineError } from './engine-error.ts';
import { ENGINE_ERROR_CODES } from './engine-error-code.ts';
import { GraphValidationError } from './graph-validation-error.ts';
import { InsufficientCreditsError } from './insufficient-credits-error.ts';
import { NonRetryableError } from './non-retryable-error.ts';
import { DuplicateNodeTypeError, UnknownNodeTypeError } from './registry-errors.ts';
import { RetryAfterError } from './retry-after-error.ts';
import { SchemaValidationError } from './schema-validation-error.ts';
import { StaleFenceError } from './stale-fence-error.ts';
import { toEngineError } from './to-engine-error.ts';

const secretCause = new Error('Authorization: Bearer sk-live-SECRET');

describe('error classes', () => {
  const cases: {
    error: EngineError;
    name: string;
    code: string;
    retryable: boolean;
    details?: Record<string, unknown>;
  }[] = [
    {
      error: new EngineError('NODE_FAILED', 'x', { cause: secretCause }),
      name: 'EngineError',
      code: 'NODE_FAILED',
      retryable: true,
    },
    {
      error: new EngineError('INTERNAL', 'x', { cause: secretCause }),
      name: 'EngineError',
      code: 'INTERNAL',
      retryable: false,
    },
    {
      error: new EngineError('TIMEOUT', 'x', { retryable: true }),
      name: 'EngineError',
      code: 'TIMEOUT',
      retryable: true,
    },
    {
      error: new EngineError('NODE_FAILED', 'x', { retryable: false }),
      name: 'EngineError',
      code: 'NODE_FAILED',
      retryable: false,
    },
    {
      error: new NonRetryableError('key rejected', { cause: secretCause }),
      name: 'NonRetryableError',
      code: 'NON_RETRYABLE',
      retryable: false,
    },
    {
      error: new RetryAfterError('rate limited', { afterMs: 2_000, cause: secretCause }),
      name: 'RetryAfterError',
      code: 'RETRY_AFTER',
      retryable: true,
      details: { afterMs: 2_000 },
    },
    {
      error: new InsufficientCreditsError({ required: 35, available: 12 }),
      name: 'InsufficientCreditsError',
      code: 'INSUFFICIENT_CREDITS',
      retryable: false,
      details: { required: 35, available: 12 },
    },
    {
      error: new StaleFenceError({ runId: 'run-1', fence: 1, current: 2 }),
      name: 'StaleFenceError',
      code: 'STALE_FENCE',
      retryable: false,
      details: { runId: 'run-1', fence: 1, current: 2 },
    },
    {
      error: new DuplicateNodeTypeError('image'),
      name: 'DuplicateNodeTypeError',
      code: 'DUPLICATE_NODE_TYPE',
      retryable: false,
      details: { nodeType: 'image' },
    },
    {
      error: new UnknownNodeTypeError('imagee', ['image']),
      name: 'UnknownNodeTypeError',
      code: 'UNKNOWN_NODE_TYPE',
      retryable: false,
      details: { nodeType: 'imagee' },
    },
    {
      error: new SchemaValidationError({
        target: 'config',
        issues: [{ path: ['size', 0], message: 'Invalid option' }],
      }),
      name: 'SchemaValidationError',
      code: 'SCHEMA_VALIDATION',
      retryable: false,
      details: { target: 'config', issues: [{ path: ['size', '0'], message: 'Invalid option' }] },
    },
    {
      error: new GraphValidationError([{ code: 'CYCLE', nodeIds: ['a', 'b'], message: 'cycle' }]),
      name: 'GraphValidationError',
      code: 'GRAPH_INVALID',
      retryable: false,
      details: { issues: [{ code: 'CYCLE', nodeIds: ['a', 'b'], message: 'cycle' }] },
    },
  ];

  it.each(cases)('$name ($code): code, retryable, name, instanceof', ({ error, name, code, retryable }) => {
    expect(error.code).toBe(code);
    expect(error.retryable).toBe(retryable);
    expect(error.name).toBe(name);
    expect(error).toBeInstanceOf(EngineError);
    expect(error).toBeInstanceOf(Error);
  });

  it.each(cases)(
    '$name ($code): toJSON is plain data without the cause',
    ({ error, name, code, retryable, details }) => {
      const json = error.toJSON();
      expect(json).toEqual({
        name,
        code,
        message: error.message,
        retryable,
        ...(details === undefined ? {} : { details }),
      });
      expect('cause' in json).toBe(false);
      expect('stack' in json).toBe(false);
      const text = JSON.stringify(error);
      expect(text).not.toContain('sk-live-SECRET');
      expect(JSON.parse(text)).toEqual(json);
    },
  );

  it('keeps the cause on the error itself, for logs', () => {
    expect(new NonRetryableError('x', { cause: secretCause }).cause).toBe(secretCause);
    expect(new RetryAfterError('x', { afterMs: 1, cause: secretCause }).cause).toBe(secretCause);
    expect(new EngineError('INTERNAL', 'x').cause).toBeUndefined();
  });

  it('RetryAfterError never waits a negative time', () => {
    expect(new RetryAfterError('x', { afterMs: -50 }).afterMs).toBe(0);
  });

  it('messages say what happened', () => {
    expect(new InsufficientCreditsError({ required: 35, available: 12 }).message).toBe(
      'This run needs 35 credits but only 12 are available.',
    );
    expect(new InsufficientCreditsError({ required: 35, available: 12, message: 'Top up' }).message).toBe(
      'Top up',
    );
    expect(new UnknownNodeTypeError('imagee', ['image', 'video']).message).toBe(
      'Unknown node type "imagee". Known types: image, video.',
    );
    expect(new UnknownNodeTypeError('imagee').message).toBe('Unknown node type "imagee".');
    expect(
      new SchemaValidationError({ target: 'config', issues: [{ path: ['size'], message: 'Invalid option' }] })
        .message,
    ).toBe('config is invalid: size: Invalid option');
    expect(
      new SchemaValidationError({
        target: 'input',
        nodeType: 'image',
        issues: [
          { path: [], message: 'Expected object' },
          { path: ['a', 1], message: 'Bad' },
        ],
      }).message,
    ).toBe('image input is invalid: Expected object; a.1: Bad');
  });

  it('GraphValidationError summarises the first issue and counts the rest', () => {
    const error = new GraphValidationError([
      { code: 'CYCLE', message: 'first problem' },
      { code: 'UNKNOWN_NODE', message: 'second' },
      { code: 'UNKNOWN_NODE', message: 'third' },
    ]);
    expect(error.message).toBe('The graph is invalid: first problem (and 2 more)');
    expect(error.issues).toHaveLength(3);
    expect(new GraphValidationError([{ code: 'CYCLE', message: 'only' }]).message).toBe(
      'The graph is invalid: only',
    );
  });

  it('SchemaValidationError.fromZod keeps every zod issue and its path', () => {
    const result = z.object({ size: z.enum(['s', 'm']), n: z.number() }).safeParse({ size: 'xl', n: 'one' });
    expect(result.success).toBe(false);
    if (result.success) return;
    const error = SchemaValidationError.fromZod({ target: 'output', error: result.error, nodeType: 'image' });
    expect(error.target).toBe('output');
    expect(error.issues.map((i) => i.path)).toEqual([['size'], ['n']]);
    expect(error.message.startsWith('image output is invalid: size: ')).toBe(true);
  });

  it('ENGINE_ERROR_CODES maps every code to itself', () => {
    for (const [key, value] of Object.entries(ENGINE_ERROR_CODES)) expect(value).toBe(key);
  });
});

describe('toEngineError', () => {
  it('passes engine errors through unchanged', () => {
    const error = new NonRetryableError('nope');
    expect(toEngineError(error)).toBe(error);
  });

  it('wraps an Error as a retryable NODE_FAILED error keeping it as the cause', () => {
    const original = new TypeError('fetch failed');
    const error = toEngineError(original);
    expect(error).toBeInstanceOf(EngineError);
    expect(error.code).toBe('NODE_FAILED');
    expect(error.retryable).toBe(true);
    expect(error.message).toBe('fetch failed');
    expect(error.cause).toBe(original);
    expect('cause' in error.toJSON()).toBe(false);
  });

  it('wraps a string as a NODE_FAILED error with that message', () => {
    const error = toEngineError('socket hang up');
    expect(error.code).toBe('NODE_FAILED');
    expect(error.message).toBe('socket hang up');
    expect(error.cause).toBe('socket hang up');
  });

  it('wraps anything else as a NODE_FAILED "Unknown error"', () => {
    for (const thrown of [42, null, undefined, { reason: 'x' }]) {
      const error = toEngineError(thrown);
      expect(error.code).toBe('NODE_FAILED');
      expect(error.message).toBe('Unknown error');
    }
  });
});

import { describe, expect, it } from 'vitest';
import { errorCauses } from '../src/log/error-causes.ts';

const CANARY = 'sk-canary-0123456789abcdef';

describe('errorCauses', () => {
  it('follows the cause chain below the error, with codes and only system and undici messages', () => {
    const reset = Object.assign(new Error('read ECONNRESET'), {
      code: 'ECONNRESET',
      syscall: 'read',
      errno: -104,
    });
    const fetchFailed = new TypeError('fetch failed', { cause: reset });
    const sdk = Object.assign(
      new Error(`Connection error calling with Bearer ${CANARY}`, { cause: fetchFailed }),
      {
        name: 'APIConnectionError',
      },
    );
    const top = new Error('OpenAI is unavailable right now', { cause: sdk });

    expect(errorCauses(top)).toEqual([
      { name: 'APIConnectionError' },
      { name: 'TypeError' },
      { name: 'Error', code: 'ECONNRESET', syscall: 'read', message: 'read ECONNRESET' },
    ]);
    expect(JSON.stringify(errorCauses(top))).not.toContain(CANARY);
  });

  it("keeps undici's codes and messages, HTTP statuses and an AggregateError's first errors", () => {
    const timeout = Object.assign(
      new Error('Connect Timeout Error (attempted address: 127.0.0.1:443, timeout: 10000ms)'),
      {
        name: 'ConnectTimeoutError',
        code: 'UND_ERR_CONNECT_TIMEOUT',
      },
    );
    const refused = (port: number) =>
      Object.assign(new Error(`connect ECONNREFUSED 127.0.0.1:${port}`), {
        code: 'ECONNREFUSED',
        syscall: 'connect',
      });
    const aggregate = new AggregateError([refused(1), refused(2), refused(3), refused(4)], 'all failed');
    const http = Object.assign(new Error(`rejected ${CANARY}`), { status: 503 });

    expect(errorCauses(new Error('x', { cause: timeout }))).toEqual([
      {
        name: 'ConnectTimeoutError',
        code: 'UND_ERR_CONNECT_TIMEOUT',
        message: 'Connect Timeout Error (attempted address: 127.0.0.1:443, timeout: 10000ms)',
      },
    ]);
    const [described] = errorCauses(new Error('x', { cause: aggregate }));
    expect(described?.name).toBe('AggregateError');
    expect(described?.errors?.map((e) => e.message)).toEqual([
      'connect ECONNREFUSED 127.0.0.1:1',
      'connect ECONNREFUSED 127.0.0.1:2',
      'connect ECONNREFUSED 127.0.0.1:3',
    ]);
    expect(errorCauses(new Error('x', { cause: http }))).toEqual([{ name: 'Error', status: 503 }]);
  });

  it('stops at a cycle, at depth 6, and describes causes that are not errors by their type', () => {
    const a = new Error('a') as Error & { cause?: unknown };
    const b = new Error('b', { cause: a });
    a.cause = b;
    expect(errorCauses(a)).toEqual([{ name: 'Error' }]);

    let deep: unknown = new Error('bottom');
    for (let i = 0; i < 10; i++) deep = new Error(`level ${i}`, { cause: deep });
    expect(errorCauses(deep)).toHaveLength(6);

    expect(errorCauses(new Error('x', { cause: 'socket hang up' }))).toEqual([{ name: 'string' }]);
    expect(errorCauses(new Error('no cause'))).toEqual([]);
  });
});

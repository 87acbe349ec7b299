import { afterEach, describe, expect, expectTypeOf, it, vi } from 'vitest';
import { ApiRequestError, type RequestOptions, request, urlOf } from './api-client.ts';
import type { Content, ContentList, ProviderKey, RunAccepted } from './api-types.ts';

interface Sent {
  readonly url: string;
  readonly method: string;
  readonly headers: Record<string, string>;
  readonly body: unknown;
}

/** Stubs `fetch` with one answer and records what the client sent. */
function answer(status: number, body?: unknown): Sent[] {
  const sent: Sent[] = [];
  vi.stubGlobal('fetch', async (input: RequestInfo | URL, init: RequestInit = {}) => {
    sent.push({
      url: String(input),
      method: init.method ?? 'GET',
      headers: Object.fromEntries(new Headers(init.headers).entries()),
      body: typeof init.body === 'string' ? JSON.parse(init.body) : undefined,
    });
    return new Response(body === undefined ? null : JSON.stringify(body), {
      status,
      headers: { 'content-type': 'application/json' },
    });
  });
  return sent;
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('urlOf', () => {
  it('fills in the path parameters, encoded, and appends the defined query values', () => {
    expect(urlOf('/api/contents/{contentId}/media/{kind}', { contentId: 'a/b c', kind: 'video' })).toBe(
      '/api/contents/a%2Fb%20c/media/video',
    );
    expect(urlOf('/api/contents', {}, { limit: 20, cursor: undefined, after: null })).toBe(
      '/api/contents?limit=20',
    );
    expect(urlOf('/api/templates')).toBe('/api/templates');
  });

  it('throws when a path parameter is missing', () => {
    expect(() => urlOf('/api/workflow/runs/{runId}/cancel')).toThrow('Missing path parameter runId');
  });
});

describe('request', () => {
  it('GETs a path of the document with its query and resolves with the typed body', async () => {
    const page: ContentList = { contents: [], nextCursor: null };
    const sent = answer(200, page);
    const result = await request('get', '/api/contents', { query: { limit: 5 } });
    expectTypeOf(result).toEqualTypeOf<ContentList>();
    expect(result).toEqual(page);
    expect(sent).toEqual([
      {
        url: '/api/contents?limit=5',
        method: 'GET',
        headers: { accept: 'application/json' },
        body: undefined,
      },
    ]);
  });

  it('sends the JSON body with its content type and fills the path parameters', async () => {
    const key: ProviderKey = {
      providerId: 'openai',
      label: 'OpenAI key',
      lastFour: 'x7Qa',
      status: 'unchecked',
      statusReason: null,
      checkedAt: null,
      updatedAt: '2026-11-26T00:00:00.000Z',
      providers: ['openai-text'],
    };
    const sent = answer(200, key);
    const saved = await request('put', '/api/user/api-keys/{providerId}', {
      params: { providerId: 'openai' },
      body: { key: 'sk-test' },
    });
    expectTypeOf(saved).toEqualTypeOf<ProviderKey>();
    expect(saved.lastFour).toBe('x7Qa');
    expect(sent[0]).toMatchObject({
      url: '/api/user/api-keys/openai',
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: { key: 'sk-test' },
    });
  });

  it('resolves with undefined for 204 No Content', async () => {
    answer(204);
    const result = await request('delete', '/api/contents/{contentId}', { params: { contentId: 'c1' } });
    expectTypeOf(result).toEqualTypeOf<undefined>();
    expect(result).toBeUndefined();
  });

  it("throws the API's error code and message", async () => {
    answer(402, { error: { code: 'INSUFFICIENT_CREDITS', message: 'Not enough credits.', details: {} } });
    const call = request('post', '/api/workflow/execute', {
      body: { graph: { version: 1, nodes: [], edges: [] } },
    });
    expectTypeOf(call).resolves.toEqualTypeOf<RunAccepted>();
    const error = await call.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ApiRequestError);
    expect(error).toMatchObject({
      status: 402,
      code: 'INSUFFICIENT_CREDITS',
      message: 'Not enough credits.',
    });
  });

  it('takes only the paths, parameters and bodies the document declares', () => {
    expectTypeOf<RequestOptions<'/api/contents/{contentId}', 'get'>['params']>().toEqualTypeOf<{
      readonly contentId: string;
    }>();
    expectTypeOf<RequestOptions<'/api/contents', 'get'>['query']>().toEqualTypeOf<
      { readonly limit?: number; readonly cursor?: string } | undefined
    >();
    expectTypeOf(request<'get', '/api/contents/{contentId}'>).returns.toEqualTypeOf<Promise<Content>>();
    // @ts-expect-error: not a path of the document
    expectTypeOf(request<'get', '/api/nothing'>).toBeFunction();
    // @ts-expect-error: the templates route has no PUT
    expectTypeOf(request<'put', '/api/templates'>).toBeFunction();
  });
});

import { sql } from 'kysely';
import { expect, it } from 'vitest';
import { createTestApp, type TestApp, type TestUser } from './support/test-app.ts';
import { describeEachDatabase } from './support/test-databases.ts';

/** Operations anyone may call. Every other operation must answer 401 without credentials. */
const PUBLIC = new Set([
  'post /api/auth/signup',
  'post /api/auth/login',
  'post /api/auth/logout',
  'get /healthz',
  'get /readyz',
]);

/**
 * For each operation whose path holds an id: user B aims it at user A's resource. It must answer
 * 404 or 403, and A's resource must be unchanged. A new route with an id and no entry here fails.
 */
const IDOR: Record<string, (t: TestApp, a: TestUser, b: TestUser) => Promise<void>> = {
  'delete /api/user/tokens/{tokenId}': async (_t, a, b) => {
    const { apiToken } = (await (await a.request('POST', '/api/user/tokens', { name: 'a' })).json()) as {
      apiToken: { id: string };
    };
    expectDenied(await b.request('DELETE', `/api/user/tokens/${apiToken.id}`));
    expect(await (await a.request('GET', '/api/user/tokens')).text()).toContain(apiToken.id);
  },
  'put /api/user/api-keys/{providerId}': async (t, a, b) => {
    // Provider ids are per user: B saving "openai" writes B's own slot, never A's.
    await a.request('PUT', '/api/user/api-keys/openai', { key: 'sk-aaaaaaaaaaaaaaaaaaaa1111' });
    await b.request('PUT', '/api/user/api-keys/openai', { key: 'sk-bbbbbbbbbbbbbbbbbbbb2222' });
    expect(
      await t.services.vault.decryptForUse({ userId: a.id, providerId: 'openai', purpose: 'authz test' }),
    ).toBe('sk-aaaaaaaaaaaaaaaaaaaa1111');
  },
  'delete /api/user/api-keys/{providerId}': async (t, a, b) => {
    await a.request('PUT', '/api/user/api-keys/stability', { key: 'sk-stability-aaaaaaaa3333' });
    expectDenied(await b.request('DELETE', '/api/user/api-keys/stability'));
    expect(
      await t.services.vault.decryptForUse({ userId: a.id, providerId: 'stability', purpose: 'authz test' }),
    ).toBe('sk-stability-aaaaaaaa3333');
  },
  'post /api/user/api-keys/{providerId}/test': async (_t, a, b) => {
    await a.request('PUT', '/api/user/api-keys/runway', { key: 'key_aaaaaaaaaaaaaaaa4444' });
    expectDenied(await b.request('POST', '/api/user/api-keys/runway/test'));
  },
  'get /api/workflow/status/{runId}': async (t, a, b) => {
    const runId = await queuedRunOf(t, a);
    expectDenied(await b.request('GET', `/api/workflow/status/${runId}`));
    expect((await a.request('GET', `/api/workflow/status/${runId}`)).status).toBe(200);
  },
  'post /api/workflow/runs/{runId}/cancel': async (t, a, b) => {
    const runId = await queuedRunOf(t, a);
    expectDenied(await b.request('POST', `/api/workflow/runs/${runId}/cancel`));
    const row = await t.services.db
      .selectFrom('runs')
      .select('status')
      .where('id', '=', runId)
      .executeTakeFirst();
    expect(row?.status).toBe('queued');
  },
  'get /api/workflow/runs/{runId}/events': async (t, a, b) => {
    const runId = await queuedRunOf(t, a);
    expectDenied(await b.request('GET', `/api/workflow/runs/${runId}/events`));
  },
  'post /api/workflow/runs/{runId}/rerun': async (t, a, b) => {
    const runId = await queuedRunOf(t, a);
    await t.services.db
      .updateTable('runs')
      .set({ status: 'completed', finished_at: new Date() })
      .where('id', '=', runId)
      .execute();
    expectDenied(await b.request('POST', `/api/workflow/runs/${runId}/rerun`, { fromNodeId: 'x' }));
    const bRuns = await t.services.db.selectFrom('runs').select('id').where('user_id', '=', b.id).execute();
    expect(bRuns).toEqual([]);
  },
  'get /api/templates/{templateId}': async (_t, a, b) => {
    const id = await templateOf(a, 'get');
    expectDenied(await b.request('GET', `/api/templates/${id}`));
    expect(JSON.stringify(await (await b.request('GET', '/api/templates')).json())).not.toContain(id);
  },
  'put /api/templates/{templateId}': async (_t, a, b) => {
    const id = await templateOf(a, 'put');
    expectDenied(await b.request('PUT', `/api/templates/${id}`, { name: 'stolen' }));
    expect(((await (await a.request('GET', `/api/templates/${id}`)).json()) as { name: string }).name).toBe(
      'put',
    );
  },
  'delete /api/templates/{templateId}': async (_t, a, b) => {
    const id = await templateOf(a, 'delete');
    expectDenied(await b.request('DELETE', `/api/templates/${id}`));
    expect((await a.request('GET', `/api/templates/${id}`)).status).toBe(200);
  },
  'get /api/contents/{contentId}': async (t, a, b) => {
    const id = await contentOf(t, a);
    expectDenied(await b.request('GET', `/api/contents/${id}`));
    expect(JSON.stringify(await (await b.request('GET', '/api/contents')).json())).not.toContain(id);
  },
  'delete /api/contents/{contentId}': async (t, a, b) => {
    const id = await contentOf(t, a);
    expectDenied(await b.request('DELETE', `/api/contents/${id}`));
    expect((await a.request('GET', `/api/contents/${id}`)).status).toBe(200);
  },
  'get /api/contents/{contentId}/media/{kind}': async (t, a, b) => {
    const id = await contentOf(t, a);
    expectDenied(await b.request('GET', `/api/contents/${id}/media/image`));
    const own = await a.request('GET', `/api/contents/${id}/media/image`);
    expect(own.status).toBe(200);
    // Read to the end: an unread body keeps its file open until garbage collection.
    expect(new Uint8Array(await own.arrayBuffer())).toEqual(new Uint8Array([1]));
  },
  'get /api/workflow/runs/{runId}/nodes/{nodeId}/media/{port}': async (t, a, b) => {
    const runId = await imageNodeRunOf(t, a);
    expectDenied(await b.request('GET', `/api/workflow/runs/${runId}/nodes/image/media/image`));
    const own = await a.request('GET', `/api/workflow/runs/${runId}/nodes/image/media/image`);
    expect(own.status).toBe(200);
    expect(new Uint8Array(await own.arrayBuffer())).toEqual(new Uint8Array([1]));
  },
};

/** A template saved by `user` under `name` (an empty graph is valid). */
async function templateOf(user: TestUser, name: string): Promise<string> {
  const response = await user.request('POST', '/api/templates', {
    name,
    graph: { version: 1, nodes: [], edges: [] },
  });
  expect(response.status).toBe(201);
  return ((await response.json()) as { id: string }).id;
}

/** A run row of `user` left queued (never executed: no engine work, no hold). */
async function queuedRunOf(t: TestApp, user: TestUser): Promise<string> {
  const runId = `run_authz_${Math.random().toString(36).slice(2)}`;
  await t.services.db
    .insertInto('runs')
    .values({ id: runId, user_id: user.id, graph: '{"version":1,"nodes":[],"edges":[]}', estimated_cost: 0 })
    .execute();
  return runId;
}

/** A content of `user` (on a run row of theirs) with a one-byte image in the blob store. */
async function contentOf(t: TestApp, user: TestUser): Promise<string> {
  const runId = await queuedRunOf(t, user);
  const image = await t.services.media.blobs.put({
    key: `runs/${runId}/image.png`,
    body: new Uint8Array([1]),
    mimeType: 'image/png',
  });
  const id = `cnt_authz_${Math.random().toString(36).slice(2)}`;
  await t.services.db
    .insertInto('contents')
    .values({
      id,
      user_id: user.id,
      run_id: runId,
      prompt: 'authz',
      enhanced_prompt: null,
      image_key: image.key,
      video_key: null,
      thumbnail_key: null,
      duration_seconds: null,
      width: 1,
      height: 1,
      file_size_bytes: 1,
      cost_credits: 0,
      text_provider_id: null,
      image_provider_id: null,
      video_provider_id: null,
    })
    .execute();
  return id;
}

/** A run of `user` whose image node completed, its output referencing a one-byte image in their prefix. */
async function imageNodeRunOf(t: TestApp, user: TestUser): Promise<string> {
  const runId = await queuedRunOf(t, user);
  const image = await t.services.media.blobs.put({
    key: `users/${user.id}/runs/${runId}/image.png`,
    body: new Uint8Array([1]),
    mimeType: 'image/png',
  });
  const run = { runId, status: 'completed', version: 1, lastSeq: 0 };
  await sql`insert into run_checkpoints (run_id, format_version, status, record)
            values (${runId}, 1, 'completed', ${JSON.stringify(run)}::json)`.execute(t.services.db);
  const output = { image: { ...image, width: 1, height: 1 } };
  const node = { nodeId: 'image', status: 'completed', attempt: 1, cost: 0, captured: true, output };
  await t.services.db
    .insertInto('node_checkpoints')
    .values({ run_id: runId, node_id: 'image', status: 'completed', record: JSON.stringify(node) })
    .execute();
  return runId;
}

function expectDenied(response: Response): void {
  expect([403, 404]).toContain(response.status);
}

interface OpenApiDoc {
  paths: Record<string, Record<string, unknown>>;
}

describeEachDatabase('authorization', ({ database }) => {
  it('every operation needs credentials, except sign-up, sign-in, sign-out and the health probes', async () => {
    const t = await createTestApp(database());
    const doc = (await (await t.request('GET', '/api/openapi.json')).json()) as OpenApiDoc;
    const operations = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.keys(methods).map((method) => ({ method, path })),
    );
    expect(operations.length).toBeGreaterThan(10);
    for (const { method, path } of operations) {
      if (PUBLIC.has(`${method} ${path}`)) continue;
      const url = path.replace(/\{[^}]+\}/g, 'x');
      const response = await t.request(
        method.toUpperCase(),
        url,
        method === 'get' || method === 'delete' ? undefined : {},
      );
      expect(response.status, `${method.toUpperCase()} ${path}`).toBe(401);
    }
  });

  it("user B can never reach user A's resources", async () => {
    const t = await createTestApp(database());
    const doc = (await (await t.request('GET', '/api/openapi.json')).json()) as OpenApiDoc;
    const withIds = Object.entries(doc.paths)
      .filter(([path]) => path.includes('{') && !path.startsWith('/api/admin/'))
      .flatMap(([path, methods]) => Object.keys(methods).map((method) => `${method} ${path}`));
    expect(withIds.sort()).toEqual(Object.keys(IDOR).sort());
    const a = await t.signUp();
    const b = await t.signUp();
    for (const [operation, check] of Object.entries(IDOR)) {
      await check(t, a, b).catch((error: unknown) => {
        throw new Error(`${operation}: ${error instanceof Error ? error.message : String(error)}`);
      });
    }
  });

  it('admin routes refuse non-admins with 403', async () => {
    const t = await createTestApp(database());
    await t.signUp(); // the installation's first account is its admin
    const user = await t.signUp();
    const doc = (await (await t.request('GET', '/api/openapi.json')).json()) as OpenApiDoc;
    const admin = Object.entries(doc.paths).filter(([path]) => path.startsWith('/api/admin/'));
    expect(admin.length).toBeGreaterThan(0);
    for (const [path, methods] of admin) {
      for (const method of Object.keys(methods)) {
        const body =
          method === 'get' ? undefined : { userId: user.id, amount: 1000, reason: 'self-grant attempt' };
        const response = await user.request(method.toUpperCase(), path.replace(/\{[^}]+\}/g, 'x'), body);
        expect(response.status, `${method} ${path}`).toBe(403);
      }
    }
    const balance = (await (await user.request('GET', '/api/credits/balance')).json()) as { balance: number };
    expect(balance.balance).toBe(100);
  });

  it("gives admins the vault's key age and the ledger's reconciliation", async () => {
    const t = await createTestApp(database());
    const admin = await t.signUp();
    const role = await t.services.db
      .selectFrom('users')
      .select('role')
      .where('id', '=', admin.id)
      .executeTakeFirstOrThrow();
    if (role.role !== 'admin') {
      await t.services.db.updateTable('users').set({ role: 'admin' }).where('id', '=', admin.id).execute();
    }
    await admin.request('PUT', '/api/user/api-keys/openai', { key: 'sk-admin-test-key-0000abcd' });
    const vault = (await (await admin.request('GET', '/api/admin/vault')).json()) as {
      activeKeyAgeDays: number;
      rotationDays: number;
      rotationDue: boolean;
      rowsNotOnActiveKey: number;
    };
    expect(vault).toMatchObject({
      activeKeyAgeDays: 0,
      rotationDays: 90,
      rotationDue: false,
      rowsNotOnActiveKey: 0,
    });
    const reconciliation = (await (
      await admin.request('GET', '/api/admin/ledger/reconciliation')
    ).json()) as {
      accounts: number;
      drift: unknown[];
    };
    expect(reconciliation.accounts).toBeGreaterThan(0);
    expect(reconciliation.drift).toEqual([]);
  });
});

import { shortVideoTemplate } from '@vidgenie/nodes';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './support/test-app.ts';
import { describeEachDatabase } from './support/test-databases.ts';

interface TemplateBody {
  id: string;
  name: string;
  builtIn: boolean;
  graph: Record<string, unknown>;
  createdAt: string | null;
  updatedAt: string | null;
}

describeEachDatabase('workflow templates', ({ database }) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(database());
  });
  afterAll(async () => {
    await t?.services.close();
  });

  it('saves, lists (after the built-in one), loads, renames, replaces and deletes templates', async () => {
    const user = await t.signUp();
    const initial = (await (await user.request('GET', '/api/templates')).json()) as {
      templates: TemplateBody[];
    };
    expect(initial.templates).toHaveLength(1);
    expect(initial.templates[0]).toMatchObject({ id: 'builtin-short-video', builtIn: true, createdAt: null });
    expect(initial.templates[0]?.graph).toEqual(JSON.parse(JSON.stringify(shortVideoTemplate())));

    const graph = shortVideoTemplate({ prompt: 'a fox', durationSeconds: 15 });
    const created = await user.request('POST', '/api/templates', { name: '  Fox reel ', graph });
    expect(created.status).toBe(201);
    const saved = (await created.json()) as TemplateBody;
    expect(saved).toMatchObject({ name: 'Fox reel', builtIn: false });
    expect(saved.graph).toEqual(JSON.parse(JSON.stringify(graph))); // verbatim, positions included

    const duplicate = await user.request('POST', '/api/templates', { name: 'Fox reel', graph });
    expect(duplicate.status).toBe(409);
    const loaded = (await (await user.request('GET', `/api/templates/${saved.id}`)).json()) as TemplateBody;
    expect(loaded).toEqual(saved);
    expect(
      ((await (await user.request('GET', '/api/templates/builtin-short-video')).json()) as TemplateBody)
        .builtIn,
    ).toBe(true);

    const other = await user.request('POST', '/api/templates', { name: 'Other', graph });
    const otherId = ((await other.json()) as TemplateBody).id;
    expect((await user.request('PUT', `/api/templates/${otherId}`, { name: 'Fox reel' })).status).toBe(409);
    const renamed = await user.request('PUT', `/api/templates/${saved.id}`, {
      name: 'Fox reel, 8 s',
      graph: shortVideoTemplate({ prompt: 'a fox', durationSeconds: 8 }),
    });
    expect(renamed.status).toBe(200);
    const updated = (await renamed.json()) as TemplateBody;
    expect(updated.name).toBe('Fox reel, 8 s');
    expect(
      (updated.graph.nodes as { id: string; config: { durationSeconds?: number } }[])[3]?.config
        .durationSeconds,
    ).toBe(8);
    expect((await user.request('PUT', `/api/templates/${saved.id}`, {})).status).toBe(400);

    const list = (await (await user.request('GET', '/api/templates')).json()) as {
      templates: TemplateBody[];
    };
    expect(list.templates.map((x) => x.name)).toEqual([
      'Short video: prompt → image → video',
      'Fox reel, 8 s',
      'Other',
    ]);

    expect((await user.request('DELETE', `/api/templates/${saved.id}`)).status).toBe(204);
    expect((await user.request('GET', `/api/templates/${saved.id}`)).status).toBe(404);
    expect((await user.request('DELETE', `/api/templates/${saved.id}`)).status).toBe(404);
    expect((await user.request('DELETE', '/api/templates/builtin-short-video')).status).toBe(403);
    expect((await user.request('PUT', '/api/templates/builtin-short-video', { name: 'Mine' })).status).toBe(
      403,
    );

    // Another user sees only the built-in one.
    const stranger = await t.signUp();
    const theirs = (await (await stranger.request('GET', '/api/templates')).json()) as {
      templates: TemplateBody[];
    };
    expect(theirs.templates.map((x) => x.id)).toEqual(['builtin-short-video']);
    // Names are per user.
    expect((await stranger.request('POST', '/api/templates', { name: 'Other', graph })).status).toBe(201);
  });

  it('validates the graph like execute (400 GRAPH_INVALID with node ids) and the name', async () => {
    const user = await t.signUp();
    const response = await user.request('POST', '/api/templates', {
      name: 'Broken',
      graph: { version: 1, nodes: [{ id: 'mystery', type: 'no-such-type' }], edges: [] },
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as {
      error: { code: string; details: { issues: { nodeId?: string }[] } };
    };
    expect(body.error.code).toBe('GRAPH_INVALID');
    expect(body.error.details.issues).toEqual([expect.objectContaining({ nodeId: 'mystery' })]);
    for (const name of ['', '   ', 'n'.repeat(101)]) {
      expect(
        (await user.request('POST', '/api/templates', { name, graph: shortVideoTemplate() })).status,
      ).toBe(400);
    }
    const saved = (await (
      await user.request('POST', '/api/templates', { name: 'Good', graph: shortVideoTemplate() })
    ).json()) as TemplateBody;
    const bad = await user.request('PUT', `/api/templates/${saved.id}`, {
      graph: { version: 1, nodes: [{ id: 'x', type: 'no-such-type' }], edges: [] },
    });
    expect(bad.status).toBe(400);
    expect(
      ((await (await user.request('GET', `/api/templates/${saved.id}`)).json()) as TemplateBody).graph,
    ).toEqual(JSON.parse(JSON.stringify(shortVideoTemplate())));
    expect(
      await t.services.db.selectFrom('templates').select('name').where('user_id', '=', user.id).execute(),
    ).toEqual([{ name: 'Good' }]);
  });
});

import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { AppEnv } from '../http/app-env.ts';
import { createRouter, errorResponse } from '../http/create-router.ts';
import { requireUser } from '../http/require-auth.ts';
import {
  createTemplate,
  deleteTemplate,
  getTemplate,
  listTemplates,
  type TemplateContext,
  updateTemplate,
} from './templates-service.ts';

const json = <T extends z.ZodType>(schema: T) => ({ content: { 'application/json': { schema } } }) as const;
const security = [{ bearer: [] }];

const TemplateIdParam = z.object({
  templateId: z
    .string()
    .min(1)
    .max(255)
    .openapi({ param: { name: 'templateId', in: 'path' }, example: 'tpl_3q2-7wXkQeM1c9b0sFh2Aw' }),
});
const Name = z.string().trim().min(1).max(100).openapi({ description: 'Unique among your templates.' });
const Graph = z.looseObject({}).openapi({ description: 'A workflow graph (format version 1).' });
const CreateBody = z.object({ name: Name, graph: Graph }).openapi('CreateTemplate');
const UpdateBody = z
  .object({ name: Name.optional(), graph: Graph.optional() })
  .refine((body) => body.name !== undefined || body.graph !== undefined, {
    error: 'Give a new name, a new graph, or both.',
  })
  .openapi('UpdateTemplate');
const TemplateSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    builtIn: z.boolean(),
    graph: z.record(z.string(), z.unknown()),
    createdAt: z.string().nullable().openapi({ format: 'date-time' }),
    updatedAt: z.string().nullable().openapi({ format: 'date-time' }),
  })
  .openapi('WorkflowTemplate');
const TemplateList = z.object({ templates: z.array(TemplateSchema) }).openapi('WorkflowTemplates');

const contextOf = (c: Context<AppEnv>): TemplateContext => {
  const services = c.get('services');
  return { db: services.db, registry: services.runs.registry, now: services.now };
};

/**
 * The workflow template routes (PRD: save the graph and its config as a named template, list, load,
 * rename or replace, delete). Every user also sees the built-in short-video template (`builtIn`,
 * read-only). Another user's template id answers 404. Mount with `app.route('/', templatesRoutes())`.
 * @internal
 */
export function templatesRoutes() {
  const app = createRouter();

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/templates',
      tags: ['templates'],
      summary: 'Your templates, after the built-in short-video template',
      security,
      responses: {
        200: { description: 'The templates', ...json(TemplateList) },
        401: errorResponse('Not signed in'),
      },
    }),
    async (c) => {
      const { userId } = requireUser(c);
      return c.json({ templates: await listTemplates(contextOf(c), userId) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/templates',
      tags: ['templates'],
      summary: 'Save a graph as a named template',
      security,
      request: { body: { required: true, ...json(CreateBody) } },
      responses: {
        201: { description: 'Saved', ...json(TemplateSchema) },
        400: errorResponse('GRAPH_INVALID (every issue with node ids) or VALIDATION_FAILED'),
        401: errorResponse('Not signed in'),
        409: errorResponse('You already have a template with this name'),
      },
    }),
    async (c) => {
      const { userId } = requireUser(c);
      const body = c.req.valid('json');
      const template = await createTemplate(contextOf(c), { userId, ...body });
      return c.json(template, 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/templates/{templateId}',
      tags: ['templates'],
      summary: 'One template, with its graph',
      security,
      request: { params: TemplateIdParam },
      responses: {
        200: { description: 'The template', ...json(TemplateSchema) },
        401: errorResponse('Not signed in'),
        404: errorResponse('No such template (or not yours)'),
      },
    }),
    async (c) => {
      const { userId } = requireUser(c);
      const { templateId } = c.req.valid('param');
      return c.json(await getTemplate(contextOf(c), { userId, templateId }), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'put',
      path: '/api/templates/{templateId}',
      tags: ['templates'],
      summary: 'Rename a template and/or replace its graph',
      security,
      request: { params: TemplateIdParam, body: { required: true, ...json(UpdateBody) } },
      responses: {
        200: { description: 'Updated', ...json(TemplateSchema) },
        400: errorResponse('GRAPH_INVALID or VALIDATION_FAILED'),
        401: errorResponse('Not signed in'),
        403: errorResponse('The built-in template is read-only'),
        404: errorResponse('No such template (or not yours)'),
        409: errorResponse('You already have a template with this name'),
      },
    }),
    async (c) => {
      const { userId } = requireUser(c);
      const { templateId } = c.req.valid('param');
      const body = c.req.valid('json');
      return c.json(await updateTemplate(contextOf(c), { userId, templateId, ...body }), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/api/templates/{templateId}',
      tags: ['templates'],
      summary: 'Delete a template',
      security,
      request: { params: TemplateIdParam },
      responses: {
        204: { description: 'Deleted' },
        401: errorResponse('Not signed in'),
        403: errorResponse('The built-in template is read-only'),
        404: errorResponse('No such template (or not yours)'),
      },
    }),
    async (c) => {
      const { userId } = requireUser(c);
      const { templateId } = c.req.valid('param');
      await deleteTemplate(contextOf(c), { userId, templateId });
      return c.body(null, 204);
    },
  );

  return app;
}

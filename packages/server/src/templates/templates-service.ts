import { type NodeRegistry, validateGraph } from '@vidgenie/engine';
import { shortVideoTemplate } from '@vidgenie/nodes';
import type { Kysely } from 'kysely';
import type { DB, TemplateRow } from '../db/schema.ts';
import { ApiError } from '../errors/api-error.ts';
import { newId } from '../ids/new-id.ts';
import { sqlStateOf } from '../ledger/retry-transient.ts';

/** The id of the built-in short-video template (every user sees it; nobody can change it). */
export const BUILTIN_SHORT_VIDEO_TEMPLATE_ID = 'builtin-short-video';

/** A saved workflow template as the API shows it. */
export interface WorkflowTemplate {
  readonly id: string;
  readonly name: string;
  /** True for the built-in template (read-only; `createdAt` and `updatedAt` are null). */
  readonly builtIn: boolean;
  /** The graph as saved (positions and config included). */
  readonly graph: Readonly<Record<string, unknown>>;
  readonly createdAt: string | null;
  readonly updatedAt: string | null;
}

const builtIn = (): WorkflowTemplate => ({
  id: BUILTIN_SHORT_VIDEO_TEMPLATE_ID,
  name: 'Short video: prompt → image → video',
  builtIn: true,
  graph: shortVideoTemplate() as unknown as Record<string, unknown>,
  createdAt: null,
  updatedAt: null,
});

const toTemplate = (row: TemplateRow): WorkflowTemplate => ({
  id: row.id,
  name: row.name,
  builtIn: false,
  graph: row.graph,
  createdAt: row.created_at.toISOString(),
  updatedAt: row.updated_at.toISOString(),
});

/** What the template functions work with. */
export interface TemplateContext {
  readonly db: Kysely<DB>;
  /** The node registry graphs validate against (the run executor's). */
  readonly registry: NodeRegistry;
  readonly now: () => Date;
}

/**
 * 400 `GRAPH_INVALID` with every issue, as `POST /api/workflow/execute` answers. A template's
 * prompt may be empty (the creator types it at run time, as `initialPrompt`): empty prompt texts
 * are validated as if filled in.
 */
function assertValidGraph(registry: NodeRegistry, graph: Record<string, unknown>): void {
  const nodes = Array.isArray(graph.nodes) ? (graph.nodes as unknown[]) : undefined;
  const filled =
    nodes === undefined
      ? graph
      : {
          ...graph,
          nodes: nodes.map((node) => {
            const { type, config } = (node ?? {}) as { type?: unknown; config?: { text?: unknown } };
            return type === 'prompt' && (config?.text === undefined || config.text === '')
              ? { ...(node as object), config: { ...config, text: 'prompt given at run time' } }
              : node;
          }),
        };
  const checked = validateGraph(filled, registry);
  if (!checked.ok) {
    throw new ApiError('GRAPH_INVALID', 'The workflow graph is invalid.', {
      details: { issues: checked.issues },
    });
  }
}

const duplicateName = (name: string) =>
  new ApiError('CONFLICT', `You already have a template named "${name}": choose another name.`);

/**
 * A user's templates, newest first, after the built-in short-video template.
 *
 * @example
 * ```ts
 * import { createServices, listTemplates, loadConfig } from '@vidgenie/server';
 * const services = await createServices(loadConfig({ VIDGENIE_DATA_DIR: './.vidgenie-example' }));
 * const templates = await listTemplates({ ...services, registry: services.runs.registry }, 'usr_1');
 * console.log(templates[0]?.builtIn); // true
 * await services.close();
 * ```
 */
export async function listTemplates(ctx: TemplateContext, userId: string): Promise<WorkflowTemplate[]> {
  const rows = await ctx.db
    .selectFrom('templates')
    .selectAll()
    .where('user_id', '=', userId)
    .orderBy('updated_at', 'desc')
    .orderBy('id', 'desc')
    .limit(500)
    .execute();
  return [builtIn(), ...rows.map(toTemplate)];
}

/** One of the user's templates (or the built-in one); 404 `NOT_FOUND` otherwise. @internal */
export async function getTemplate(
  ctx: TemplateContext,
  args: { readonly userId: string; readonly templateId: string },
): Promise<WorkflowTemplate> {
  if (args.templateId === BUILTIN_SHORT_VIDEO_TEMPLATE_ID) return builtIn();
  const row = await ctx.db
    .selectFrom('templates')
    .selectAll()
    .where('id', '=', args.templateId)
    .where('user_id', '=', args.userId)
    .executeTakeFirst();
  if (row === undefined) throw new ApiError('NOT_FOUND', 'No such template.');
  return toTemplate(row);
}

/**
 * Saves a graph as a named template: validated like a run (400 `GRAPH_INVALID`), one name per
 * user (409 `CONFLICT`). The graph is stored verbatim. @internal
 */
export async function createTemplate(
  ctx: TemplateContext,
  args: { readonly userId: string; readonly name: string; readonly graph: Record<string, unknown> },
): Promise<WorkflowTemplate> {
  assertValidGraph(ctx.registry, args.graph);
  const now = ctx.now();
  const row = await ctx.db
    .insertInto('templates')
    .values({
      id: newId('tpl'),
      user_id: args.userId,
      name: args.name,
      graph: JSON.stringify(args.graph),
      created_at: now,
      updated_at: now,
    })
    .onConflict((conflict) => conflict.columns(['user_id', 'name']).doNothing())
    .returningAll()
    .executeTakeFirst();
  if (row === undefined) throw duplicateName(args.name);
  return toTemplate(row);
}

/**
 * Renames a template and/or replaces its graph (validated); 404 for another user's or the built-in
 * one (403 `FORBIDDEN`), 409 on a name the user already has. @internal
 */
export async function updateTemplate(
  ctx: TemplateContext,
  args: {
    readonly userId: string;
    readonly templateId: string;
    readonly name?: string | undefined;
    readonly graph?: Record<string, unknown> | undefined;
  },
): Promise<WorkflowTemplate> {
  if (args.templateId === BUILTIN_SHORT_VIDEO_TEMPLATE_ID) {
    throw new ApiError('FORBIDDEN', 'The built-in template cannot be changed: save a copy under a new name.');
  }
  if (args.graph !== undefined) assertValidGraph(ctx.registry, args.graph);
  try {
    const row = await ctx.db
      .updateTable('templates')
      .set({
        updated_at: ctx.now(),
        ...(args.name === undefined ? {} : { name: args.name }),
        ...(args.graph === undefined ? {} : { graph: JSON.stringify(args.graph) }),
      })
      .where('id', '=', args.templateId)
      .where('user_id', '=', args.userId)
      .returningAll()
      .executeTakeFirst();
    if (row === undefined) throw new ApiError('NOT_FOUND', 'No such template.');
    return toTemplate(row);
  } catch (error) {
    if (sqlStateOf(error) === '23505') throw duplicateName(args.name ?? '');
    throw error;
  }
}

/** Deletes one of the user's templates; 404 otherwise, 403 for the built-in one. @internal */
export async function deleteTemplate(
  ctx: TemplateContext,
  args: { readonly userId: string; readonly templateId: string },
): Promise<void> {
  if (args.templateId === BUILTIN_SHORT_VIDEO_TEMPLATE_ID) {
    throw new ApiError('FORBIDDEN', 'The built-in template cannot be deleted.');
  }
  const result = await ctx.db
    .deleteFrom('templates')
    .where('id', '=', args.templateId)
    .where('user_id', '=', args.userId)
    .executeTakeFirst();
  if (result.numDeletedRows === 0n) throw new ApiError('NOT_FOUND', 'No such template.');
}

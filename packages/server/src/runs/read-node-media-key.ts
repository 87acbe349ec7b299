import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.ts';
import { ApiError } from '../errors/api-error.ts';

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** What {@link readNodeMediaKey} looks up. */
export interface NodeMediaLookup {
  /** The caller: the run must be theirs. */
  readonly userId: string;
  readonly runId: string;
  readonly nodeId: string;
  /** The output port holding a media reference (`image`, `video`, `thumbnail`...). */
  readonly port: string;
}

/**
 * The blob key a node of a user's run recorded at one output port: read from the node's stored
 * record (`node_checkpoints`, written before the engine reports the node completed), so it is there
 * while the run still runs and after it ended; a rerun's reused node recorded its parent's output,
 * hence the parent's key. 404 `NOT_FOUND` for an unknown run or another user's (the same answer),
 * and for a node with no media reference at that port (yet). A key outside the owner's
 * `users/<userId>/` prefix (which the run's media store always writes) is refused with the same 404:
 * a stored output never makes the route serve another user's file.
 *
 * @internal
 */
export async function readNodeMediaKey(db: Kysely<DB>, lookup: NodeMediaLookup): Promise<string> {
  const { userId, runId, nodeId, port } = lookup;
  const run = await db
    .selectFrom('runs')
    .select('id')
    .where('id', '=', runId)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  if (run === undefined) throw new ApiError('NOT_FOUND', 'No such run.');
  const node = await db
    .selectFrom('node_checkpoints')
    .select('record')
    .where('run_id', '=', runId)
    .where('node_id', '=', nodeId)
    .where('status', '=', 'completed')
    .executeTakeFirst();
  const output = isRecord(node?.record) ? node.record.output : undefined;
  const ref = isRecord(output) && Object.hasOwn(output, port) ? output[port] : undefined;
  const key = isRecord(ref) && typeof ref.key === 'string' ? ref.key : undefined;
  if (key === undefined || !key.startsWith(`users/${userId}/`) || key.split('/').includes('..')) {
    throw new ApiError(
      'NOT_FOUND',
      `Node "${nodeId}" of this run has no media at "${port}" (yet: it may not have completed).`,
    );
  }
  return key;
}

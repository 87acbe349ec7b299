import { z } from 'zod';

/** A graph node's id, unique within one graph. Created only by parsing (`NodeId.parse`). */
export const NodeId = z.string().min(1, 'node id must not be empty').brand<'NodeId'>();
/** @see NodeId */
export type NodeId = z.infer<typeof NodeId>;

/** An edge's id, unique within one graph. */
export const EdgeId = z.string().min(1, 'edge id must not be empty').brand<'EdgeId'>();
/** @see EdgeId */
export type EdgeId = z.infer<typeof EdgeId>;

/** A port name: a key of a node's input or output schema. */
export const PortId = z.string().min(1, 'port id must not be empty').brand<'PortId'>();
/** @see PortId */
export type PortId = z.infer<typeof PortId>;

/** A run's id. Hosts may supply their own (e.g. a database key); otherwise {@link newRunId} makes one. */
export const RunId = z.string().min(1, 'run id must not be empty').brand<'RunId'>();
/** @see RunId */
export type RunId = z.infer<typeof RunId>;

/** The id a billing host returns for a credit hold. */
export const ReservationId = z.string().min(1).brand<'ReservationId'>();
/** @see ReservationId */
export type ReservationId = z.infer<typeof ReservationId>;

/**
 * Makes a new random run id (a UUID v4 from Web Crypto, available in Node >= 20 and browsers).
 *
 * @example
 * ```ts
 * import { newRunId } from '@vidgenie/engine';
 * const runId = newRunId();
 * ```
 */
export function newRunId(): RunId {
  return RunId.parse(globalThis.crypto.randomUUID());
}

/** The codes of graph validation issues. */
export const GRAPH_ISSUE_CODES = {
  /** The JSON does not have the graph format's shape. */
  MALFORMED_GRAPH: 'MALFORMED_GRAPH',
  /** The `version` field is not one this engine reads. */
  UNSUPPORTED_VERSION: 'UNSUPPORTED_VERSION',
  /** Two nodes share an id. */
  DUPLICATE_NODE_ID: 'DUPLICATE_NODE_ID',
  /** Two edges share an id. */
  DUPLICATE_EDGE_ID: 'DUPLICATE_EDGE_ID',
  /** A node's type is not registered. */
  UNKNOWN_NODE_TYPE: 'UNKNOWN_NODE_TYPE',
  /** An edge points at a node that is not in the graph. */
  UNKNOWN_NODE: 'UNKNOWN_NODE',
  /** An edge names a port the node does not have. */
  UNKNOWN_PORT: 'UNKNOWN_PORT',
  /** An edge connects an output to an input of another type. */
  INCOMPATIBLE_PORTS: 'INCOMPATIBLE_PORTS',
  /** A required input has no edge. */
  REQUIRED_INPUT_MISSING: 'REQUIRED_INPUT_MISSING',
  /** Two edges lead into the same input. */
  INPUT_ALREADY_CONNECTED: 'INPUT_ALREADY_CONNECTED',
  /** The edges form a cycle. */
  CYCLE: 'CYCLE',
  /** A node's config does not match its schema. */
  INVALID_CONFIG: 'INVALID_CONFIG',
  /** A node's cost estimate is not a non-negative integer. */
  INVALID_COST: 'INVALID_COST',
} as const;

/** A graph issue code. */
export type GraphIssueCode = (typeof GRAPH_ISSUE_CODES)[keyof typeof GRAPH_ISSUE_CODES];

/**
 * One problem in a graph, with the ids of what it concerns so a canvas can point at it.
 */
export interface GraphIssue {
  readonly code: GraphIssueCode;
  /** A sentence for people, saying what to fix. */
  readonly message: string;
  /** The node the issue is on. */
  readonly nodeId?: string;
  /** The edge the issue is on. */
  readonly edgeId?: string;
  /** The port the issue is on (of `nodeId`). */
  readonly port?: string;
  /** For cycles: the nodes in the cycle. */
  readonly nodeIds?: readonly string[];
  /** For config and malformed-graph issues: the path to the bad value. */
  readonly path?: readonly (string | number)[];
}

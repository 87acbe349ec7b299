import { isOptionalPort, type NodeRegistry, portTypeOf } from '@vidgenie/engine';
import type { StepType } from './graph-types.ts';
import { STEP_TYPES } from './graph-types.ts';
import type { NodeSpec, PortSpec, PortType } from './validate-graph.ts';

/** A port's zod schema, as the engine reads it. */
type PortSchema = Parameters<typeof portTypeOf>[0];

const PORT_TYPES: readonly string[] = ['text', 'image', 'video'] satisfies readonly PortType[];

const isPortType = (type: string): type is PortType => PORT_TYPES.includes(type);

/**
 * The media ports (text, image, video) of each registered node type, read from a registry's
 * schemas in schema order: the ports the canvas draws as handles. Other fields of an output (the
 * enhance node's `tokensUsed`) are data, not handles; the result node has no output handles.
 */
export function nodeSpecsOf(registry: NodeRegistry): Readonly<Record<StepType, NodeSpec>> {
  const portsOf = (shape: Record<string, unknown>): PortSpec[] =>
    Object.entries(shape).flatMap(([name, schema]) => {
      const type = portTypeOf(schema as PortSchema);
      return isPortType(type) ? [{ name, type, required: !isOptionalPort(schema as PortSchema) }] : [];
    });
  const specs: Partial<Record<StepType, NodeSpec>> = {};
  for (const type of STEP_TYPES) {
    const def = registry.get(type as string);
    // The result node ends the workflow: its outputs are the run's result (its player), not handles.
    const outputs = type === 'output' ? [] : portsOf(def.output.shape);
    specs[type] = { inputs: portsOf(def.input.shape), outputs };
  }
  return specs as Record<StepType, NodeSpec>;
}

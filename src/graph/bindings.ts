// Binding by name: an op declares its inputs ('bias?' optional, present with attrs.bias) and each
// storage binding of an entry point is matched to one by its WGSL variable name.
import { GraphError } from '../errors';
import { presentNames, type OpDescriptor } from '../ops/types';
import type { ReflectedBinding } from '../wgsl/reflect';
import type { IRNode } from './ir';

/** The node's inputs by name: the op's declared names, optional ones kept when their attribute is set. */
export function presentInputs(desc: OpDescriptor, node: IRNode, label: string): Map<string, number> {
  const names = presentNames(desc.inputs, node.attrs);
  if (names.length !== node.inputs.length) {
    throw new GraphError(
      `${label}: the op declares inputs ${desc.inputs.join(', ')}; with its attributes that is ${names.length}, the node has ${node.inputs.length}`,
    );
  }
  return new Map(names.map((n, i) => [n, node.inputs[i]]));
}

/**
 * The input a storage binding reads, by its WGSL name (`bias`, or a view `bias4` / `bias1` / `bias_in`,
 * or `k_h` for packed halves); null: an absent optional input.
 */
export function bindingInput(
  b: ReflectedBinding,
  present: Map<string, number>,
  desc: OpDescriptor,
  label: string,
  entry: string,
  nodes: Map<number, IRNode>,
): IRNode | null {
  const name = b.name.replace(/(4|1|_in|_h)$/, '');
  const id = present.get(name);
  if (id !== undefined) return nodes.get(id)!;
  if (desc.inputs.includes(`${name}?`)) return null;
  throw new GraphError(
    `${label}: binding '${b.name}' of entry ${entry} names no input of ${desc.name} (inputs: ${desc.inputs.join(', ')})`,
  );
}

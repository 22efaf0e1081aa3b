// The graph as plain data. The scheduler works on this alone, so it is testable without a device.
import type { DType } from '../gpu/tensor';

export type NodeKind = 'input' | 'constant' | 'state' | 'op';

export interface IRNode {
  id: number;
  kind: NodeKind;
  /** Feed / constant / state name (kind !== 'op'). */
  name?: string;
  /** Registered op name (kind === 'op'). */
  op?: string;
  inputs: number[];
  attrs: Record<string, unknown>;
  shape: readonly number[];
  dtype: DType;
  /** The state node this op writes in place (its result lives in the state's buffer). */
  writes?: number;
}

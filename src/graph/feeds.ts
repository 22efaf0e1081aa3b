// What plan.run() checks before anything is encoded: every feed against its input (shape, dtype, a
// packed type's u32 words), every per-run scalar against the uniform type it fills and the range its
// kernel can take (KernelCall.ranges): an offset that would write past a state fails here, on the CPU.
import { ArgumentError, ShapeError, formatShape } from '../errors';
import { Tensor, dataMatches, dtypeOf, numel, storageLength, type AnyTypedArray } from '../gpu/tensor';
import type { ScalarRef } from '../ops/types';
import type { IRNode } from './ir';

/** Feed values: data for inputs (or a Tensor to copy on the GPU), numbers for scalars. */
export type Feeds = Record<string, AnyTypedArray | Tensor | number>;

export interface UniformPatch {
  offset: number;
  type: 'u32' | 'i32' | 'f32';
  ref: ScalarRef;
  /** The values the kernel can take here (from KernelCall.ranges), checked at run() on the CPU. */
  range?: { min: number; max: number; what: string; label: string };
}

/** The uniform value a patch writes: scalar · scale + add. */
export function scalarValue(p: UniformPatch, feeds: Feeds): number {
  return (feeds[p.ref.scalar] as number) * (p.ref.scale ?? 1) + (p.ref.add ?? 0);
}

/** Throws ShapeError / ArgumentError naming the feed or scalar that does not fit. */
export function checkFeeds(where: string, feeds: Feeds, inputs: Map<string, IRNode>, scalars: Set<string>, patches: UniformPatch[]): void {
  if (typeof feeds !== 'object' || feeds === null) throw new ShapeError(`${where}: feeds must be an object of named inputs`);
  for (const name of Object.keys(feeds)) {
    if (!inputs.has(name) && !scalars.has(name)) {
      throw new ShapeError(
        `${where}: unknown feed '${name}'; the graph's inputs are ${[...inputs.keys(), ...scalars].join(', ') || 'none'}`,
      );
    }
  }
  for (const [name, n] of inputs) {
    const v = feeds[name];
    if (v === undefined) throw new ShapeError(`${where}: missing feed for input '${name}' ${formatShape(n.shape)}`);
    const ok =
      v instanceof Tensor
        ? v.size === numel(n.shape) && v.dtype === n.dtype
        : typeof v === 'object' &&
          v !== null &&
          ArrayBuffer.isView(v) &&
          dataMatches(v, n.dtype) &&
          v.length === storageLength(n.dtype, numel(n.shape));
    if (!ok) {
      const got =
        v instanceof Tensor
          ? `a ${v.dtype} tensor of ${v.size} elements`
          : typeof v === 'number'
            ? 'a number'
            : `${(v as AnyTypedArray).length} ${dtypeOf(v as AnyTypedArray) ?? 'untyped'} elements`;
      const want = storageLength(n.dtype, numel(n.shape));
      throw new ShapeError(
        `${where}: feed '${name}' has ${got}; input ${formatShape(n.shape)} needs ${want} ${n.dtype === 'f32' || n.dtype === 'u32' || n.dtype === 'i32' ? n.dtype : `u32 words (${numel(n.shape)} ${n.dtype})`}`,
      );
    }
    if (v instanceof Tensor) v.assertAlive(`${where}: feed '${name}'`);
  }
  for (const s of scalars) {
    const v = feeds[s];
    if (typeof v !== 'number' || !Number.isFinite(v))
      throw new ArgumentError(
        `${where}: scalar '${s}' needs a finite number, got ${v === undefined ? 'nothing' : typeof v === 'number' ? v : typeof v}`,
      );
  }
  for (const p of patches) {
    const v = scalarValue(p, feeds);
    if (p.type === 'u32' && !(Number.isInteger(v) && v >= 0 && v <= 0xffffffff)) {
      throw new ArgumentError(`${where}: scalar '${p.ref.scalar}' = ${feeds[p.ref.scalar]} gives ${v}, not a u32`);
    }
    if (p.type === 'i32' && !(Number.isInteger(v) && v >= -(2 ** 31) && v < 2 ** 31)) {
      throw new ArgumentError(`${where}: scalar '${p.ref.scalar}' = ${feeds[p.ref.scalar]} gives ${v}, not an i32`);
    }
    const r = p.range;
    if (r && !(v >= r.min && v <= r.max)) {
      throw new ArgumentError(
        `${where}: scalar '${p.ref.scalar}' = ${feeds[p.ref.scalar]} gives ${r.label} ${r.what} ${v}, outside ${r.min}..${r.max}`,
      );
    }
  }
}

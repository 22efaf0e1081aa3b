// Runs one registered op through a compiled plan (output poisoned with NaN first) and returns the
// GPU result beside the float64 CPU reference.
import { getOp, numel, type AnyTypedArray, type Engine, type TensorInfo } from '../../src/index';
import type { OpAttrs, OpName } from '../../src/ops/registry';
import { f64 } from './numeric';

/**
 * One op on inputs fed as data. With the op named by a literal, tsc checks its attributes (OpAttrs);
 * a name chosen at run time (a `string`) takes any attributes, and the registry checks the name.
 */
export interface OpCase<N extends string = OpName> {
  op: N;
  inputs: { shape: number[]; data: AnyTypedArray }[];
  attrs?: N extends OpName ? OpAttrs[N] : Record<string, unknown>;
  /** A tuning table for the compile (Engine.create's `tuning`, per plan). */
  tuning?: Record<string, Record<string, number>>;
}

export async function runOp<N extends string>(
  engine: Engine,
  c: OpCase<N>,
): Promise<{ gpu: AnyTypedArray; ref: Float64Array; info: TensorInfo }> {
  const g = engine.graph(`test ${c.op}`);
  const xs = c.inputs.map((t, i) =>
    g.input(`x${i}`, t.shape, t.data instanceof Float32Array ? 'f32' : t.data instanceof Uint32Array ? 'u32' : 'i32'),
  );
  const attrs = (c.attrs ?? {}) as OpAttrs[OpName];
  const y = g.op(c.op as OpName, xs, attrs);
  const plan = await g.compile({ y }, { fuse: false, tuning: c.tuning });
  try {
    plan.poison();
    const feeds = Object.fromEntries(c.inputs.map((t, i) => [`x${i}`, t.data]));
    const { y: gpu } = await plan.run(feeds);
    const infos = c.inputs.map((t) => ({ shape: t.shape, dtype: 'f32' as const }));
    const ref = getOp(c.op).reference(
      c.inputs.map((t) => f64(t.data)),
      infos,
      attrs,
    );
    if (ref.length !== numel(y.shape)) throw new Error(`reference returned ${ref.length} values for shape [${y.shape}]`);
    return { gpu, ref, info: { shape: y.shape, dtype: y.dtype } };
  } finally {
    plan.dispose();
  }
}

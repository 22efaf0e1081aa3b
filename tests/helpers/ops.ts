// Runs one registered op through a compiled plan (output poisoned with NaN first) and returns the
// GPU result beside the float64 CPU reference.
import { getOp, numel, type AnyTypedArray, type Engine, type TensorInfo } from '../../src/index';
import { f64 } from './numeric';

export interface OpCase {
  op: string;
  inputs: { shape: number[]; data: AnyTypedArray }[];
  attrs?: Record<string, unknown>;
  /** A tuning table for the compile (Engine.create's `tuning`, per plan). */
  tuning?: Record<string, Record<string, number>>;
}

export async function runOp(engine: Engine, c: OpCase): Promise<{ gpu: AnyTypedArray; ref: Float64Array; info: TensorInfo }> {
  const g = engine.graph(`test ${c.op}`);
  const xs = c.inputs.map((t, i) =>
    g.input(`x${i}`, t.shape, t.data instanceof Float32Array ? 'f32' : t.data instanceof Uint32Array ? 'u32' : 'i32'),
  );
  const y = g.op(c.op, xs, c.attrs ?? {});
  const plan = await g.compile({ y }, { fuse: false, tuning: c.tuning });
  try {
    plan.poison();
    const feeds = Object.fromEntries(c.inputs.map((t, i) => [`x${i}`, t.data]));
    const { y: gpu } = await plan.run(feeds);
    const infos = c.inputs.map((t) => ({ shape: t.shape, dtype: 'f32' as const }));
    const ref = getOp(c.op).reference(
      c.inputs.map((t) => f64(t.data)),
      infos,
      c.attrs ?? {},
    );
    if (ref.length !== numel(y.shape)) throw new Error(`reference returned ${ref.length} values for shape [${y.shape}]`);
    return { gpu, ref, info: { shape: y.shape, dtype: y.dtype } };
  } finally {
    plan.dispose();
  }
}

// embedding: out[t, c] = wte[ids[t], c] + wpe[pos + t, c] (GPT-2's token + position embedding), with
// `pos` a number or a per-run scalar. Kernel: shaders/lib/embedding.wgsl with shaders/embedding.wgsl.
// The checks, kernel call and reference below also serve dequant_embedding (an int8 token table).
import { compose } from '../wgsl/compose';
import { ShapeError, formatShape } from '../errors';
import { grid1D } from './grid';
import { checkUniformValue, type KernelCall, type KernelContext, type OpDescriptor, type TensorInfo, type UniformValue } from './types';

export interface EmbeddingAttrs {
  /** Position of the first token: a number or a plan scalar. */
  pos?: UniformValue;
  /** wte holds token rows [firstId, firstId + rows) of a larger table (default 0: the whole table). */
  firstId?: number;
  /** Add the position embedding (default true; false for all but one block of a split table). */
  addPosition?: boolean;
}

const WG = 256;

/** Throws ShapeError unless ids are u32 [T] and positions pos .. pos + T - 1 are rows of wpe [P, C]. */
export function checkEmbedding(op: string, ids: TensorInfo, wpe: TensorInfo, C: number, attrs: EmbeddingAttrs): void {
  if (ids.dtype !== 'u32' || ids.shape.length !== 1)
    throw new ShapeError(`${op}: ids must be u32 [T], got ${ids.dtype} ${formatShape(ids.shape)}`);
  if (wpe.shape.length !== 2 || wpe.shape[1] !== C) throw new ShapeError(`${op}: wpe ${formatShape(wpe.shape)} must be [P, ${C}]`);
  checkUniformValue(op, 'pos', attrs.pos);
  const pos = typeof attrs.pos === 'number' ? attrs.pos : 0;
  if (attrs.addPosition !== false && pos + ids.shape[0] > wpe.shape[0]) {
    throw new ShapeError(`${op}: positions ${pos}..${pos + ids.shape[0] - 1} exceed the ${wpe.shape[0]} rows of wpe`);
  }
}

/** The kernel call for T tokens from a table block of V rows of width C, positions from wpe [P, C]. */
export function embeddingCall(
  T: number,
  V: number,
  C: number,
  P: number,
  attrs: EmbeddingAttrs,
  ctx: KernelContext,
  constants: Record<string, number> = {},
): KernelCall {
  return {
    entry: 'main',
    constants: { WG, ...constants },
    uniforms: { T, C, V, P, pos: attrs.pos ?? 0, id_lo: attrs.firstId ?? 0, add_pos: attrs.addPosition === false ? 0 : 1 },
    grid: grid1D(T * C, WG, ctx.limits),
    // Without positions (a model with rotary embeddings) wpe is never read and pos is free.
    ...(attrs.addPosition === false
      ? {}
      : { ranges: { pos: { min: 0, max: P - T, what: `first position (${T} tokens, ${P} rows of wpe)` } } }),
  };
}

/** Float64 reference: `table` holds the block's V rows of width C, row-major. */
export function embeddingReference(
  ids: Float64Array,
  table: Float64Array,
  V: number,
  C: number,
  wpe: Float64Array,
  attrs: EmbeddingAttrs,
): Float64Array {
  const pos = typeof attrs.pos === 'number' ? attrs.pos : 0;
  const lo = attrs.firstId ?? 0;
  const out = new Float64Array(ids.length * C);
  for (let t = 0; t < ids.length; t++) {
    for (let c = 0; c < C; c++) {
      const inBlock = ids[t] >= lo && ids[t] < lo + V;
      out[t * C + c] = (inBlock ? table[(ids[t] - lo) * C + c] : 0) + (attrs.addPosition === false ? 0 : wpe[(pos + t) * C + c]);
    }
  }
  return out;
}

export const embedding: OpDescriptor<EmbeddingAttrs> = {
  name: 'embedding',
  inputs: ['ids', 'wte', 'wpe'],
  shader: compose('embedding'),
  infer(inputs, attrs) {
    const [ids, wte, wpe] = inputs;
    if (!ids || !wte || !wpe || inputs.length !== 3) throw new ShapeError('embedding: needs ids, wte and wpe');
    if (wte.shape.length !== 2 || wpe.shape.length !== 2 || wte.shape[1] !== wpe.shape[1]) {
      throw new ShapeError(`embedding: wte ${formatShape(wte.shape)} and wpe ${formatShape(wpe.shape)} must be [V, C] and [P, C]`);
    }
    checkEmbedding('embedding', ids, wpe, wte.shape[1], attrs);
    return { shape: [ids.shape[0], wte.shape[1]], dtype: 'f32' };
  },
  kernel([ids, wte, wpe], _output, attrs, ctx) {
    return embeddingCall(ids.shape[0], wte.shape[0], wte.shape[1], wpe.shape[0], attrs, ctx);
  },
  reference([ids, wte, wpe], infos, attrs) {
    return embeddingReference(ids, wte, infos[1].shape[0], infos[1].shape[1], wpe, attrs);
  },
  bytes: (inputs, output) => (inputs[0].shape[0] + 3 * output.shape[0] * output.shape[1]) * 4,
};

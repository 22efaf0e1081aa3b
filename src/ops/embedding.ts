// embedding: out[t, c] = wte[ids[t], c] + wpe[pos + t, c] (GPT-2's token + position embedding), with
// `pos` a number or a per-run scalar. Kernel: shaders/embedding.wgsl.
import code from '../../shaders/embedding.wgsl?raw';
import { ShapeError, formatShape } from '../gpu/errors';
import { grid1D } from './grid';
import type { OpDescriptor, UniformValue } from './types';

export interface EmbeddingAttrs {
  /** Position of the first token: a number or a plan scalar. */
  pos?: UniformValue;
  /** wte holds token rows [firstId, firstId + rows) of a larger table (default 0: the whole table). */
  firstId?: number;
  /** Add the position embedding (default true; false for all but one block of a split table). */
  addPosition?: boolean;
}

const WG = 256;

export const embedding: OpDescriptor<EmbeddingAttrs> = {
  name: 'embedding',
  shader: { name: 'embedding', code },
  infer(inputs, attrs) {
    const [ids, wte, wpe] = inputs;
    if (!ids || !wte || !wpe || inputs.length !== 3) throw new ShapeError('embedding: needs ids, wte and wpe');
    if (ids.dtype !== 'u32' || ids.shape.length !== 1) throw new ShapeError(`embedding: ids must be u32 [T], got ${ids.dtype} ${formatShape(ids.shape)}`);
    if (wte.shape.length !== 2 || wpe.shape.length !== 2 || wte.shape[1] !== wpe.shape[1]) {
      throw new ShapeError(`embedding: wte ${formatShape(wte.shape)} and wpe ${formatShape(wpe.shape)} must be [V, C] and [P, C]`);
    }
    const pos = typeof attrs.pos === 'number' ? attrs.pos : 0;
    if (pos + ids.shape[0] > wpe.shape[0]) {
      throw new ShapeError(`embedding: positions ${pos}..${pos + ids.shape[0] - 1} exceed the ${wpe.shape[0]} rows of wpe`);
    }
    return { shape: [ids.shape[0], wte.shape[1]], dtype: 'f32' };
  },
  kernel(inputs, output, attrs, ctx) {
    const [ids, wte, wpe] = inputs;
    return {
      entry: 'main',
      constants: { WG },
      uniforms: { T: ids.shape[0], C: wte.shape[1], V: wte.shape[0], P: wpe.shape[0], pos: attrs.pos ?? 0, id_lo: attrs.firstId ?? 0, add_pos: attrs.addPosition === false ? 0 : 1 },
      grid: grid1D(output.shape[0] * output.shape[1], WG, ctx.limits),
    };
  },
  reference([ids, wte, wpe], infos, attrs) {
    const C = infos[1].shape[1];
    const pos = typeof attrs.pos === 'number' ? attrs.pos : 0;
    const lo = attrs.firstId ?? 0;
    const V = infos[1].shape[0];
    const out = new Float64Array(ids.length * C);
    for (let t = 0; t < ids.length; t++) {
      for (let c = 0; c < C; c++) {
        const inBlock = ids[t] >= lo && ids[t] < lo + V;
        out[t * C + c] = (inBlock ? wte[(ids[t] - lo) * C + c] : 0) + (attrs.addPosition === false ? 0 : wpe[(pos + t) * C + c]);
      }
    }
    return out;
  },
  bytes: (inputs, output) => (inputs[0].shape[0] + 3 * output.shape[0] * output.shape[1]) * 4,
};

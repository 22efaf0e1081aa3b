// dequant_embedding: GPT-2's token + position embedding with the token table in int8 (q8_0 or
// per-channel, rows are tokens), so one packed copy of wte serves the embedding and the int8 lm_head.
// Same attributes as `embedding`. Kernel: shaders/dequant_embedding.wgsl.
import code from '../../shaders/dequant_embedding.wgsl?raw';
import unpackShift from '../../shaders/lib/unpack_shift.wgsl?raw';
import { ShapeError, formatShape } from '../gpu/errors';
import { numel } from '../tensor';
import type { EmbeddingAttrs } from './embedding';
import { grid1D } from './grid';
import { dequantize, quantLayout, type QuantScheme } from './quantize';
import type { OpDescriptor } from './types';

export interface DequantEmbeddingAttrs extends EmbeddingAttrs {
  scheme: QuantScheme;
  /** Token rows in this table (block) and the embedding width. */
  V: number;
  C: number;
}

const WG = 256;

export const dequantEmbedding: OpDescriptor<DequantEmbeddingAttrs> = {
  name: 'dequant_embedding',
  shader: { name: 'dequant_embedding', code: unpackShift + code },
  infer(inputs, a) {
    const [ids, qw, scales, wpe] = inputs;
    if (!ids || !qw || !scales || !wpe || inputs.length !== 4) throw new ShapeError('dequant_embedding: needs ids, packed table, scales and wpe');
    if (ids.dtype !== 'u32' || ids.shape.length !== 1) throw new ShapeError(`dequant_embedding: ids must be u32 [T], got ${ids.dtype} ${formatShape(ids.shape)}`);
    const l = quantLayout(a.scheme, a.C, a.V);
    if (qw.dtype !== 'u32' || numel(qw.shape) !== l.N * l.rowWords) {
      throw new ShapeError(`dequant_embedding: packed table ${qw.dtype} ${formatShape(qw.shape)} must be u32 [${a.V}, ${l.rowWords}] for ${a.scheme} V ${a.V} C ${a.C}`);
    }
    if (scales.dtype !== 'f32' || numel(scales.shape) !== l.N * l.blocks) {
      throw new ShapeError(`dequant_embedding: scales ${formatShape(scales.shape)} must hold ${l.N * l.blocks} values for ${a.scheme} V ${a.V} C ${a.C}`);
    }
    if (wpe.shape.length !== 2 || wpe.shape[1] !== a.C) throw new ShapeError(`dequant_embedding: wpe ${formatShape(wpe.shape)} must be [P, ${a.C}]`);
    const pos = typeof a.pos === 'number' ? a.pos : 0;
    if (pos + ids.shape[0] > wpe.shape[0]) {
      throw new ShapeError(`dequant_embedding: positions ${pos}..${pos + ids.shape[0] - 1} exceed the ${wpe.shape[0]} rows of wpe`);
    }
    return { shape: [ids.shape[0], a.C], dtype: 'f32' };
  },
  kernel(inputs, output, a, ctx) {
    const l = quantLayout(a.scheme, a.C, a.V);
    return {
      entry: 'main',
      constants: { WG, SCHEME: a.scheme === 'q8_0' ? 0 : 1 },
      uniforms: {
        T: inputs[0].shape[0], C: a.C, V: a.V, P: inputs[3].shape[0], pos: a.pos ?? 0, id_lo: a.firstId ?? 0,
        add_pos: a.addPosition === false ? 0 : 1, row_words: l.rowWords, n_blocks: l.blocks,
      },
      grid: grid1D(output.shape[0] * output.shape[1], WG, ctx.limits),
    };
  },
  /** Float64 on the dequantised table. */
  reference([ids, qw, scales, wpe], _infos, a) {
    const l = quantLayout(a.scheme, a.C, a.V);
    const table = dequantize({ ...l, qweight: Uint32Array.from(qw), scales: Float32Array.from(scales) }); // [V, C]
    const pos = typeof a.pos === 'number' ? a.pos : 0;
    const lo = a.firstId ?? 0;
    const out = new Float64Array(ids.length * a.C);
    for (let t = 0; t < ids.length; t++) {
      const row = ids[t] - lo;
      for (let c = 0; c < a.C; c++) {
        const v = row >= 0 && row < a.V ? table[row * a.C + c] : 0;
        out[t * a.C + c] = v + (a.addPosition === false ? 0 : wpe[(pos + t) * a.C + c]);
      }
    }
    return out;
  },
  bytes: (inputs, output) => (inputs[0].shape[0] + 2 * output.shape[0] * output.shape[1]) * 4 + output.shape[0] * output.shape[1],
};

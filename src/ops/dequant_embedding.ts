// dequant_embedding: GPT-2's token + position embedding with the token table in int8 (q8_0 or
// per-channel, rows are tokens), so one packed copy of wte serves the embedding and the int8 lm_head.
// Same attributes, checks and kernel as `embedding`. Kernel: shaders/lib/embedding.wgsl with
// shaders/dequant_embedding.wgsl.
import { compose } from '../wgsl/compose';
import { ShapeError } from '../errors';
import { checkEmbedding, embeddingCall, embeddingReference, type EmbeddingAttrs } from './embedding';
import { weightVariant } from './matmul';
import { checkPackedInputs, dequantize, isBlockScheme, quantLayout, schemeId, type QuantScheme } from './quantize';
import { inputsByName, type OpDescriptor } from './types';

export interface DequantEmbeddingAttrs extends EmbeddingAttrs {
  scheme: QuantScheme;
  /** The table has scales (int8 schemes; f16 has none). */
  scales?: boolean;
  /** Token rows in this table (block) and the embedding width. */
  V: number;
  C: number;
}

export const dequantEmbedding: OpDescriptor<DequantEmbeddingAttrs> = {
  name: 'dequant_embedding',
  inputs: ['ids', 'qw', 'scales?', 'wpe'],
  // A llama.cpp block type is a library aliased for lib/q8_0, as in dequant_matmul.
  shader: (_ctx, variant) => compose('dequant_embedding', { aliases: variant?.aliases, name: `dequant_embedding${variant?.suffix ?? ''}` }),
  infer(inputs, a) {
    const { ids, qw, scales, wpe } = inputsByName(dequantEmbedding.inputs, a, inputs);
    if (!ids || !qw || !wpe || inputs.length !== (a.scales ? 4 : 3))
      throw new ShapeError(`dequant_embedding: needs ids, the packed table, ${a.scales ? 'its scales, ' : ''}and wpe`);
    const l = quantLayout(a.scheme, a.C, a.V);
    checkPackedInputs('dequant_embedding', qw, scales, l, `V ${a.V} C ${a.C}`);
    checkEmbedding('dequant_embedding', ids, wpe, a.C, a);
    return { shape: [ids.shape[0], a.C], dtype: 'f32' };
  },
  kernel(inputs, _output, a, ctx) {
    const { ids, wpe } = inputsByName(dequantEmbedding.inputs, a, inputs);
    const call = embeddingCall(ids!.shape[0], a.V, a.C, wpe!.shape[0], a, ctx, { SCHEME: schemeId(a.scheme) });
    return { ...call, variant: isBlockScheme(a.scheme) ? weightVariant(a.scheme) : undefined };
  },
  /** Float64 on the dequantised table. */
  reference(inputs, _infos, a) {
    const { ids, qw, scales, wpe } = inputsByName(dequantEmbedding.inputs, a, inputs);
    const l = quantLayout(a.scheme, a.C, a.V);
    const table = dequantize({ ...l, qweight: Uint32Array.from(qw!), scales: Float32Array.from(scales ?? []) }); // [V, C]
    return embeddingReference(ids!, table, a.V, a.C, wpe!, a);
  },
  bytes: (inputs, output) => (inputs[0].shape[0] + 2 * output.shape[0] * output.shape[1]) * 4 + output.shape[0] * output.shape[1],
};

// Every op the engine has, in one list. The graph scheduler looks ops up here by name; a new op
// plugs in with registerOp() without touching the scheduler.
import { ArgumentError, UnsupportedError } from '../errors';
import { concat } from './concat';
import { assign, slice } from './copy';
import { activation, add, gelu, mul } from './elementwise';
import { matmul } from './matmul';
import { matmulNaive } from './matmul_naive';
import { attention } from './attention';
import { attentionCombine, attentionDecode } from './attention_decode';
import { dequantEmbedding } from './dequant_embedding';
import { dequantMatmul } from './dequant_matmul';
import { embedding } from './embedding';
import { mergeHeads, splitHeads } from './heads';
import { layerNorm, rmsNorm } from './layernorm';
import { appendIds, repetitionPenalty } from './penalty';
import { lstmCell } from './lstm';
import { causalMask } from './mask';
import { quantizeBlocks, quantizePack, quantizeScales } from './quantize';
import { noop } from './noop';
import { normalize } from './normalize';
import { sample } from './sample';
import { softmax } from './softmax';
import { sparseAttention, sparseAttentionDecode } from './sparse_attention';
import { topk, topkMerge, topkPartial } from './topk';
import type { ShaderSource } from '../gpu/pipeline-cache';
import type { KernelCall, KernelContext, OpDescriptor } from './types';

const registry = new Map<string, OpDescriptor>();

export function registerOp(op: OpDescriptor): void {
  if (registry.has(op.name)) throw new ArgumentError(`registerOp: an op named '${op.name}' is already registered`);
  registry.set(op.name, op);
}

/** The descriptor of a registered op (typed by its attributes when the name is a known one). */
export function getOp<N extends OpName>(name: N): OpDescriptor<OpAttrs[N]>;
export function getOp(name: string): OpDescriptor;
export function getOp(name: string): OpDescriptor {
  const op = registry.get(name);
  if (!op) throw new ArgumentError(`unknown op '${name}'; registered ops: ${[...registry.keys()].join(', ')}`);
  return op;
}

/** The op's WGSL for this device and, where the kernel call names one, its variant. */
export function shaderFor(op: OpDescriptor, ctx: KernelContext, call?: KernelCall): ShaderSource {
  if (typeof op.shader === 'function') return op.shader(ctx, call?.variant);
  if (call?.variant) throw new UnsupportedError(`${op.name}: its kernel names a shader variant but its shader is fixed`);
  return op.shader;
}

export function listOps(): string[] {
  return [...registry.keys()];
}

/** The built-in ops by name: each key is its descriptor's name (checked as they are registered). */
const builtIn = {
  matmul,
  matmul_naive: matmulNaive,
  add,
  mul,
  gelu,
  activation,
  assign,
  slice,
  layernorm: layerNorm,
  rmsnorm: rmsNorm,
  softmax,
  embedding,
  split_heads: splitHeads,
  merge_heads: mergeHeads,
  attention,
  attention_decode: attentionDecode,
  attention_combine: attentionCombine,
  sample,
  repetition_penalty: repetitionPenalty,
  append_ids: appendIds,
  causal_mask: causalMask,
  quantize_scales: quantizeScales,
  quantize_pack: quantizePack,
  quantize_blocks: quantizeBlocks,
  dequant_matmul: dequantMatmul,
  dequant_embedding: dequantEmbedding,
  topk,
  normalize,
  lstm_cell: lstmCell,
  sparse_attention: sparseAttention,
  sparse_attention_decode: sparseAttentionDecode,
  noop,
  concat,
  topk_partial: topkPartial,
  topk_merge: topkMerge,
};
for (const [name, op] of Object.entries(builtIn)) {
  if (op.name !== name) throw new ArgumentError(`registry: the op under '${name}' is named '${op.name}'`);
  registerOp(op);
}

type AttrsOf<D> = D extends OpDescriptor<infer A> ? A : never;
type BuiltInAttrs = { [N in keyof typeof builtIn]: AttrsOf<(typeof builtIn)[N]> };

/**
 * Each op's attributes by op name, so tsc checks `g.op('layernorm', [x, gamma, beta], { eps: 1e-5 })`
 * against LayerNormAttrs. Read from the built-in descriptors' types, never written twice. An op added
 * with registerOp() declares its own by merging into this interface:
 * `declare module 'webgpu-nlp' { interface OpAttrs { my_op: MyAttrs } }`.
 */
export interface OpAttrs extends BuiltInAttrs {}

/** The name of a registered op. */
export type OpName = keyof OpAttrs & string;

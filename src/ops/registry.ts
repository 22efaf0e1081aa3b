// Every op the engine has, in one list. The graph scheduler looks ops up here by name; a new op
// plugs in with registerOp() without touching the scheduler.
import { ArgumentError } from '../errors';
import { concat } from './concat';
import { assign, slice } from './copy';
import { add, gelu, mul } from './elementwise';
import { matmul } from './matmul';
import { matmulNaive } from './matmul_naive';
import { attention } from './attention';
import { attentionCombine, attentionDecode, attentionDecodeHalf } from './attention_decode';
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
import { sparseAttention, sparseAttentionDecode, sparseAttentionDecodeHalf } from './sparse_attention';
import { topk, topkMerge, topkPartial } from './topk';
import type { ShaderSource } from '../gpu/pipeline-cache';
import type { KernelContext, OpDescriptor } from './types';

const registry = new Map<string, OpDescriptor>();

export function registerOp(op: OpDescriptor): void {
  if (registry.has(op.name)) throw new ArgumentError(`registerOp: an op named '${op.name}' is already registered`);
  registry.set(op.name, op);
}

export function getOp(name: string): OpDescriptor {
  const op = registry.get(name);
  if (!op) throw new ArgumentError(`unknown op '${name}'; registered ops: ${[...registry.keys()].join(', ')}`);
  return op;
}

/** The op's WGSL for this device. */
export function shaderFor(op: OpDescriptor, ctx: KernelContext): ShaderSource {
  return typeof op.shader === 'function' ? op.shader(ctx) : op.shader;
}

export function listOps(): string[] {
  return [...registry.keys()];
}

const builtIn = [
  matmul,
  matmulNaive,
  add,
  mul,
  gelu,
  assign,
  slice,
  layerNorm,
  rmsNorm,
  softmax,
  embedding,
  splitHeads,
  mergeHeads,
  attention,
  attentionDecode,
  attentionDecodeHalf,
  attentionCombine,
  sample,
  repetitionPenalty,
  appendIds,
  causalMask,
  quantizeScales,
  quantizePack,
  quantizeBlocks,
  dequantMatmul,
  dequantEmbedding,
  topk,
  normalize,
  lstmCell,
  sparseAttention,
  sparseAttentionDecode,
  sparseAttentionDecodeHalf,
  noop,
  concat,
  topkPartial,
  topkMerge,
];
for (const op of builtIn) registerOp(op);

// The Llama family (Llama 2 / 3.x, SmolLM2, TinyLlama: model_type 'llama'; Qwen2 / Qwen2.5: 'qwen2') on
// the shared decoder core, with Hugging Face's LlamaForCausalLM / Qwen2ForCausalLM as the semantics:
//   x = embed(ids)                                      (no position embedding: RoPE in attention)
//   per layer: h = rmsnorm(x); q, k, v = h·Wq (+bq), h·Wk (+bk), h·Wv (+bv)  (one fused projection)
//              q, k rotated by RoPE (rotate-half; llama3 / linear / yarn rope_scaling), GQA attention,
//              x += attn·Wo;  x += down(silu(gate(rmsnorm(x))) · up(rmsnorm(x)))   (SwiGLU in the epilogue)
//   logits = rmsnorm(x) · lm_headᵀ (tied to the embedding, or its own matrix)
// From a safetensors checkpoint (one file or the shards of model.safetensors.index.json) with its
// config.json, or from a GGUF file (config from its llama.* / qwen2.* metadata; llama files' q/k rows
// un-permuted from llama.cpp's interleaved RoPE order at load). Packed GGUF tensors are uploaded as
// they are (Q4_K_M and friends); f32/f16/bf16 weights are stored as `weights` says. The config
// (config.json of any transformers version, or GGUF metadata) is read and checked in llama-config.ts.
import { ArgumentError, ShapeError } from '../errors';
import type { GPUContext } from '../gpu/engine';
import type { Tensor } from '../gpu/tensor';
import type { Graph, SymbolicTensor } from '../graph/graph';
import { GGUFFile } from '../io/gguf';
import { SafetensorsFile } from '../io/safetensors';
import { ropeTables } from '../ops/heads';
import { dequantize, type QuantScheme } from '../ops/quantize';
import type { ScalarRef } from '../ops/types';
import { type AttentionSpec, type Attend, Decoder } from './decoder';
import {
  type LlamaConfig,
  type ResolvedLlamaConfig,
  ggufConfig,
  resolveLlamaConfig,
  ropeAttentionFactor,
  ropeInvFreq,
} from './llama-config';
import { WEIGHT_STORE, type WeightsChoice, fitScheme, storeFor } from './checkpoint';
import { Linear } from './linear';
import type { LoraPart, LoraSite } from './lora';
import { type Matrix, concatRows, f32Matrix, formatOf, interleaveRows, packedMatrix, unpermuteRoPE, unpermuteRoPEBias } from './matrix';
import { TokenTable } from './token-table';

export { ggufConfig, resolveLlamaConfig, ropeAttentionFactor, ropeInvFreq } from './llama-config';
export type { LlamaConfig, ResolvedLlamaConfig, RopeScaling } from './llama-config';

export interface LlamaOptions {
  /** KV-cache rows per layer (default min(max_position_embeddings, 4096)). */
  maxLength?: number;
  /**
   * How f32 / f16 / bf16 matrices are stored on the GPU ('auto', the default: as the file stores them,
   * f32 for F32 files). Packed GGUF tensors (Q4_K, Q6_K, Q8_0, …) are always kept as they are.
   */
  weights?: WeightsChoice;
  attention?: AttentionSpec;
  /** KV caches in 'f32' (default) or 'f16' (packed halves: half the memory and decode-attention bytes). */
  kvCache?: 'f32' | 'f16';
}

interface Layer {
  ln1: Tensor;
  /**
   * One fused projection [(H + 2 KVH) D, C] (biases fused) where q, k and v share a format, else three
   * (a Q4_K_M file's q and k in Q4_K, v in Q6_K: each kept in its own format).
   */
  qkv: Linear[];
  o: Linear;
  ln2: Tensor;
  gateUp: Linear; // [2I, C], gate and up rows interleaved
  down: Linear;
}

interface Weights {
  embed: TokenTable;
  /** Null when tied to the embedding. */
  head: TokenTable | null;
  layers: Layer[];
  norm: Tensor;
  cos: Tensor;
  sin: Tensor;
}

/** Where a loader finds each tensor: by Hugging Face name, as a matrix or a float vector. */
interface Source {
  /** The matrix [N, K] (nn.Linear layout), its shape checked against the config. */
  matrix(name: string, N: number, K: number): Matrix;
  vector(name: string, n: number): Float32Array;
  has(name: string): boolean;
  /** The storage type of a tensor ('F32', 'F16', 'BF16', 'Q4_K', …) for 'auto' weights. */
  dtype(name: string): string;
}

const shapeError = (name: string, got: readonly number[], want: readonly number[]) =>
  new ShapeError(`Llama: tensor '${name}' is [${got.join(', ')}], the config needs [${want.join(', ')}]`);

export class Llama extends Decoder {
  private constructor(
    engine: GPUContext,
    readonly config: ResolvedLlamaConfig,
    private readonly w: Weights,
    maxLength: number,
    attention: AttentionSpec | undefined,
    kvCache: 'f32' | 'f16' | undefined,
  ) {
    const c = config;
    super(
      engine,
      {
        name: 'Llama',
        layers: c.num_hidden_layers,
        heads: c.num_attention_heads,
        kvHeads: c.num_key_value_heads,
        headDim: c.head_dim,
        vocab: c.vocab_size,
        maxLength,
        kvCache,
      },
      attention,
    );
    this.defaultStopTokens = c.eos.filter((id) => id >= 0 && id < c.vocab_size);
  }

  /**
   * Loads a Hugging Face checkpoint: `bytes` is model.safetensors, or every shard a
   * model.safetensors.index.json lists (any order), and `config` the parsed config.json.
   */
  static async fromSafetensors(
    engine: GPUContext,
    bytes: Uint8Array | ArrayBuffer | (Uint8Array | ArrayBuffer)[],
    config: LlamaConfig,
    options: LlamaOptions = {},
  ): Promise<Llama> {
    const c = resolveLlamaConfig(config);
    const files = (Array.isArray(bytes) ? bytes : [bytes]).map((b) => SafetensorsFile.parse(b));
    const where = new Map<string, SafetensorsFile>();
    for (const f of files) {
      for (const name of f.entries.keys()) {
        if (where.has(name)) throw new ShapeError(`Llama: tensor '${name}' appears in two shards`);
        where.set(name, f);
      }
    }
    const file = (name: string) => {
      const f = where.get(name);
      if (!f) throw new ShapeError(`Llama: the checkpoint has no tensor '${name}'`);
      return f;
    };
    const source: Source = {
      matrix: (name, N, K) => f32Matrix(file(name).float32(name, [N, K]), N, K),
      vector: (name, n) => file(name).float32(name, [n]),
      has: (name) => where.has(name),
      dtype: (name) => file(name).get(name).dtype,
    };
    return Llama.build(engine, c, source, options, null);
  }

  /** Loads a GGUF file (llama or qwen2 architecture), its config from the metadata. */
  static async fromGGUF(engine: GPUContext, bytes: Uint8Array | ArrayBuffer, options: LlamaOptions = {}): Promise<Llama> {
    const f = GGUFFile.parse(bytes);
    const c = resolveLlamaConfig(ggufConfig(f));
    const permuted = c.model_type === 'llama'; // llama.cpp interleaves llama's q/k rows for its RoPE
    const H = c.num_attention_heads;
    const KVH = c.num_key_value_heads;
    const gg = (name: string): string => {
      const fixed: Record<string, string> = {
        'model.embed_tokens.weight': 'token_embd.weight',
        'model.norm.weight': 'output_norm.weight',
        'lm_head.weight': 'output.weight',
      };
      if (fixed[name]) return fixed[name];
      const m = /^model\.layers\.(\d+)\.(.+)$/.exec(name);
      const parts: Record<string, string> = {
        'input_layernorm.weight': 'attn_norm.weight',
        'post_attention_layernorm.weight': 'ffn_norm.weight',
        'self_attn.q_proj.weight': 'attn_q.weight',
        'self_attn.k_proj.weight': 'attn_k.weight',
        'self_attn.v_proj.weight': 'attn_v.weight',
        'self_attn.o_proj.weight': 'attn_output.weight',
        'self_attn.q_proj.bias': 'attn_q.bias',
        'self_attn.k_proj.bias': 'attn_k.bias',
        'self_attn.v_proj.bias': 'attn_v.bias',
        'self_attn.o_proj.bias': 'attn_output.bias',
        'mlp.gate_proj.weight': 'ffn_gate.weight',
        'mlp.up_proj.weight': 'ffn_up.weight',
        'mlp.down_proj.weight': 'ffn_down.weight',
      };
      if (m && parts[m[2]]) return `blk.${m[1]}.${parts[m[2]]}`;
      return name;
    };
    const heads = (name: string) => (/q_proj/.test(name) ? H : /k_proj/.test(name) ? KVH : 0);
    const check = (name: string, want: number[]) => {
      const t = f.get(gg(name));
      const dims = [...t.dims].reverse(); // ne[0] is the fastest: [K, N] → [N, K]
      while (dims.length > want.length && dims[0] === 1) dims.shift();
      if (dims.length !== want.length || dims.some((d, i) => d !== want[i])) throw shapeError(gg(name), dims, want);
    };
    const source: Source = {
      matrix(name, N, K) {
        check(name, [N, K]);
        const t = f.get(gg(name));
        const m = t.type === 0 ? f32Matrix(f.float32(gg(name)), N, K) : packedMatrix(f.quantized(gg(name)));
        return permuted && heads(name) ? unpermuteRoPE(m, heads(name), gg(name)) : m;
      },
      vector(name, n) {
        check(name, [n]);
        const v = f.float32(gg(name));
        return permuted && heads(name) ? unpermuteRoPEBias(v, heads(name)) : v;
      },
      has: (name) => f.tensors.has(gg(name)),
      dtype: (name) => ggmlTypeName(f.get(gg(name)).type),
    };
    const divisors = f.tensors.has('rope_freqs.weight') ? f.float32('rope_freqs.weight') : null;
    return Llama.build(engine, c, source, options, divisors);
  }

  /**
   * A model of deterministic pseudo-random weights (uniform in ±scale; norms 1) at `config`'s shapes,
   * built without a checkpoint: for benchmarks at real sizes (SmolLM2-135M, Llama-3.2-1B) offline.
   */
  static async random(
    engine: GPUContext,
    config: LlamaConfig,
    options: LlamaOptions & { seed?: number; scale?: number } = {},
  ): Promise<Llama> {
    const c = resolveLlamaConfig(config);
    let s = (options.seed ?? 7) >>> 0;
    const scale = options.scale ?? 0.05;
    const noise = (n: number) => {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
        out[i] = (s / 2 ** 31 - 1) * scale;
      }
      return out;
    };
    const source: Source = {
      matrix: (_name, N, K) => f32Matrix(noise(N * K), N, K),
      vector: (name, n) => (name.endsWith('norm.weight') ? new Float32Array(n).fill(1) : noise(n)),
      has: (name) => name !== 'lm_head.weight' || !c.tie_word_embeddings,
      dtype: () => 'F32',
    };
    return Llama.build(engine, c, source, options, null);
  }

  private static async build(
    engine: GPUContext,
    c: ResolvedLlamaConfig,
    src: Source,
    options: LlamaOptions,
    ropeDivisors: Float32Array | null,
  ): Promise<Llama> {
    const maxLength = checkBuildOptions(c, options, ropeDivisors);
    const up = new Uploads(engine, src, storeFor(options.weights ?? 'auto', src.dtype('model.layers.0.self_attn.q_proj.weight')));
    try {
      const { embed, head } = await uploadTables(up, c);
      const layers: Layer[] = [];
      for (let i = 0; i < c.num_hidden_layers; i++) layers.push(await uploadLayer(up, c, i));
      const norm = up.vector('model.norm.weight', c.hidden_size);
      const { cos, sin } = uploadRope(up, c, ropeDivisors, maxLength);
      return new Llama(engine, c, { embed, head, layers, norm, cos, sin }, maxLength, options.attention, options.kvCache);
    } catch (e) {
      up.disposeAll();
      throw e;
    }
  }

  protected embed(g: Graph, ids: SymbolicTensor, pos: number | ScalarRef): SymbolicTensor {
    return this.w.embed.embed(g, ids, null, pos); // [T, C]; positions enter through RoPE
  }

  protected block(g: Graph, i: number, x: SymbolicTensor, attend: Attend, pos: number | ScalarRef): SymbolicTensor {
    const { num_attention_heads: H, num_key_value_heads: KVH, head_dim: D, rms_norm_eps: eps } = this.config;
    const L = this.w.layers[i];
    const lora = (site: string, input: SymbolicTensor) => ({ delta: this.loraDelta(g, `${i}.${site}`, input) }); // a bound adapter's update
    const h = g.rmsNorm(x, g.weight(L.ln1), { eps });
    const rope = { cos: g.weight(this.w.cos), sin: g.weight(this.w.sin), pos };
    let q: SymbolicTensor;
    let k: SymbolicTensor;
    let v: SymbolicTensor;
    if (L.qkv.length === 1) {
      const qkv = L.qkv[0].apply(g, h, lora('qkv', h)); // [T, (H + 2 KVH) D]
      q = g.heads(qkv, { heads: H, headDim: D, rope });
      k = g.heads(qkv, { heads: KVH, headDim: D, offset: H * D, rope });
      v = g.heads(qkv, { heads: KVH, headDim: D, offset: (H + KVH) * D });
    } else {
      q = g.heads(L.qkv[0].apply(g, h, lora('q', h)), { heads: H, headDim: D, rope });
      k = g.heads(L.qkv[1].apply(g, h, lora('k', h)), { heads: KVH, headDim: D, rope });
      v = g.heads(L.qkv[2].apply(g, h, lora('v', h)), { heads: KVH, headDim: D });
    }
    const attn = g.mergeHeads(attend(q, k, v));
    x = g.add(L.o.apply(g, attn, lora('o', attn)), x); // residual folds into the projection
    const m = g.rmsNorm(x, g.weight(L.ln2), { eps });
    const act = L.gateUp.apply(g, m, { act: 'swiglu', ...lora('gate_up', m) });
    return g.add(L.down.apply(g, act, lora('down', act)), x); // [T, C]
  }

  /**
   * LoRA sites per layer: q/k/v (one site when fused, PEFT's q_proj, k_proj, v_proj at their rows), o,
   * gate/up (interleaved rows, as the SwiGLU epilogue pairs them) and down. llama.cpp's GGUF adapters
   * for 'llama' store q/k's B rows in its RoPE order (ropeHeads), as its base files do.
   */
  protected override loraSites(): { sites: LoraSite[]; ggufArch: string[] } {
    const c = this.config;
    const { hidden_size: C, intermediate_size: I, head_dim: D, num_attention_heads: H, num_key_value_heads: KVH } = c;
    const rope = c.model_type === 'llama';
    const sites: LoraSite[] = [];
    this.w.layers.forEach((L, i) => {
      const part = (name: string, gguf: string, rows: number, offset = 0, stride = 1, ropeHeads?: number): LoraPart => ({
        module: `model.layers.${i}.${name}`,
        gguf: `blk.${i}.${gguf}.weight`,
        rows,
        offset,
        stride,
        ...(ropeHeads && rope ? { ropeHeads } : {}),
      });
      const q = part('self_attn.q_proj', 'attn_q', H * D, 0, 1, H);
      const k = part('self_attn.k_proj', 'attn_k', KVH * D, 0, 1, KVH);
      const v = part('self_attn.v_proj', 'attn_v', KVH * D);
      if (L.qkv.length === 1)
        sites.push({
          key: `${i}.qkv`,
          K: C,
          N: (H + 2 * KVH) * D,
          parts: [q, { ...k, offset: H * D }, { ...v, offset: (H + KVH) * D }],
          linear: L.qkv[0],
        });
      else for (const [j, p] of [q, k, v].entries()) sites.push({ key: `${i}.${'qkv'[j]}`, K: C, N: p.rows, parts: [p], linear: L.qkv[j] });
      sites.push({ key: `${i}.o`, K: H * D, N: C, parts: [part('self_attn.o_proj', 'attn_output', C)], linear: L.o });
      const gate = part('mlp.gate_proj', 'ffn_gate', I, 0, 2);
      const up = part('mlp.up_proj', 'ffn_up', I, 1, 2);
      sites.push({ key: `${i}.gate_up`, K: C, N: 2 * I, parts: [gate, up], linear: L.gateUp });
      sites.push({ key: `${i}.down`, K: I, N: C, parts: [part('mlp.down_proj', 'ffn_down', C)], linear: L.down });
    });
    return { sites, ggufArch: [c.model_type] };
  }

  protected head(g: Graph, x: SymbolicTensor): SymbolicTensor {
    const h = g.rmsNorm(x, g.weight(this.w.norm), { eps: this.config.rms_norm_eps });
    return (this.w.head ?? this.w.embed).logits(g, h); // [T, V]
  }

  /** GPU bytes held by the weights and the KV caches. */
  memoryBytes(): { weights: number; kvCache: number } {
    const { embed, head, layers, norm, cos, sin } = this.w;
    let weights = embed.byteLength + (head?.byteLength ?? 0) + norm.byteLength + cos.byteLength + sin.byteLength;
    for (const l of layers)
      weights +=
        l.ln1.byteLength +
        l.ln2.byteLength +
        l.qkv.reduce((s, x) => s + x.byteLength, 0) +
        l.o.byteLength +
        l.gateUp.byteLength +
        l.down.byteLength;
    return { weights, kvCache: this.kvCacheBytes() };
  }

  protected disposeWeights(): void {
    const { embed, head, layers, norm, cos, sin } = this.w;
    for (const t of [embed, head, norm, cos, sin]) t?.dispose();
    for (const l of layers) for (const t of [l.ln1, l.ln2, ...l.qkv, l.o, l.gateUp, l.down]) t.dispose();
  }
}

/** ggml type names for dtype(). */
function ggmlTypeName(type: number): string {
  return ({ 0: 'F32', 1: 'F16', 30: 'BF16' } as Record<number, string>)[type] ?? `ggml type ${type}`;
}

/** Checks build()'s options against the config; returns the KV-cache length. */
function checkBuildOptions(c: ResolvedLlamaConfig, options: LlamaOptions, ropeDivisors: Float32Array | null): number {
  if (options.maxLength !== undefined && !(Number.isInteger(options.maxLength) && options.maxLength >= 1))
    throw new ArgumentError(`Llama: maxLength must be a positive integer, got ${options.maxLength}`);
  const weights = options.weights ?? 'auto';
  if (weights !== 'auto' && !Object.hasOwn(WEIGHT_STORE, weights)) {
    const all = ['auto', ...Object.keys(WEIGHT_STORE)].map((w) => `'${w}'`);
    throw new ArgumentError(`Llama: weights must be ${all.slice(0, -1).join(', ')} or ${all.at(-1)}, got ${JSON.stringify(weights)}`);
  }
  if (ropeDivisors && ropeDivisors.length !== c.head_dim / 2)
    throw new ShapeError(`Llama: rope_freqs has ${ropeDivisors.length} values, head_dim ${c.head_dim} needs ${c.head_dim / 2}`);
  return Math.min(options.maxLength ?? Math.min(c.max_position_embeddings, 4096), c.max_position_embeddings);
}

/** Uploads a model's tensors from its source, keeping each so that a failed load disposes what it made. */
class Uploads {
  private readonly owned: { dispose(): void }[] = [];

  constructor(
    readonly engine: GPUContext,
    readonly src: Source,
    /** How f32-decoded matrices are stored (storeFor). */
    readonly store: QuantScheme | undefined,
  ) {}

  keep<T extends { dispose(): void }>(x: T): T {
    this.owned.push(x);
    return x;
  }

  vector(name: string, n: number): Tensor {
    return this.keep(this.engine.tensor(this.src.vector(name, n), [n], name));
  }

  /** A Linear layer of `m`; an f32-decoded matrix stored as `store` says, fitted to its row length. */
  async linear(label: string, m: Matrix, bias?: Float32Array, store = this.store): Promise<Linear> {
    const quantize = m.kind === 'f32' ? fitScheme(store, m.K) : undefined;
    return this.keep(await Linear.fromMatrix(this.engine, m, { bias, quantize, label }));
  }

  disposeAll(): void {
    for (const x of this.owned) x.dispose();
  }
}

/** The token table and lm_head (null when tied to it): the most sensitive to 4 bits, so q6_k with q4_k, as Q4_K_M files do. */
async function uploadTables(up: Uploads, c: ResolvedLlamaConfig): Promise<{ embed: TokenTable; head: TokenTable | null }> {
  const { vocab_size: V, hidden_size: C } = c;
  const quantize = fitScheme(up.store === 'q4_k' || up.store === 'q4_0' ? 'q6_k' : up.store, C);
  const table = async (name: string, label: string) =>
    up.keep(await TokenTable.fromMatrix(up.engine, up.src.matrix(name, V, C), { quantize, label }));
  const embed = await table('model.embed_tokens.weight', 'embed_tokens');
  const tied = c.tie_word_embeddings || !up.src.has('lm_head.weight');
  return { embed, head: tied ? null : await table('lm_head.weight', 'lm_head') };
}

/** Layer i's weights. */
async function uploadLayer(up: Uploads, c: ResolvedLlamaConfig, i: number): Promise<Layer> {
  const { hidden_size: C, intermediate_size: I, head_dim: D } = c;
  const p = `model.layers.${i}.`;
  const a = `${p}self_attn.`;
  const qkv = await uploadQKV(up, c, a);
  const gateUp = gateUpMatrix(up, c, p);
  const ln1 = up.vector(`${p}input_layernorm.weight`, C);
  const oWeight = up.src.matrix(`${a}o_proj.weight`, C, c.num_attention_heads * D);
  const o = await up.linear(`${a}o_proj`, oWeight, c.attention_bias ? up.src.vector(`${a}o_proj.bias`, C) : undefined);
  const ln2 = up.vector(`${p}post_attention_layernorm.weight`, C);
  return {
    ln1,
    qkv,
    o,
    ln2,
    gateUp: await up.linear(`${p}mlp.gate_up`, gateUp.matrix, undefined, gateUp.store),
    down: await up.linear(`${p}mlp.down_proj`, up.src.matrix(`${p}mlp.down_proj.weight`, C, I)),
  };
}

/**
 * q, k and v (biases too for Qwen2 or attention_bias) as one fused projection [(H + 2 KVH) D, C] where
 * they share a format, else three, each in its own (a Q4_K_M file's q and k in Q4_K, v in Q6_K).
 */
async function uploadQKV(up: Uploads, c: ResolvedLlamaConfig, a: string): Promise<Linear[]> {
  const { hidden_size: C, head_dim: D, num_attention_heads: H, num_key_value_heads: KVH } = c;
  const names = ['q', 'k', 'v'];
  const mats = [
    up.src.matrix(`${a}q_proj.weight`, H * D, C),
    up.src.matrix(`${a}k_proj.weight`, KVH * D, C),
    up.src.matrix(`${a}v_proj.weight`, KVH * D, C),
  ];
  const biases = c.model_type === 'qwen2' || c.attention_bias ? names.map((n, j) => up.src.vector(`${a}${n}_proj.bias`, mats[j].N)) : null;
  if (mats.every((m) => formatOf(m) === formatOf(mats[0])))
    return [await up.linear(`${a}qkv`, concatRows(mats, `${a}qkv`), biases ? concatVectors(biases) : undefined)];
  return Promise.all(mats.map((m, j) => up.linear(`${a}${names[j]}_proj`, m, biases?.[j])));
}

/**
 * gate and up [I, C] with their rows interleaved [2I, C], one matmul for the SwiGLU epilogue that
 * pairs them. In the rare file that stores them differently, both are widened to f32 and stored as
 * q8_0 (or as `weights` says).
 */
function gateUpMatrix(up: Uploads, c: ResolvedLlamaConfig, p: string): { matrix: Matrix; store: QuantScheme | undefined } {
  const { hidden_size: C, intermediate_size: I } = c;
  let gate = up.src.matrix(`${p}mlp.gate_proj.weight`, I, C);
  let upRows = up.src.matrix(`${p}mlp.up_proj.weight`, I, C);
  let store = up.store;
  if (formatOf(gate) !== formatOf(upRows)) {
    [gate, upRows] = [widen(gate), widen(upRows)];
    store ??= 'q8_0';
  }
  return { matrix: interleaveRows(gate, upRows, `${p}mlp.gate_up`), store };
}

/** RoPE's cos and sin tables [maxLength, D / 2]. */
function uploadRope(up: Uploads, c: ResolvedLlamaConfig, divisors: Float32Array | null, maxLength: number): { cos: Tensor; sin: Tensor } {
  const tables = ropeTables(ropeInvFreq(c, divisors ?? undefined), maxLength);
  const scale = ropeAttentionFactor(c); // yarn's attention factor: cos and sin scaled, as transformers does
  if (scale !== 1) for (const t of [tables.cos, tables.sin]) for (let i = 0; i < t.length; i++) t[i] *= scale;
  const half = [maxLength, c.head_dim / 2];
  return { cos: up.keep(up.engine.tensor(tables.cos, half, 'rope cos')), sin: up.keep(up.engine.tensor(tables.sin, half, 'rope sin')) };
}

/** A packed matrix dequantised to f32 rows on the CPU (its f32 size in CPU memory while loading). */
function widen(m: Matrix): Matrix {
  return m.kind === 'f32' ? m : f32Matrix(Float32Array.from(dequantize(m.q)), m.N, m.K);
}

function concatVectors(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

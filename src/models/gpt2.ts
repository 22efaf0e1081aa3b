// GPT-2 exactly as published (Hugging Face GPT2LMHeadModel): learned token and position embeddings,
// pre-norm blocks of causal self-attention and a GELU MLP, final layer norm, lm_head tied to wte.
// Weights load from safetensors in both checkpoint layouts (original names with h.N.attn.bias mask
// buffers, or the 'transformer.' prefix), F32, F16 or BF16; Conv1D weights are [in, out].
// The generate loop, KV caches and plans are the decoder core's (decoder.ts); this file is the model.
import { ArgumentError, ShapeError } from '../errors';
import type { GPUContext } from '../gpu/engine';
import type { Tensor } from '../gpu/tensor';
import type { Graph, SymbolicTensor } from '../graph/graph';
import { SafetensorsFile } from '../io/safetensors';
import type { QuantScheme } from '../ops/quantize';
import type { ScalarRef } from '../ops/types';
import { Decoder, type Attend, type AttentionSpec } from './decoder';
import { Linear } from './linear';
import type { LoraSite } from './lora';
import { TokenTable } from './token-table';

export type { AttentionSpec, GenerateOptions, GenerationStats } from './decoder';

/** Field names as in Hugging Face's config.json. */
export interface GPT2Config {
  n_layer: number;
  n_head: number;
  n_embd: number;
  vocab_size: number;
  n_positions: number;
  layer_norm_epsilon?: number;
}

/** openai-community/gpt2 (124M). */
export const GPT2_SMALL: GPT2Config = {
  n_layer: 12,
  n_head: 12,
  n_embd: 768,
  vocab_size: 50257,
  n_positions: 1024,
  layer_norm_epsilon: 1e-5,
};

export interface GPT2Options {
  /** KV-cache rows per layer (default n_positions). */
  maxLength?: number;
  /**
   * How the linear layers' weights are stored on the GPU: 'f32' (the default), 'f16' (halves, two per
   * u32, half the bytes, on any adapter: no shader-f16 needed), 'bf16' (the same size; exact for BF16
   * checkpoints, whose range f16 lacks), 'int8' (`scheme`, q8_0 by default), or 4-bit as llama.cpp's
   * 'q4_0' (blocks of 32, one f16 scale) or 'q4_k' (super-blocks of 256 with 6-bit scales and mins).
   */
  weights?: GPT2Weights;
  /**
   * With weights other than 'f32', store the token table packed too (GPT-2's largest matrix, 38.6M of
   * 124M parameters): one copy serves the embedding lookup and the tied lm_head. With 'q4_k' the table
   * is q6_k, as in llama.cpp's Q4_K_M files (the output matrix is the most sensitive to 4 bits).
   * Default false.
   */
  quantizeEmbedding?: boolean;
  /** Int8 scheme (default 'q8_0'). */
  scheme?: QuantScheme;
  /** Attention pattern (default dense); forward() and generate() can override it per call. */
  attention?: AttentionSpec;
  /** KV caches in 'f32' (default) or 'f16' (packed halves: half the memory and decode-attention bytes). */
  kvCache?: 'f32' | 'f16';
}

export type GPT2Weights = 'f32' | 'f16' | 'bf16' | 'int8' | 'q4_0' | 'q4_k';
const WEIGHTS: readonly GPT2Weights[] = ['f32', 'f16', 'bf16', 'int8', 'q4_0', 'q4_k'];

type Norm = [gamma: Tensor, beta: Tensor];

interface Block {
  ln1: Norm;
  qkv: Linear; // attn.c_attn: C → 3C
  proj: Linear; // attn.c_proj: C → C
  ln2: Norm;
  fc: Linear; // mlp.c_fc: C → 4C
  out: Linear; // mlp.c_proj: 4C → C
}

interface Weights {
  wte: TokenTable;
  wpe: Tensor;
  blocks: Block[];
  lnF: Norm;
}

export class GPT2 extends Decoder {
  private constructor(
    engine: GPUContext,
    readonly config: Required<GPT2Config>,
    private readonly w: Weights,
    options: GPT2Options,
  ) {
    const { n_layer, n_head: H, n_embd: C, vocab_size, n_positions } = config;
    const maxLength = Math.min(options.maxLength ?? n_positions, n_positions);
    super(
      engine,
      { name: 'GPT2', layers: n_layer, heads: H, kvHeads: H, headDim: C / H, vocab: vocab_size, maxLength, kvCache: options.kvCache },
      options.attention,
    );
  }

  /** Loads a GPT-2 checkpoint; every tensor's shape is checked against the config. */
  static async fromSafetensors(
    engine: GPUContext,
    bytes: Uint8Array | ArrayBuffer,
    config: GPT2Config,
    options: GPT2Options = {},
  ): Promise<GPT2> {
    const cfg: Required<GPT2Config> = { layer_norm_epsilon: 1e-5, ...config };
    const { n_embd: C, n_head: H } = cfg;
    for (const k of ['n_layer', 'n_head', 'n_embd', 'vocab_size', 'n_positions'] as const) {
      if (!Number.isInteger(cfg[k]) || cfg[k] < 1) throw new ShapeError(`GPT2 config: ${k} must be a positive integer, got ${cfg[k]}`);
    }
    if (C % H !== 0) throw new ShapeError(`GPT2 config: n_embd ${C} is not divisible by n_head ${H}`);
    if (options.weights !== undefined && !WEIGHTS.includes(options.weights)) {
      throw new ArgumentError(
        `GPT2: weights must be one of ${WEIGHTS.map((w) => `'${w}'`).join(', ')}, got ${JSON.stringify(options.weights)}`,
      );
    }
    if (options.maxLength !== undefined && !(Number.isInteger(options.maxLength) && options.maxLength >= 1)) {
      throw new ArgumentError(`GPT2: maxLength must be a positive integer, got ${options.maxLength}`);
    }
    const file = SafetensorsFile.parse(bytes);
    const prefix = file.has('wte.weight') ? '' : file.has('transformer.wte.weight') ? 'transformer.' : null;
    if (prefix === null) file.get('wte.weight'); // throws "missing tensor 'wte.weight'"
    const read = (name: string, shape: number[]) => file.float32(prefix + name, shape);
    const quant = options.weights === 'int8' ? (options.scheme ?? 'q8_0') : options.weights === 'f32' ? undefined : options.weights;
    const owned: { dispose(): void }[] = []; // everything uploaded so far, freed if a later tensor fails
    const keep = <T extends { dispose(): void }>(x: T): T => {
      owned.push(x);
      return x;
    };
    const tensor = (name: string, shape: number[]) => keep(engine.tensor(read(name, shape), shape, name));
    const linear = async (name: string, K: number, N: number) =>
      keep(
        await Linear.load(engine, read(`${name}.weight`, [K, N]), K, N, {
          layout: 'KN',
          bias: read(`${name}.bias`, [N]),
          quantize: quant,
          label: name,
        }),
      );
    try {
      const V = cfg.vocab_size;
      const wte = keep(
        await TokenTable.load(engine, read('wte.weight', [V, C]), V, C, {
          quantize: options.quantizeEmbedding ? (quant === 'q4_k' ? 'q6_k' : quant) : undefined,
          label: 'wte.weight',
        }),
      );
      const wpe = tensor('wpe.weight', [cfg.n_positions, C]);
      const lnF: Norm = [tensor('ln_f.weight', [C]), tensor('ln_f.bias', [C])];
      const blocks: Block[] = [];
      for (let i = 0; i < cfg.n_layer; i++) {
        const p = `h.${i}.`;
        blocks.push({
          ln1: [tensor(`${p}ln_1.weight`, [C]), tensor(`${p}ln_1.bias`, [C])],
          qkv: await linear(`${p}attn.c_attn`, C, 3 * C),
          proj: await linear(`${p}attn.c_proj`, C, C),
          ln2: [tensor(`${p}ln_2.weight`, [C]), tensor(`${p}ln_2.bias`, [C])],
          fc: await linear(`${p}mlp.c_fc`, C, 4 * C),
          out: await linear(`${p}mlp.c_proj`, 4 * C, C),
        });
      }
      return new GPT2(engine, cfg, { wte, wpe, blocks, lnF }, options);
    } catch (e) {
      for (const x of owned) x.dispose();
      throw e;
    }
  }

  protected embed(g: Graph, ids: SymbolicTensor, pos: number | ScalarRef): SymbolicTensor {
    return this.w.wte.embed(g, ids, g.weight(this.w.wpe), pos); // [T, C]
  }

  protected block(g: Graph, i: number, x: SymbolicTensor, attend: Attend): SymbolicTensor {
    const { n_head: H, layer_norm_epsilon: eps } = this.config;
    const L = this.w.blocks[i];
    const lora = (site: string, input: SymbolicTensor) => ({ delta: this.loraDelta(g, `${i}.${site}`, input) }); // a bound adapter's update
    const a = g.layerNorm(x, g.weight(L.ln1[0]), g.weight(L.ln1[1]), { eps });
    const qkv = L.qkv.apply(g, a, lora('c_attn', a)); // [T, 3C]
    const [q, k, v] = [0, 1, 2].map((part) => g.splitHeads(qkv, H, part, 3)); // [H, T, D] each
    const attn = g.mergeHeads(attend(q, k, v));
    x = g.add(L.proj.apply(g, attn, lora('attn.c_proj', attn)), x); // residual folds into the projection
    const m = g.layerNorm(x, g.weight(L.ln2[0]), g.weight(L.ln2[1]), { eps });
    const h = g.gelu(L.fc.apply(g, m, lora('c_fc', m)));
    return g.add(L.out.apply(g, h, lora('mlp.c_proj', h)), x); // [T, C]
  }

  /**
   * LoRA sites: c_attn, attn.c_proj, c_fc and mlp.c_proj of each block, Conv1D layers (PEFT's
   * fan_in_fan_out: their weights are [in, out], the adapter's A [r, in] and B [out, r] as for nn.Linear).
   */
  protected override loraSites(): { sites: LoraSite[]; ggufArch: string[] } {
    const C = this.config.n_embd;
    const sites: LoraSite[] = [];
    this.w.blocks.forEach((b, i) => {
      const site = (name: string, K: number, N: number, linear: Linear, key = name.split('.').at(-1)!): LoraSite => ({
        key: `${i}.${key}`,
        K,
        N,
        parts: [{ module: `h.${i}.${name}`, aliases: [`transformer.h.${i}.${name}`], rows: N, offset: 0, stride: 1 }],
        linear,
      });
      sites.push(
        site('attn.c_attn', C, 3 * C, b.qkv),
        site('attn.c_proj', C, C, b.proj, 'attn.c_proj'),
        site('mlp.c_fc', C, 4 * C, b.fc),
        site('mlp.c_proj', 4 * C, C, b.out, 'mlp.c_proj'),
      );
    });
    return { sites, ggufArch: [] };
  }

  protected head(g: Graph, x: SymbolicTensor): SymbolicTensor {
    const [gamma, beta] = this.w.lnF;
    const h = g.layerNorm(x, g.weight(gamma), g.weight(beta), { eps: this.config.layer_norm_epsilon });
    return this.w.wte.logits(g, h); // tied lm_head: [T, V]
  }

  /** GPU bytes held by the weights and the KV caches. */
  memoryBytes(): { weights: number; kvCache: number } {
    const { wte, wpe, blocks, lnF } = this.w;
    const norm = (n: Norm) => n[0].byteLength + n[1].byteLength;
    let weights = wte.byteLength + wpe.byteLength + norm(lnF);
    for (const b of blocks)
      weights += norm(b.ln1) + norm(b.ln2) + b.qkv.byteLength + b.proj.byteLength + b.fc.byteLength + b.out.byteLength;
    return { weights, kvCache: this.kvCacheBytes() };
  }

  protected disposeWeights(): void {
    const { wte, wpe, blocks, lnF } = this.w;
    for (const t of [wte, wpe, ...lnF]) t.dispose();
    for (const b of blocks) for (const t of [...b.ln1, ...b.ln2, b.qkv, b.proj, b.fc, b.out]) t.dispose();
  }
}

// GPT-2 exactly as published (Hugging Face GPT2LMHeadModel): learned token and position embeddings,
// pre-norm blocks of causal self-attention and a GELU MLP, final layer norm, lm_head tied to wte.
// Weights load from safetensors in both checkpoint layouts (original names with h.N.attn.bias mask
// buffers, or the 'transformer.' prefix), F32, F16 or BF16; Conv1D weights are [in, out].
// Generation prefills the prompt once, then replays one decode plan per token: K/V rows are appended
// to per-layer caches in place at the position scalar, and the next token is sampled on the GPU.
import type { GPUContext } from '../gpu/engine';
import { ArgumentError, BusyError, DisposedError, NumericError, ShapeError } from '../errors';
import { Graph, type SymbolicTensor } from '../graph/graph';
import { quantize } from '../graph/quantize';
import type { Plan } from '../graph/plan';
import { SafetensorsFile } from '../io/safetensors';
import type { Tensor } from '../gpu/tensor';
import { quantLayout, type QuantScheme, type QuantizedTensor } from '../ops/quantize';
import { slidingLayout, type BlockLayout, type BlockSize } from '../ops/sparse_layout';

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
export const GPT2_SMALL: GPT2Config = { n_layer: 12, n_head: 12, n_embd: 768, vocab_size: 50257, n_positions: 1024, layer_norm_epsilon: 1e-5 };

export interface GPT2Options {
  /** KV-cache rows per layer (default n_positions). */
  maxLength?: number;
  /** 'int8' quantizes every linear layer's weights at load. */
  weights?: 'f32' | 'int8';
  /**
   * With weights 'int8', quantize the token table too (GPT-2's largest matrix, 38.6M of 124M
   * parameters): one int8 copy serves the embedding lookup and the tied lm_head. Default false.
   */
  quantizeEmbedding?: boolean;
  /** Int8 scheme (default 'q8_0'). */
  scheme?: QuantScheme;
  /** Attention pattern (default dense); forward() and generate() can override it per call. */
  attention?: AttentionSpec;
}

/** Dense causal attention, or a causal sliding window (block-sparse; Longformer-style local attention). */
export type AttentionSpec = { kind: 'dense' } | { kind: 'sliding'; window: number; blockSize?: BlockSize };

/** The four linear layers of a block, as [in, out] Conv1D weights. */
const LINEAR = ['attn.c_attn', 'attn.c_proj', 'mlp.c_fc', 'mlp.c_proj'] as const;

export interface GenerateOptions {
  maxNewTokens?: number;
  /** 0 (the default) is greedy. */
  temperature?: number;
  topK?: number;
  topP?: number;
  seed?: number;
  /** Stop early after this token (e.g. 50256, <|endoftext|>). */
  stopToken?: number;
  attention?: AttentionSpec;
}

const PER_LAYER = [
  ['ln_1.weight', 'C'], ['ln_1.bias', 'C'],
  ['attn.c_attn.weight', 'C,3C'], ['attn.c_attn.bias', '3C'],
  ['attn.c_proj.weight', 'C,C'], ['attn.c_proj.bias', 'C'],
  ['ln_2.weight', 'C'], ['ln_2.bias', 'C'],
  ['mlp.c_fc.weight', 'C,4C'], ['mlp.c_fc.bias', '4C'],
  ['mlp.c_proj.weight', '4C,C'], ['mlp.c_proj.bias', 'C'],
] as const;

/** Timings of the last generate(): prefill, and per decode step the CPU (encode + submit) and total ms. */
export interface GenerationStats {
  promptTokens: number;
  prefillMs: number;
  steps: { cpuMs: number; totalMs: number }[];
}

export class GPT2 {
  /** Filled in by generate(). */
  readonly lastGeneration: GenerationStats = { promptTokens: 0, prefillMs: 0, steps: [] };
  private plans = new Map<string, Promise<Plan>>();
  private caches: { k: Tensor; v: Tensor }[] = [];
  private disposed = false;
  readonly maxLength: number;
  readonly attention: AttentionSpec;
  private layouts = new Map<string, BlockLayout>();

  private constructor(
    readonly engine: GPUContext,
    readonly config: Required<GPT2Config>,
    private readonly weights: Map<string, Tensor>,
    private readonly quantized: Map<string, QuantizedTensor>,
    options: GPT2Options,
  ) {
    this.maxLength = Math.min(options.maxLength ?? config.n_positions, config.n_positions);
    this.attention = options.attention ?? { kind: 'dense' };
    const { n_head: H, n_embd: C } = config;
    for (let i = 0; i < config.n_layer; i++) {
      this.caches.push({
        k: engine.empty([H, this.maxLength, C / H], 'f32', `h.${i}.k_cache`),
        v: engine.empty([H, this.maxLength, C / H], 'f32', `h.${i}.v_cache`),
      });
    }
  }

  /** Loads a GPT-2 checkpoint; every tensor's shape is checked against the config. */
  static async fromSafetensors(engine: GPUContext, bytes: Uint8Array | ArrayBuffer, config: GPT2Config, options: GPT2Options = {}): Promise<GPT2> {
    const cfg: Required<GPT2Config> = { layer_norm_epsilon: 1e-5, ...config };
    const { n_embd: C, n_head: H } = cfg;
    for (const k of ['n_layer', 'n_head', 'n_embd', 'vocab_size', 'n_positions'] as const) {
      if (!Number.isInteger(cfg[k]) || cfg[k] < 1) throw new ShapeError(`GPT2 config: ${k} must be a positive integer, got ${cfg[k]}`);
    }
    if (C % H !== 0) throw new ShapeError(`GPT2 config: n_embd ${C} is not divisible by n_head ${H}`);
    if (options.weights !== undefined && options.weights !== 'f32' && options.weights !== 'int8') {
      throw new ArgumentError(`GPT2: weights must be 'f32' or 'int8', got ${JSON.stringify(options.weights)}`);
    }
    if (options.maxLength !== undefined && !(Number.isInteger(options.maxLength) && options.maxLength >= 1)) {
      throw new ArgumentError(`GPT2: maxLength must be a positive integer, got ${options.maxLength}`);
    }
    const file = SafetensorsFile.parse(bytes);
    const prefix = file.has('wte.weight') ? '' : file.has('transformer.wte.weight') ? 'transformer.' : null;
    if (prefix === null) file.get('wte.weight'); // throws "missing tensor 'wte.weight'"
    const dims = (spec: string) => spec.split(',').map((d) => (d === 'C' ? C : d === '3C' ? 3 * C : 4 * C));
    const wanted: [string, number[]][] = [
      ['wte.weight', [cfg.vocab_size, C]],
      ['wpe.weight', [cfg.n_positions, C]],
      ['ln_f.weight', [C]],
      ['ln_f.bias', [C]],
    ];
    for (let i = 0; i < cfg.n_layer; i++) for (const [name, spec] of PER_LAYER) wanted.push([`h.${i}.${name}`, dims(spec)]);
    const weights = new Map<string, Tensor>();
    const quantized = new Map<string, QuantizedTensor>();
    const int8 = options.weights === 'int8';
    const scheme = options.scheme ?? 'q8_0';
    try {
      for (const [name, shape] of wanted) {
        const data = file.float32(prefix + name, shape);
        if (name === 'wte.weight') {
          // Split into row blocks where the table is larger than one binding may be.
          const qwte = int8 && !!options.quantizeEmbedding;
          const rowBytes = qwte ? 4 * quantLayout(scheme, C, 1).rowWords : 4 * C;
          const rowsPer = Math.max(1, Math.floor(engine.maxBindingSize / rowBytes));
          for (let lo = 0, i = 0; lo < shape[0]; lo += rowsPer, i++) {
            const rows = Math.min(rowsPer, shape[0] - lo);
            const block = data.subarray(lo * C, (lo + rows) * C);
            const label = `wte.weight rows ${lo}..${lo + rows - 1}`;
            if (qwte) quantized.set(`wte.weight#${i}`, await quantize(engine, block, { K: C, N: rows, layout: 'NK', scheme, label }));
            else weights.set(`wte.weight#${i}`, engine.tensor(block, [rows, C], label));
          }
        } else if (int8 && LINEAR.some((l) => name.endsWith(`${l}.weight`))) {
          quantized.set(name, await quantize(engine, data, { K: shape[0], N: shape[1], layout: 'KN', scheme, label: name }));
        } else {
          weights.set(name, engine.tensor(data, shape, name));
        }
      }
    } catch (e) {
      for (const t of weights.values()) t.dispose();
      for (const q of quantized.values()) q.dispose();
      throw e;
    }
    return new GPT2(engine, cfg, weights, quantized, options);
  }


  /**
   * The model's graph for T tokens. 'forward': logits for every position, no cache. 'prefill': writes
   * the prompt's K/V into the caches and samples the next token. 'decode': T = 1 at position `pos`.
   */
  /** The causal sliding-window layout for `length` keys (cached), or null for dense attention. */
  private layout(spec: AttentionSpec, length: number): BlockLayout | null {
    if (spec.kind === 'dense') return null;
    const key = `${spec.window}:${spec.blockSize ?? 32}:${length}`;
    let l = this.layouts.get(key);
    if (!l) this.layouts.set(key, (l = slidingLayout(length, { window: spec.window, blockSize: spec.blockSize ?? 32, causal: true })));
    return l;
  }

  private build(kind: 'forward' | 'prefill' | 'decode' | 'attention', T: number, probeLayer = -1, spec: AttentionSpec = this.attention): { g: Graph; out: SymbolicTensor } {
    const { n_layer, n_head: H, n_embd: C, layer_norm_epsilon: eps } = this.config;
    const D = C / H;
    const g = new Graph(this.engine, `gpt2 ${kind} T=${T}`);
    const constants = new Map<string, SymbolicTensor>();
    const w = (name: string) => {
      let c = constants.get(name);
      if (!c) constants.set(name, (c = g.constant(name, this.weights.get(name)!)));
      return c;
    };
    /** x · W + b for a Conv1D layer, through the int8 kernel when the weights were quantized. */
    const linear = (x: SymbolicTensor, name: string) => {
      const q = this.quantized.get(`${name}.weight`);
      const bias = w(`${name}.bias`);
      return q ? g.dequantMatmul(x, q, { bias, name }) : g.matmul(x, w(`${name}.weight`), { bias });
    };
    const pos = kind === 'decode' ? g.scalar('pos') : null;
    const ids = g.input('ids', [T], 'u32');
    // The token table, in one or more row blocks (see fromSafetensors), f32 or int8.
    const wte: { t?: SymbolicTensor; q?: QuantizedTensor; firstId: number }[] = [];
    for (let i = 0, firstId = 0; ; i++) {
      const q = this.quantized.get(`wte.weight#${i}`);
      if (!q && !this.weights.has(`wte.weight#${i}`)) break;
      const t = q ? undefined : w(`wte.weight#${i}`);
      wte.push({ t, q, firstId });
      firstId += q ? q.layout.N : t!.shape[0];
    }
    let x = wte
      .map((b, i) => {
        const opts = { pos: pos ?? 0, firstId: b.firstId, addPosition: i === 0 };
        return b.q ? g.dequantEmbedding(ids, b.q, w('wpe.weight'), opts) : g.embedding(ids, b.t!, w('wpe.weight'), opts);
      })
      .reduce((a, b) => g.add(a, b)); // [T, C]
    const lmHead = (h: SymbolicTensor) =>
      wte.map((b) => (b.q ? g.dequantMatmul(h, b.q) : g.matmul(h, b.t!, { transposeB: true }))).reduce((a, b) => g.concat(a, b));
    for (let i = 0; i < n_layer; i++) {
      const p = `h.${i}.`;
      const a = g.layerNorm(x, w(p + 'ln_1.weight'), w(p + 'ln_1.bias'), { eps });
      const qkv = linear(a, p + 'attn.c_attn'); // [T, 3C]
      const q = g.splitHeads(qkv, H, 0, 3); // [H, T, D]
      const k = g.splitHeads(qkv, H, 1, 3);
      const v = g.splitHeads(qkv, H, 2, 3);
      if (i === probeLayer) {
        // The attention probabilities of this layer, unfused so they exist: softmax(mask(q kᵀ / √D)).
        return { g, out: g.softmax(g.causalMask(g.matmul(q, k, { transposeB: true }), 1 / Math.sqrt(D))) }; // [H, T, T]
      }
      const prefillLayout = pos ? null : this.layout(spec, T);
      const attend = () => (prefillLayout ? g.sparseAttention(q, k, v, prefillLayout) : g.attention(q, k, v, { causal: true }));
      let y: SymbolicTensor;
      if (kind === 'forward' || kind === 'attention') {
        y = attend();
      } else {
        const cache = this.caches[i];
        const strided = { outer: H, rows: T, rowLen: D, dstRow: D, dstOuter: this.maxLength * D };
        const offset = pos ? { ...pos, scale: D } : 0;
        const kc = g.assign(g.state(`k${i}`, cache.k), k, { offset, strided });
        const vc = g.assign(g.state(`v${i}`, cache.v), v, { offset, strided });
        const decodeLayout = pos ? this.layout(spec, this.maxLength) : null;
        const length = pos ? { ...pos, add: 1 } : 0;
        y = !pos ? attend() : decodeLayout ? g.sparseDecodeAttention(q, kc, vc, decodeLayout, { length }) : g.decodeAttention(q, kc, vc, { length });
      }
      const attn = linear(g.mergeHeads(y), p + 'attn.c_proj');
      x = g.add(attn, x); // folded into the projection's epilogue
      const m = g.layerNorm(x, w(p + 'ln_2.weight'), w(p + 'ln_2.bias'), { eps });
      const h = g.gelu(linear(m, p + 'mlp.c_fc')); // [T, 4C]
      x = g.add(linear(h, p + 'mlp.c_proj'), x);
    }
    x = g.layerNorm(x, w('ln_f.weight'), w('ln_f.bias'), { eps });
    if (kind === 'forward') return { g, out: lmHead(x) }; // [T, V]
    const last = T > 1 ? g.slice(x, T - 1, 1) : x;
    const logits = lmHead(last); // [1, V]
    const s = (name: string) => g.scalar(name);
    return { g, out: g.sample(logits, { temperature: s('temperature'), topK: s('topK'), topP: s('topP'), seed: s('seed'), step: s('step') }) };
  }

  private plan(kind: 'forward' | 'prefill' | 'decode' | 'attention', T: number, probeLayer = -1, spec: AttentionSpec = this.attention): Promise<Plan> {
    if (this.disposed) throw new DisposedError('GPT2: the model was disposed');
    if (spec.kind === 'sliding' && !(spec.window >= 1)) throw new ShapeError(`GPT2: a sliding window of ${spec.window} tokens is not positive`);
    const key = `${kind}:${T}:${probeLayer}:${JSON.stringify(spec)}`;
    let p = this.plans.get(key);
    if (!p) {
      const { g, out } = this.build(kind, T, probeLayer, spec);
      p = g.compile({ out });
      p.catch(() => this.plans.delete(key));
      this.plans.set(key, p);
    }
    return p;
  }

  private checkIds(ids: ArrayLike<number>, extra = 0): Uint32Array {
    const { vocab_size: V } = this.config;
    if (ids.length === 0) throw new ShapeError('GPT2: the prompt is empty');
    if (ids.length + extra > this.maxLength) {
      throw new ShapeError(`GPT2: ${ids.length} prompt tokens${extra ? ` + ${extra} new` : ''} exceed the context of ${this.maxLength} positions (n_positions)`);
    }
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (!Number.isInteger(id) || id < 0 || id >= V) throw new ShapeError(`GPT2: token id ${id} at position ${i} is outside the vocabulary (vocab_size ${V})`);
    }
    return Uint32Array.from(ids);
  }

  /** Logits for every position, [T × vocab_size]. */
  async forward(ids: ArrayLike<number>, options: { attention?: AttentionSpec } = {}): Promise<Float32Array> {
    const data = this.checkIds(ids);
    const plan = await this.plan('forward', data.length, -1, options.attention);
    return (await plan.run({ ids: data })).out as Float32Array;
  }

  /** Attention probabilities of one layer and head over the tokens, [T × T] (row: query, column: key). */
  async attentionWeights(ids: ArrayLike<number>, layer: number, head: number): Promise<Float32Array> {
    const { n_layer, n_head } = this.config;
    if (!(Number.isInteger(layer) && layer >= 0 && layer < n_layer)) throw new ShapeError(`GPT2: layer ${layer} outside 0..${n_layer - 1}`);
    if (!(Number.isInteger(head) && head >= 0 && head < n_head)) throw new ShapeError(`GPT2: head ${head} outside 0..${n_head - 1}`);
    const data = this.checkIds(ids);
    const T = data.length;
    const plan = await this.plan('attention', T, layer);
    const all = (await plan.run({ ids: data })).out as Float32Array;
    return all.slice(head * T * T, (head + 1) * T * T);
  }

  /**
   * Token ids as they are produced: the prompt is prefilled once, then one decode replay per token.
   * One generation at a time per model (they share its KV caches): a second generate() whose first
   * next() comes while another is unfinished throws BusyError. Finish the first, or call return() on it.
   */
  async *generate(prompt: ArrayLike<number>, options: GenerateOptions = {}): AsyncGenerator<number> {
    const { n, sampling } = this.checkGenerateOptions(options);
    const ids = this.checkIds(prompt, Math.max(0, n - 1));
    if (this.generating) {
      throw new BusyError('GPT2.generate: another generate() on this model has not finished; its KV caches are in use. Await it, or call return() on its iterator');
    }
    if (n === 0) return;
    this.generating = true;
    try {
      const stats = this.lastGeneration;
      stats.promptTokens = ids.length;
      stats.steps = [];
      const prefill = await this.plan('prefill', ids.length, -1, options.attention);
      const decode = n > 1 ? await this.plan('decode', 1, -1, options.attention) : null;
      let next = this.checkSampled(((await prefill.run({ ids, ...sampling, step: 0 })).out as Uint32Array)[0], 0);
      stats.prefillMs = prefill.lastRun.totalMs;
      for (let i = 0; ; i++) {
        yield next;
        if (i + 1 >= n || next === options.stopToken) return;
        const id = new Uint32Array([next]);
        next = this.checkSampled(((await decode!.run({ ids: id, pos: ids.length + i, ...sampling, step: i + 1 })).out as Uint32Array)[0], i + 1);
        stats.steps.push({ cpuMs: decode!.lastRun.encodeMs, totalMs: decode!.lastRun.totalMs });
      }
    } finally {
      this.generating = false;
    }
  }

  private generating = false;

  /** The sampler returns 0xffffffff when no logit is a number: NaN or infinite values in the model. */
  private checkSampled(id: number, step: number): number {
    if (id >= this.config.vocab_size) {
      throw new NumericError(`GPT2.generate: step ${step}: no logit is finite (NaN or infinite values in the model's output), so no token can be sampled`);
    }
    return id;
  }

  /**
   * Every generation option checked before any GPU work. A temperature of 0 is greedy (argmax); a
   * negative one is refused rather than read as greedy.
   */
  private checkGenerateOptions(o: GenerateOptions): { n: number; sampling: { temperature: number; topK: number; topP: number; seed: number } } {
    const where = 'GPT2.generate';
    if (typeof o !== 'object' || o === null) throw new ArgumentError(`${where}: options must be an object`);
    const n = o.maxNewTokens ?? 20;
    if (!(Number.isInteger(n) && n >= 0)) throw new ArgumentError(`${where}: maxNewTokens must be a non-negative integer, got ${n}`);
    const temperature = o.temperature ?? 0;
    if (!(Number.isFinite(temperature) && temperature >= 0)) throw new ArgumentError(`${where}: temperature must be a finite number ≥ 0 (0 is greedy), got ${temperature}`);
    const topK = o.topK ?? 0;
    if (!(Number.isInteger(topK) && topK >= 0)) throw new ArgumentError(`${where}: topK must be a non-negative integer (0 keeps every token), got ${topK}`);
    const topP = o.topP ?? 1;
    if (!(topP > 0 && topP <= 1)) throw new ArgumentError(`${where}: topP must be in (0, 1] (1 keeps every token), got ${topP}`);
    const seed = o.seed ?? 0;
    if (!(Number.isInteger(seed) && seed >= 0 && seed <= 0xffffffff)) throw new ArgumentError(`${where}: seed must be an integer in 0..4294967295, got ${seed}`);
    const stop = o.stopToken;
    if (stop !== undefined && !(Number.isInteger(stop) && stop >= 0 && stop < this.config.vocab_size)) {
      throw new ArgumentError(`${where}: stopToken ${stop} is outside the vocabulary (vocab_size ${this.config.vocab_size})`);
    }
    return { n, sampling: { temperature, topK, topP, seed } };
  }

  /** GPU bytes held by the weights and the KV caches. */
  memoryBytes(): { weights: number; kvCache: number } {
    let weights = 0;
    for (const t of this.weights.values()) weights += t.byteLength;
    for (const q of this.quantized.values()) weights += q.byteLength;
    return { weights, kvCache: this.caches.reduce((s, c) => s + c.k.byteLength + c.v.byteLength, 0) };
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const p of this.plans.values()) p.then((plan) => plan.dispose(), () => undefined);
    for (const t of this.weights.values()) t.dispose();
    for (const q of this.quantized.values()) q.dispose();
    for (const c of this.caches) (c.k.dispose(), c.v.dispose());
  }
}

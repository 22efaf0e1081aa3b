// The decoder core shared by every autoregressive model: KV caches, the prefill / decode / forward /
// attention-probe plans (a bounded cache), the generate loop with its option checks, sampling on the
// GPU, stop conditions and timings. A model is only its definition (see GPT2): embed the ids, one
// block per layer (calling `attend` for its attention), and the head that gives logits.
import { ArgumentError, BusyError, DisposedError, NumericError, ShapeError } from '../errors';
import type { GPUContext } from '../gpu/engine';
import type { Tensor } from '../gpu/tensor';
import { Graph, type SymbolicTensor } from '../graph/graph';
import type { Plan } from '../graph/plan';
import { PlanCache } from '../graph/plan-cache';
import type { ScalarRef } from '../ops/types';
import { type TokenCandidate, tokenCandidates } from '../ops/sample';
import { slidingLayout, type BlockLayout, type BlockSize } from '../ops/sparse_layout';
import { type ChatOptions, ChatSession, type ChatTokenizer } from './chat';
import { AdapterSet, type AdapterInfo, type AdapterSelection, type LoadAdapterOptions, type LoraSite } from './lora';

/** Dense causal attention, or a causal sliding window (block-sparse; Longformer-style local attention). */
export type AttentionSpec = { kind: 'dense' } | { kind: 'sliding'; window: number; blockSize?: BlockSize };

/** Where one layer's attention runs: its layer, the graph's kind and token count, the position scalar (decode), the spec. */
interface AttendSite {
  layer: number;
  kind: Kind;
  T: number;
  pos: ScalarRef | null;
  spec: AttentionSpec;
}

export interface GenerateOptions {
  /** Default 20. 0 yields nothing. */
  maxNewTokens?: number;
  /** 0 (the default) is greedy; a negative value is an error. */
  temperature?: number;
  topK?: number;
  topP?: number;
  seed?: number;
  /** Stop early after this token (e.g. 50256, <|endoftext|>). */
  stopToken?: number;
  /**
   * Hugging Face's repetition penalty (> 0; 1, the default, is off): before each token is chosen, the
   * logits of every token already in the prompt or the output are divided by it when positive and
   * multiplied by it when negative. Applied on the GPU from a history of ids the model keeps.
   */
  repetitionPenalty?: number;
  /**
   * Stop early after any of these tokens. Default: the model's end-of-sequence ids (Llama: eos_token_id
   * from the config or the GGUF metadata; GPT2: none). Pass [] to generate the full maxNewTokens.
   */
  stopTokens?: readonly number[];
  /**
   * Stops the generation between tokens: the iterator ends (lastGeneration.stopReason 'abort') and the
   * model stays ready for the next call. Checked before each token is computed.
   */
  signal?: AbortSignal;
  attention?: AttentionSpec;
  /**
   * With n > 0, each step's n likeliest next tokens with their probabilities at the temperature and
   * after top-k / top-p (what the draw picks from) go into lastGeneration.candidates before the token is
   * yielded. It reads back the step's logits row (vocab floats) and ranks it on the CPU in float64.
   */
  candidates?: number;
  /** A LoRA adapter loaded with loadAdapter(), by name; null or absent: the base model. */
  adapter?: string | null;
}

/** Timings of the last generate(): prefill, and per decode step the CPU (encode + submit) and total ms. */
export interface GenerationStats {
  promptTokens: number;
  prefillMs: number;
  steps: { cpuMs: number; totalMs: number }[];
  /** Why it ended: maxNewTokens reached, a stop token produced, or the signal aborted. */
  stopReason: 'length' | 'stop' | 'abort';
  /**
   * Prompt tokens this generate() ran through the model: the prompt less the prefix whose K/V the
   * cache already held from the previous call (prompt + generated tokens), reused as they are.
   */
  prefilledTokens: number;
  /** Prompt tokens whose K/V came from the cache (promptTokens - prefilledTokens). */
  reusedTokens: number;
  /** Rows the prefill plan ran: prefilledTokens padded up to the plan's length bucket. */
  prefillBucket: number;
  /** Ms spent waiting for plans (pipelines compiled, buffers made) before the prefill; 0 once warm. */
  compileMs: number;
  /** Ms from the call to the first token: compileMs + prefillMs + the CPU work around them. */
  timeToFirstTokenMs: number;
  /** Per yielded token, its step's likeliest candidates (GenerateOptions.candidates; else empty). */
  candidates: TokenCandidate[][];
}

/** warmup()'s options. */
export interface WarmupOptions {
  /** Called as each kernel's pipeline is ready: { done, total, text: 'compiling kernels done / total' }. */
  onProgress?: (p: { done: number; total: number; text: string }) => void;
  /** Prompts up to this many tokens (default min(maxLength, 512)) find their prefill bucket compiled. */
  maxPromptTokens?: number;
  /** Also the plans that apply a repetition penalty (a variant of their own). Default false. */
  repetitionPenalty?: boolean;
  /** The attention pattern to compile for (default the model's). */
  attention?: AttentionSpec;
  /** Stops waiting (the compiles already started finish in the background); warmup rejects with the reason. */
  signal?: AbortSignal;
}

/** What warmup() compiled: distinct kernels (pipelines), plans, and the wall time. */
export interface WarmupResult {
  kernels: number;
  plans: number;
  ms: number;
}

/** The sizes the core needs: caches are [kvHeads, maxLength, headDim] per layer. */
export interface DecoderShape {
  /** Names the model in messages and plan labels, e.g. 'GPT2'. */
  name: string;
  layers: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  vocab: number;
  /** KV-cache rows per layer: the longest prompt + generation. */
  maxLength: number;
  /**
   * How the KV caches are stored: f32, or IEEE halves two per u32 ('f16': half the memory and half
   * the bytes a decode step's attention reads; no shader-f16 needed). Default 'f32'.
   */
  kvCache?: 'f32' | 'f16';
}

type Kind = 'forward' | 'prefill' | 'decode' | 'attention';

/** Attention of one layer: q [H, T, D], k and v [KVH, T, D] → [H, T, D]; the core handles caches and patterns. */
export type Attend = (q: SymbolicTensor, k: SymbolicTensor, v: SymbolicTensor) => SymbolicTensor;

/** Plans kept per model: a chat app's distinct prompt lengths must not hold GPU memory without bound. */
const PLAN_CACHE_SIZE = 8;

/** The reuse and timing fields of GenerationStats before a generation. */
const FRESH_STATS = { prefilledTokens: 0, reusedTokens: 0, prefillBucket: 0, compileMs: 0, timeToFirstTokenMs: 0 };

/** The smallest prefill bucket: prompts are padded up to a power of two from here (or the context). */
export const MIN_PREFILL_BUCKET = 16;

/**
 * The prefill plan's length for `n` new tokens: the next power of two ≥ n (at least MIN_PREFILL_BUCKET),
 * at most the context. Prompts of 17..32 tokens share one plan; the padding rows run but are never read.
 */
export function prefillBucket(n: number, maxLength: number): number {
  let b = MIN_PREFILL_BUCKET;
  while (b < n) b *= 2;
  return Math.min(b, maxLength);
}

export abstract class Decoder {
  /** Filled in by generate(). */
  readonly lastGeneration: GenerationStats = {
    promptTokens: 0,
    prefillMs: 0,
    steps: [],
    stopReason: 'length',
    candidates: [],
    ...FRESH_STATS,
  };
  /** Tokens that end a generation when the caller gives no stopTokens (the model's eos ids). */
  protected defaultStopTokens: readonly number[] = [];
  /** The tokenizer chat() uses when given none (loadModel attaches the model's own). */
  tokenizer: ChatTokenizer | null = null;
  readonly maxLength: number;
  readonly attention: AttentionSpec;
  protected disposed = false;
  private readonly caches: { k: Tensor; v: Tensor }[] = [];
  /** The ids of the sequence so far (prompt + generated), for the repetition penalty. */
  private readonly history: Tensor;
  private readonly plans = new PlanCache(PLAN_CACHE_SIZE);
  private readonly layouts = new Map<string, BlockLayout>();
  private generating = false;
  /**
   * What the KV caches hold: the ids of the last generate() (prompt + tokens yielded), of which the
   * first `cachedValid` have their K/V written, computed under `cacheTag` (attention spec, adapter).
   */
  private cachedIds: number[] = [];
  private cachedValid = 0;
  private cacheTag = '';
  /** LoRA adapters (lora.ts); `building`: the adapter slot the graph being built binds. */
  private readonly adapterSet: AdapterSet;
  private building: AdapterSelection | null = null;

  protected constructor(
    readonly engine: GPUContext,
    private readonly shape: DecoderShape,
    attention: AttentionSpec = { kind: 'dense' },
  ) {
    this.maxLength = shape.maxLength;
    this.attention = attention;
    const { kvHeads, headDim } = shape;
    if (shape.kvCache !== undefined && shape.kvCache !== 'f32' && shape.kvCache !== 'f16')
      throw new ArgumentError(`${shape.name}: kvCache must be 'f32' or 'f16', got ${JSON.stringify(shape.kvCache)}`);
    try {
      for (let i = 0; i < shape.layers; i++) {
        const dtype = shape.kvCache ?? 'f32';
        this.caches.push({
          k: engine.empty([kvHeads, this.maxLength, headDim], dtype, `layer ${i} k_cache`),
          v: engine.empty([kvHeads, this.maxLength, headDim], dtype, `layer ${i} v_cache`),
        });
      }
      this.history = engine.empty([this.maxLength], 'u32', 'token history');
      this.adapterSet = new AdapterSet(
        engine,
        shape.name,
        () => this.loraSites(),
        (suffix) => this.plans.drop(suffix),
      );
    } catch (e) {
      for (const c of this.caches) for (const t of [c.k, c.v]) t.dispose();
      throw e;
    }
  }

  /** ids [T] (u32) at positions pos, pos + 1, … → hidden states [T, C]. */
  protected abstract embed(g: Graph, ids: SymbolicTensor, pos: number | ScalarRef): SymbolicTensor;
  /** One layer: x [T, C] → [T, C] for tokens at positions pos, pos + 1, …, calling `attend` once. */
  protected abstract block(g: Graph, layer: number, x: SymbolicTensor, attend: Attend, pos: number | ScalarRef): SymbolicTensor;
  /** Final hidden states [T, C] → logits [T, vocab]. */
  protected abstract head(g: Graph, x: SymbolicTensor): SymbolicTensor;
  /** Frees the model's own weights (the core frees caches and plans). */
  protected abstract disposeWeights(): void;

  /** The linear layers LoRA adapters can reach and the GGUF architectures of this model; null: none. */
  protected loraSites(): { sites: LoraSite[]; ggufArch: string[] } | null {
    return null;
  }

  /** For block(): the bound adapter's update of `site` for input x, to pass as the Linear's delta; undefined without one. */
  protected loraDelta(g: Graph, site: string, x: SymbolicTensor): SymbolicTensor | undefined {
    return this.adapterSet.delta(g, this.building, site, x);
  }

  /** The causal sliding-window layout for `length` keys (cached), or null for dense attention. */
  private layout(spec: AttentionSpec, length: number): BlockLayout | null {
    if (spec.kind === 'dense') return null;
    const key = `${spec.window}:${spec.blockSize ?? 32}:${length}`;
    let l = this.layouts.get(key);
    if (!l) {
      if (this.layouts.size >= 16) this.layouts.delete(this.layouts.keys().next().value!); // bounded
      l = slidingLayout(length, { window: spec.window, blockSize: spec.blockSize ?? 32, causal: true });
      this.layouts.set(key, l);
    }
    return l;
  }

  /**
   * The graph for T tokens. 'forward': logits for every position, no cache. 'prefill': writes the
   * prompt's K/V into the caches and samples the next token. 'decode': T = 1 at the position scalar.
   * 'attention': the probabilities of layer `probe`, [H, T, T].
   */
  private build(
    kind: Kind,
    T: number,
    probe: number,
    spec: AttentionSpec,
    penalize: boolean,
    withLogits = false,
  ): { g: Graph; out: SymbolicTensor; logits?: SymbolicTensor } {
    const g = new Graph(this.engine, `${this.shape.name.toLowerCase()} ${kind} T=${T}`);
    // A prefill continues a cached prefix at the position scalar where its attention can read the cache.
    const pos = kind === 'decode' || (kind === 'prefill' && this.continuable(spec)) ? g.scalar('pos') : null;
    const ids = g.input('ids', [T], 'u32');
    let x = this.embed(g, ids, pos ?? 0); // [T, C]
    let probed: SymbolicTensor | null = null;
    for (let i = 0; i < this.shape.layers; i++) {
      x = this.block(
        g,
        i,
        x,
        (q, k, v) => {
          if (i === probe) probed = this.probabilities(g, q, k);
          return this.attend(g, { layer: i, kind, T, pos, spec }, q, k, v);
        },
        pos ?? 0,
      );
      if (probed) return { g, out: probed };
    }
    if (kind === 'forward') return { g, out: this.head(g, x) }; // [T, V]
    // A prefill's T is its bucket: the last real row is the scalar 'last'; the padding rows after it are never read.
    let logits = this.head(g, kind === 'prefill' ? g.slice(x, g.scalar('last'), 1) : x); // [1, V]
    const s = (name: string) => g.scalar(name);
    if (penalize) {
      // The ids so far (this run's appended at its position) penalise their own logits.
      const state = g.state('history', this.history);
      const history = g.writeOp('append_ids', state, [state, ids], { offset: pos ?? 0 });
      const length = kind === 'decode' && pos ? { ...pos, add: 1 } : s('end'); // ids so far, the padding excluded
      logits = g.op('repetition_penalty', [logits, history], { penalty: s('penalty'), length });
    }
    return {
      g,
      out: g.sample(logits, { temperature: s('temperature'), topK: s('topK'), topP: s('topP'), seed: s('seed'), step: s('step') }),
      ...(withLogits ? { logits } : {}), // the row sampled from, read back for GenerateOptions.candidates
    };
  }

  /** softmax(mask(q kᵀ / √D)), unfused so the probabilities exist as a tensor: [H, T, T]. */
  private probabilities(g: Graph, q: SymbolicTensor, k: SymbolicTensor): SymbolicTensor {
    const { heads, kvHeads, headDim } = this.shape;
    // Grouped-query attention: each KV head repeated for its query heads (only for this probe).
    const keys = kvHeads < heads ? g.heads(g.mergeHeads(k), { heads, headDim, group: heads / kvHeads }) : k;
    return g.softmax(g.causalMask(g.matmul(q, keys, { transposeB: true }), 1 / Math.sqrt(headDim)));
  }

  /**
   * One layer's attention over q [H, T, D] and this step's k, v [KVH, T, D]: dense or block-sparse,
   * through the layer's KV caches when the graph fills them ('prefill', 'decode').
   */
  private attend(g: Graph, site: AttendSite, q: SymbolicTensor, k: SymbolicTensor, v: SymbolicTensor): SymbolicTensor {
    const { layer, kind, T, pos, spec } = site;
    const prefillLayout = kind === 'decode' ? null : this.layout(spec, T);
    const full = () => (prefillLayout ? g.sparseAttention(q, k, v, prefillLayout) : g.attention(q, k, v, { causal: true }));
    if (kind === 'forward' || kind === 'attention') return full();
    // Append this step's K/V rows to the layer's caches in place, at the position scalar.
    const { kvHeads, headDim: D } = this.shape;
    const cache = this.caches[layer];
    const strided = { outer: kvHeads, rows: T, rowLen: D, dstRow: D, dstOuter: this.maxLength * D };
    const offset = pos ? { ...pos, scale: D } : 0;
    const kc = g.assign(g.state(`k${layer}`, cache.k), k, { offset, strided });
    const vc = g.assign(g.state(`v${layer}`, cache.v), v, { offset, strided });
    // A prefill at the position scalar: its queries attend to the cached prefix and to each other.
    if (kind === 'prefill') return pos ? g.attention(q, kc, vc, { causal: true, qOffset: pos }) : full();
    const decodeLayout = this.layout(spec, this.maxLength);
    const length = { ...pos!, add: 1 }; // decode: pos is the scalar
    return decodeLayout ? g.sparseDecodeAttention(q, kc, vc, decodeLayout, { length }) : g.decodeAttention(q, kc, vc, { length });
  }

  /**
   * Whether a prefill under `spec` can start after a cached prefix: dense attention over f32 caches
   * (the prefill attention kernel reads f32 K/V; a sliding window's layout is per prompt). Otherwise a
   * prefill starts at position 0 and nothing is reused.
   */
  private continuable(spec: AttentionSpec): boolean {
    return spec.kind === 'dense' && (this.shape.kvCache ?? 'f32') === 'f32';
  }

  /** What the caches' K/V depend on besides the ids: the attention pattern and the adapter. */
  private cacheTagOf(spec: AttentionSpec, options: GenerateOptions): string {
    const adapter = options.adapter;
    return `${JSON.stringify(spec)}|${typeof adapter === 'string' ? this.adapterSet.tag(adapter) : 'base'}`;
  }

  /**
   * Forgets what the KV caches hold, so the next generate() prefills its whole prompt. For a caller
   * that changed weights in place; another adapter (or one loaded again under its name) needs no call.
   */
  resetCache(): void {
    this.cachedValid = 0;
    this.cachedIds = [];
  }

  /** Runs `fn` with the plan for (kind, T, probe, spec) pinned; compiled on first use. */
  private withPlan<R>(
    kind: Kind,
    T: number,
    probe: number,
    spec: AttentionSpec,
    fn: (plan: Plan) => Promise<R>,
    lora: AdapterSelection | null = null,
  ): Promise<R> {
    return this.plans.use(
      this.planKey(kind, T, probe, spec, false, false, lora),
      this.planBuilder(kind, T, probe, spec, false, false, lora),
      fn,
    );
  }

  /**
   * A plan's cache key; `penalize`: sampling passes the repetition penalty, `withLogits`: the sampled
   * row is an output too (plan variants of their own).
   */
  private planKey(
    kind: Kind,
    T: number,
    probe: number,
    spec: AttentionSpec,
    penalize = false,
    withLogits = false,
    lora: AdapterSelection | null = null,
  ): string {
    if (this.disposed) throw new DisposedError(`${this.shape.name}: the model was disposed`);
    if (spec.kind === 'sliding' && !(spec.window >= 1))
      throw new ShapeError(`${this.shape.name}: a sliding window of ${spec.window} tokens is not positive`);
    return `${kind}:${T}:${probe}:${JSON.stringify(spec)}${penalize ? ':rp' : ''}${withLogits ? ':logits' : ''}${lora?.key ?? ''}`;
  }

  private planBuilder(
    kind: Kind,
    T: number,
    probe: number,
    spec: AttentionSpec,
    penalize = false,
    withLogits = false,
    lora: AdapterSelection | null = null,
  ): () => Promise<Plan> {
    return () => {
      this.building = lora; // read by loraDelta() while the blocks are built
      let built: ReturnType<Decoder['build']>;
      try {
        built = this.build(kind, T, probe, spec, penalize, withLogits);
      } finally {
        this.building = null;
      }
      const { g, out, logits } = built;
      return logits ? g.compile({ out, logits }) : g.compile({ out });
    };
  }

  private checkIds(ids: ArrayLike<number>, extra = 0): Uint32Array {
    const { name, vocab: V } = this.shape;
    if (ids.length === 0) throw new ShapeError(`${name}: the prompt is empty`);
    if (ids.length + extra > this.maxLength) {
      throw new ShapeError(
        `${name}: ${ids.length} prompt tokens${extra ? ` + ${extra} new` : ''} exceed the context of ${this.maxLength} positions`,
      );
    }
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (!Number.isInteger(id) || id < 0 || id >= V)
        throw new ShapeError(`${name}: token id ${id} at position ${i} is outside the vocabulary (vocab_size ${V})`);
    }
    return Uint32Array.from(ids);
  }

  /** Logits for every position, [T × vocab]. */
  async forward(ids: ArrayLike<number>, options: { attention?: AttentionSpec; adapter?: string | null } = {}): Promise<Float32Array> {
    const data = this.checkIds(ids);
    const lora = await this.adapterSet.select(options.adapter, `${this.shape.name}.forward`);
    const out = await this.withPlan(
      'forward',
      data.length,
      -1,
      options.attention ?? this.attention,
      (p) => {
        this.adapterSet.activate(lora); // the adapter's weights into the slot, just before this run
        return p.run({ ids: data });
      },
      lora,
    );
    return out.out as Float32Array;
  }

  /**
   * Attention probabilities of one layer and head over the tokens, [T × T] (row: query, column: key).
   * With `attention` (default: the model's), earlier layers run that way and a sliding window's
   * masked keys get probability 0: the dense softmax renormalised over the keys the layout allows,
   * which is exactly the masked softmax.
   */
  async attentionWeights(
    ids: ArrayLike<number>,
    layer: number,
    head: number,
    options: { attention?: AttentionSpec } = {},
  ): Promise<Float32Array> {
    const { name, layers, heads } = this.shape;
    if (!(Number.isInteger(layer) && layer >= 0 && layer < layers))
      throw new ShapeError(`${name}: layer ${layer} outside 0..${layers - 1}`);
    if (!(Number.isInteger(head) && head >= 0 && head < heads)) throw new ShapeError(`${name}: head ${head} outside 0..${heads - 1}`);
    const data = this.checkIds(ids);
    const T = data.length;
    const spec = options.attention ?? this.attention;
    const all = (await this.withPlan('attention', T, layer, spec, (p) => p.run({ ids: data }))).out as Float32Array;
    const w = all.slice(head * T * T, (head + 1) * T * T);
    const mask = this.attentionMask(T, spec);
    if (mask) {
      for (let q = 0; q < T; q++) {
        let sum = 0;
        for (let k = 0; k < T; k++) {
          if (!mask[q * T + k]) w[q * T + k] = 0;
          sum += w[q * T + k];
        }
        for (let k = 0; k < T; k++) w[q * T + k] /= sum;
      }
    }
    return w;
  }

  /**
   * Which keys each query may attend to under `spec`, [T × T] (1: attended; row: query), or null for
   * dense causal attention. For drawing the mask beside attentionWeights().
   */
  attentionMask(T: number, spec: AttentionSpec = this.attention): Uint8Array | null {
    const layout = this.layout(spec, T);
    if (!layout) return null;
    const B = layout.blockSize;
    const mask = new Uint8Array(T * T);
    for (let q = 0; q < T; q++) {
      const qb = Math.floor(q / B);
      for (let i = layout.rowPtr[qb]; i < layout.rowPtr[qb + 1]; i++) {
        const k0 = layout.colIdx[i] * B;
        for (let k = k0; k < Math.min(k0 + B, q + 1); k++) mask[q * T + k] = 1;
      }
    }
    return mask;
  }

  /**
   * Token ids as they are produced: the prompt is prefilled once, then one decode replay per token.
   * One generation at a time per model (they share its KV caches): a second generate() whose first
   * next() comes while another is unfinished throws BusyError. Finish the first, or call return() on it.
   */
  async *generate(prompt: ArrayLike<number>, options: GenerateOptions = {}): AsyncGenerator<number> {
    const t0 = performance.now();
    const { n, sampling, stops } = this.checkGenerateOptions(options);
    const signal = options.signal;
    const ids = this.checkIds(prompt, Math.max(0, n - 1));
    if (this.generating) {
      throw new BusyError(
        `${this.shape.name}.generate: another generate() on this model has not finished; its KV caches are in use. Await it, or call return() on its iterator`,
      );
    }
    if (n === 0) return;
    const spec = options.attention ?? this.attention;
    const penalize = sampling.penalty !== undefined;
    const candidates = options.candidates ?? 0;
    const withLogits = candidates > 0;
    const lora = await this.adapterSet.select(options.adapter, `${this.shape.name}.generate`);
    if (this.generating) throw new BusyError(`${this.shape.name}.generate: another generate() on this model has not finished`);
    const tag = this.cacheTagOf(spec, options);
    const continues = this.continuable(spec);
    // The prefix whose K/V the caches hold is reused; at least one token runs, for its logits.
    const reuse = continues && tag === this.cacheTag ? Math.min(this.commonPrefix(ids), ids.length - 1) : 0;
    const bucket = prefillBucket(ids.length - reuse, this.maxLength);
    // A bucket that would run past the context starts earlier, recomputing cached rows (the same K/V).
    const start = Math.min(reuse, this.maxLength - bucket);
    const prefillKey = this.planKey('prefill', bucket, -1, spec, penalize, withLogits, lora);
    const decodeKey = this.planKey('decode', 1, -1, spec, penalize, withLogits, lora);
    this.generating = true;
    this.adapterSet.use(lora, 1);
    const pinned: string[] = [];
    try {
      const stats = this.lastGeneration;
      stats.promptTokens = ids.length;
      stats.steps = [];
      stats.candidates = [];
      stats.stopReason = 'length';
      Object.assign(stats, FRESH_STATS);
      if (signal?.aborted) {
        stats.stopReason = 'abort';
        return;
      }
      pinned.push(prefillKey);
      const tc = performance.now();
      const prefill = await this.plans.acquire(prefillKey, this.planBuilder('prefill', bucket, -1, spec, penalize, withLogits, lora));
      let decode: Plan | null = null;
      if (n > 1) {
        pinned.push(decodeKey);
        decode = await this.plans.acquire(decodeKey, this.planBuilder('decode', 1, -1, spec, penalize, withLogits, lora));
      }
      // Each run's sampled id; with `candidates`, the row it was sampled from ranked first.
      const sampled = (r: Record<string, unknown>, step: number): number => {
        if (withLogits) stats.candidates.push(tokenCandidates(r.logits as Float32Array, sampling, candidates));
        return this.checkSampled((r.out as Uint32Array)[0], step);
      };
      stats.compileMs = performance.now() - tc;
      // The new tokens padded to the bucket; 'last' names the row whose logits are sampled.
      const padded = new Uint32Array(bucket);
      padded.set(ids.subarray(start));
      const feeds: Record<string, number | Uint32Array> = { ids: padded, last: ids.length - start - 1 };
      if (continues) feeds.pos = start;
      if (penalize) {
        feeds.end = ids.length;
        this.writeHistory(ids);
      }
      // Rows from `start` on are rewritten: only the prefix before them stays valid until the run ends.
      this.cachedValid = Math.min(this.cachedValid, start);
      this.cachedIds = Array.from(ids);
      this.cacheTag = tag;
      this.adapterSet.activate(lora);
      let next = sampled(await prefill.run({ ...feeds, ...sampling, step: 0 }), 0);
      this.cachedValid = ids.length;
      stats.prefillMs = prefill.lastRun.totalMs;
      stats.prefilledTokens = ids.length - start;
      stats.reusedTokens = start;
      stats.prefillBucket = bucket;
      stats.timeToFirstTokenMs = performance.now() - t0;
      for (let i = 0; ; i++) {
        this.cachedIds.push(next); // yielded, its K/V not yet written (the next step writes them)
        yield next;
        if (stops.has(next)) stats.stopReason = 'stop';
        else if (signal?.aborted) stats.stopReason = 'abort';
        if (i + 1 >= n || stats.stopReason !== 'length') return;
        const id = new Uint32Array([next]);
        this.adapterSet.activate(lora); // a forward() with another adapter may have used the slot since
        next = sampled(await decode!.run({ ids: id, pos: ids.length + i, ...sampling, step: i + 1 }), i + 1);
        this.cachedValid = ids.length + i + 1;
        stats.steps.push({ cpuMs: decode!.lastRun.encodeMs, totalMs: decode!.lastRun.totalMs });
      }
    } finally {
      for (const key of pinned) this.plans.release(key);
      this.generating = false;
      this.adapterSet.use(lora, -1);
    }
  }

  /** How many leading ids equal the cached sequence's, within its rows whose K/V are written. */
  private commonPrefix(ids: Uint32Array): number {
    const n = Math.min(ids.length, this.cachedValid);
    let i = 0;
    while (i < n && ids[i] === this.cachedIds[i]) i++;
    return i;
  }

  /** The repetition penalty's history holds `ids` (a prefill after a reused prefix reads the prefix's ids too). */
  private writeHistory(ids: Uint32Array): void {
    const all = new Uint32Array(this.maxLength);
    all.set(ids);
    this.history.write(all);
  }

  /**
   * A conversation that keeps its messages and this model's KV cache between turns: each send()
   * prefills only what is new, through the tokenizer's chat template (options.tokenizer, else
   * model.tokenizer). See chat.ts; chat.completions.create() is OpenAI's shape on the same model.
   */
  chat(options: ChatOptions = {}): ChatSession {
    const tokenizer = options.tokenizer ?? this.tokenizer;
    if (!tokenizer)
      throw new ArgumentError(`${this.shape.name}.chat: no tokenizer: pass chat({ tokenizer }) (a TextTokenizer with a chat template)`);
    return new ChatSession(this, tokenizer, options);
  }

  /**
   * Compiles ahead what a generation needs: the decode plan and the prefill plan of every length bucket
   * up to `maxPromptTokens`, their pipelines (matmuls, attention, sampling…) created in parallel with
   * createComputePipelineAsync, reporting each one ready. A later generate() then spends no time
   * compiling (lastGeneration.compileMs) unless its prompt is longer.
   */
  async warmup(options: WarmupOptions = {}): Promise<WarmupResult> {
    const t0 = performance.now();
    const where = `${this.shape.name}.warmup`;
    const limit = options.maxPromptTokens ?? Math.min(this.maxLength, 512);
    if (!(Number.isInteger(limit) && limit >= 1))
      throw new ArgumentError(`${where}: maxPromptTokens must be a positive integer, got ${options.maxPromptTokens}`);
    if (options.onProgress !== undefined && typeof options.onProgress !== 'function')
      throw new ArgumentError(`${where}: onProgress must be a function`);
    const spec = options.attention ?? this.attention;
    const penalize = !!options.repetitionPenalty;
    const buckets = new Set<number>();
    for (let n = 1; ; n = prefillBucket(n, this.maxLength) + 1) {
      buckets.add(prefillBucket(n, this.maxLength));
      if (prefillBucket(n, this.maxLength) >= Math.min(limit, this.maxLength)) break;
    }
    const wanted: [Kind, number][] = [['decode', 1], ...[...buckets].map((T): [Kind, number] => ['prefill', T])];
    // Every plan's pipelines are requested synchronously as its compile starts: watch them go by.
    const kernels = new Map<string, Promise<unknown>>();
    const keys: string[] = [];
    const plans: Promise<Plan>[] = [];
    const unwatch = this.engine.pipelines.watch((key, kernel) => {
      if (!kernels.has(key)) kernels.set(key, kernel);
    });
    try {
      for (const [kind, T] of wanted) {
        const key = this.planKey(kind, T, -1, spec, penalize);
        plans.push(this.plans.acquire(key, this.planBuilder(kind, T, -1, spec, penalize)));
        keys.push(key);
      }
    } finally {
      unwatch();
    }
    const total = kernels.size;
    let done = 0;
    const report = () => options.onProgress?.({ done, total, text: `compiling kernels ${done} / ${total}` });
    report();
    for (const k of kernels.values())
      k.then(
        () => {
          done++;
          report();
        },
        () => undefined, // the plan that needed it rejects
      );
    try {
      const all = Promise.allSettled(plans);
      const aborted = new Promise<never>((_, reject) => {
        const signal = options.signal;
        if (!signal) return;
        const stop = () => reject(signal.reason ?? new DOMException('warmup aborted', 'AbortError'));
        if (signal.aborted) stop();
        else signal.addEventListener('abort', stop, { once: true });
        void all.then(() => signal.removeEventListener('abort', stop));
      });
      const settled = await Promise.race([all, aborted]);
      const failed = settled.find((r) => r.status === 'rejected');
      if (failed) throw (failed as PromiseRejectedResult).reason;
    } finally {
      // Unpinned once compiled (a plan evicted later keeps its pipelines in the engine's cache).
      void Promise.allSettled(plans).then(() => {
        for (const key of keys) this.plans.release(key);
      });
    }
    return { kernels: total, plans: plans.length, ms: performance.now() - t0 };
  }

  /** The sampler returns 0xffffffff when no logit is a number: NaN or infinite values in the model. */
  private checkSampled(id: number, step: number): number {
    if (id >= this.shape.vocab) {
      throw new NumericError(
        `${this.shape.name}.generate: step ${step}: no logit is finite (NaN or infinite values in the model's output), so no token can be sampled`,
      );
    }
    return id;
  }

  /**
   * Every generation option checked before any GPU work. A temperature of 0 is greedy (argmax); a
   * negative one is refused rather than read as greedy.
   */
  private checkGenerateOptions(o: GenerateOptions): {
    n: number;
    sampling: { temperature: number; topK: number; topP: number; seed: number; penalty?: number };
    stops: Set<number>;
  } {
    const where = `${this.shape.name}.generate`;
    if (typeof o !== 'object' || o === null) throw new ArgumentError(`${where}: options must be an object`);
    const n = o.maxNewTokens ?? 20;
    if (!(Number.isInteger(n) && n >= 0)) throw new ArgumentError(`${where}: maxNewTokens must be a non-negative integer, got ${n}`);
    const temperature = o.temperature ?? 0;
    if (!(Number.isFinite(temperature) && temperature >= 0))
      throw new ArgumentError(`${where}: temperature must be a finite number ≥ 0 (0 is greedy), got ${temperature}`);
    const topK = o.topK ?? 0;
    if (!(Number.isInteger(topK) && topK >= 0))
      throw new ArgumentError(`${where}: topK must be a non-negative integer (0 keeps every token), got ${topK}`);
    const topP = o.topP ?? 1;
    if (!(topP > 0 && topP <= 1)) throw new ArgumentError(`${where}: topP must be in (0, 1] (1 keeps every token), got ${topP}`);
    const seed = o.seed ?? 0;
    if (!(Number.isInteger(seed) && seed >= 0 && seed <= 0xffffffff))
      throw new ArgumentError(`${where}: seed must be an integer in 0..4294967295, got ${seed}`);
    if (o.stopTokens !== undefined && !Array.isArray(o.stopTokens))
      throw new ArgumentError(`${where}: stopTokens must be an array of token ids`);
    const stops = [...(o.stopTokens ?? this.defaultStopTokens), ...(o.stopToken === undefined ? [] : [o.stopToken])];
    for (const stop of stops) {
      if (!(Number.isInteger(stop) && stop >= 0 && stop < this.shape.vocab))
        throw new ArgumentError(`${where}: stop token ${stop} is outside the vocabulary (vocab_size ${this.shape.vocab})`);
    }
    if (o.signal !== undefined && !(typeof o.signal === 'object' && o.signal !== null && 'aborted' in o.signal))
      throw new ArgumentError(`${where}: signal must be an AbortSignal`);
    const penalty = o.repetitionPenalty ?? 1;
    if (!(Number.isFinite(penalty) && penalty > 0))
      throw new ArgumentError(`${where}: repetitionPenalty must be a finite number > 0 (1 is off), got ${penalty}`);
    const candidates = o.candidates ?? 0;
    if (!(Number.isInteger(candidates) && candidates >= 0 && candidates <= this.shape.vocab))
      throw new ArgumentError(`${where}: candidates must be an integer in 0..${this.shape.vocab} (the vocabulary), got ${candidates}`);
    // The penalty is a feed only of the plans that apply it.
    return { n, sampling: { temperature, topK, topP, seed, ...(penalty !== 1 ? { penalty } : {}) }, stops: new Set(stops) };
  }

  /** GPU bytes of the KV caches. */
  protected kvCacheBytes(): number {
    return this.caches.reduce((s, c) => s + c.k.byteLength + c.v.byteLength, 0);
  }

  /** Compiled plans currently cached (at most 8). */
  get cachedPlans(): number {
    return this.plans.size;
  }

  /**
   * Loads a LoRA adapter under `name`: PEFT's adapter_model.safetensors with its adapter_config.json
   * (the parsed object or its text), or a GGUF adapter from llama.cpp's convert_lora_to_gguf (config in
   * the file; `config` omitted). It runs unmerged on any base precision: forward / generate with
   * `{ adapter: name }`. Shapes, ranks and module names are checked against the model before upload.
   */
  loadAdapter(name: string, bytes: Uint8Array | ArrayBuffer, config?: unknown, options?: LoadAdapterOptions): Promise<void> {
    return this.adapterSet.load(name, bytes, config, options);
  }

  /** Frees an adapter (BusyError while a generate() uses it). */
  unloadAdapter(name: string): void {
    this.adapterSet.unload(name);
  }

  /** Names of the adapters loaded. */
  get adapters(): string[] {
    return this.adapterSet.names;
  }

  /** An adapter's rank, alpha, target modules, parameters and GPU bytes (compare memoryBytes().weights). */
  adapterInfo(name: string): AdapterInfo {
    return this.adapterSet.info(name);
  }

  /**
   * Folds an adapter into the base weights and unloads it (f32 / f16 bases; a packed base refuses with
   * UnsupportedError): the base model is then the adapted one, with no per-token cost.
   */
  async mergeAdapter(name: string): Promise<void> {
    if (this.generating) throw new BusyError(`${this.shape.name}.mergeAdapter: a generate() is running on the weights`);
    await this.adapterSet.merge(name);
    this.resetCache(); // the base weights changed under the cached K/V
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.plans.dispose();
    this.adapterSet.dispose();
    this.disposeWeights();
    for (const c of this.caches) for (const t of [c.k, c.v]) t.dispose();
    this.history.dispose();
  }
}

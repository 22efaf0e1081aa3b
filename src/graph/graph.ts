// The graph builder: inputs, constants, states and ops with static shape and dtype inference.
// A wrong shape fails here, at build time, naming the op and the shapes.
import type { GPUContext } from '../gpu/engine';
import { ArgumentError, ShapeError, formatShape } from '../errors';
import { Tensor, checkShape, dtypeOf, numel, paddedBytes, type AnyTypedArray, type DType } from '../gpu/tensor';
import { getOp, type OpAttrs, type OpName } from '../ops/registry';
import type { MatmulAttrs } from '../ops/matmul';
import type { ActivationFn } from '../ops/elementwise';
import type { AssignAttrs } from '../ops/copy';
import type { SampleAttrs } from '../ops/sample';
import type { BlockLayout } from '../ops/sparse_layout';
import type { ScoreMods } from '../ops/attention_score';
import { TOPK_CHUNK } from '../ops/topk';
import type { QuantizedTensor } from '../ops/quantize';
import type { ScalarRef, UniformValue } from '../ops/types';
import type { IRNode } from './ir';
import { Plan, type CompileOptions } from './plan';
import { info } from './schedule';

/** An op's attributes as Graph.op's last argument: optional when every attribute is optional. */
type AttrsArg<N extends OpName> = Record<never, never> extends OpAttrs[N] ? [attrs?: OpAttrs[N]] : [attrs: OpAttrs[N]];

/** A node of a graph under construction: its shape and dtype are known, its values are not. */
export class SymbolicTensor {
  /** @internal */
  constructor(
    readonly graph: Graph,
    readonly id: number,
    readonly shape: readonly number[],
    readonly dtype: DType,
  ) {}
}

/** g.attention()'s options: the mask, the score modifiers, and a packed batch or key padding. */
export interface AttentionOptions extends ScoreMods {
  causal?: boolean;
  /** Query t at position t + qOffset (default S - T); a g.scalar() for queries continuing a KV cache. */
  qOffset?: number | ScalarRef;
  /** u32 [n + 1]: the starts of n sequences packed along T = S, then T. */
  cuSeqlens?: SymbolicTensor;
  /** u32 [B, S]: 1 for a real key, 0 for padding. */
  keyMask?: SymbolicTensor;
}

/** g.decodeAttention()'s options. */
export interface DecodeAttentionOptions extends ScoreMods {
  length: number | ScalarRef;
  chunk?: number;
  keyMask?: SymbolicTensor;
}

export class Graph {
  /** @internal The nodes as plain data. */
  readonly nodes: IRNode[] = [];
  /** @internal Data behind constant and state nodes. */
  readonly bound = new Map<number, Tensor | AnyTypedArray>();
  readonly scalars = new Set<string>();
  private names = new Set<string>();

  /** @internal Use engine.graph(). */
  constructor(
    readonly engine: GPUContext,
    readonly label: string,
  ) {
    engine.assertAlive(`graph '${label}'`);
  }

  private readonly quantized = new Map<QuantizedTensor, SymbolicTensor[]>();

  private claim(kind: string, name: string): void {
    if (typeof name !== 'string' || !name) throw new ShapeError(`${kind}: a name is required`);
    if (this.names.has(name)) throw new ShapeError(`${kind} '${name}': the name is already used in this graph`);
    this.names.add(name);
  }

  private push(node: Omit<IRNode, 'id'>): SymbolicTensor {
    const use = node.kind === 'op' ? `${node.op}` : `${node.kind} '${node.name}'`;
    this.engine.checkBindingSize(use, node.shape, paddedBytes(numel(node.shape), node.dtype));
    const n: IRNode = { ...node, id: this.nodes.length };
    this.nodes.push(n);
    return new SymbolicTensor(this, n.id, n.shape, n.dtype);
  }

  /** A value fed on every run: `plan.run({ [name]: data })`. */
  input(name: string, shape: readonly number[], dtype: DType = 'f32'): SymbolicTensor {
    checkShape(shape, `input '${name}'`);
    this.claim('input', name);
    return this.push({ kind: 'input', name, inputs: [], attrs: {}, shape: [...shape], dtype });
  }

  /**
   * Weights, uploaded once when the plan is compiled. The same Float32Array (or Tensor) used by several
   * plans is uploaded once and shared.
   */
  constant(name: string, data: AnyTypedArray | Tensor, shape?: readonly number[]): SymbolicTensor {
    // The same data bound twice in one graph (a tied lm_head, a weight read by two ops) is one node.
    const seen = this.constantOf.get(data);
    if (seen && (!shape || (shape.length === seen.shape.length && shape.every((d, i) => d === seen.shape[i])))) return seen;
    this.claim('constant', name);
    const dtype = data instanceof Tensor ? data.dtype : dtypeOf(data);
    if (!dtype) throw new ShapeError(`constant '${name}': data must be a Float32Array, Uint32Array, Int32Array or Tensor`);
    const s = shape ?? (data instanceof Tensor ? data.shape : [data.length]);
    checkShape(s, `constant '${name}'`);
    const length = data instanceof Tensor ? data.size : data.length;
    if (numel(s) !== length) {
      // typed-array constants are 32-bit types; packed weights come as Tensors
      throw new ShapeError(`constant '${name}': ${length} elements do not fill shape ${formatShape(s)} (${numel(s)} elements)`);
    }
    if (data instanceof Tensor) this.checkTensor(data, `constant '${name}'`);
    const t = this.push({ kind: 'constant', name, inputs: [], attrs: {}, shape: [...s], dtype });
    this.bound.set(t.id, data);
    if (!seen) this.constantOf.set(data, t);
    return t;
  }

  private readonly constantOf = new Map<AnyTypedArray | Tensor, SymbolicTensor>();

  /** A weight tensor as a constant of this graph, named by its label (once per graph however often used). */
  weight(t: Tensor): SymbolicTensor {
    return this.constantOf.get(t) ?? this.constant(this.names.has(t.label) ? `${t.label}#${this.nodes.length}` : t.label, t);
  }

  /** A tensor that persists across runs (a KV cache, LSTM h/c). Several plans may share it. */
  state(name: string, tensor: Tensor): SymbolicTensor {
    this.claim('state', name);
    if (!(tensor instanceof Tensor)) throw new ShapeError(`state '${name}': a Tensor (engine.empty() or engine.tensor()) is required`);
    this.checkTensor(tensor, `state '${name}'`);
    const t = this.push({ kind: 'state', name, inputs: [], attrs: {}, shape: tensor.shape, dtype: tensor.dtype });
    this.bound.set(t.id, tensor);
    return t;
  }

  /** A tensor bound to this graph must be alive and live on this graph's engine (its device). */
  private checkTensor(t: Tensor, use: string): void {
    t.assertAlive(use);
    if (t.engine !== this.engine) {
      throw new ArgumentError(
        `${use}: tensor '${t.label}' ${formatShape(t.shape)} belongs to another engine (engine '${t.engine.label}'); upload it with this engine`,
      );
    }
  }

  /** A number that changes per run (position, current length), read by kernels from a uniform. */
  scalar(name: string): ScalarRef {
    this.claim('scalar', name);
    this.scalars.add(name);
    return { scalar: name };
  }

  /**
   * Adds any registered op, its attributes checked by tsc against OpAttrs[name] (optional where every
   * attribute is); the op's descriptor infers and checks the output shape.
   */
  op<N extends OpName>(name: N, inputs: readonly SymbolicTensor[], ...[attrs]: AttrsArg<N>): SymbolicTensor {
    for (const [i, t] of inputs.entries()) {
      if (!(t instanceof SymbolicTensor)) throw new ShapeError(`${name}: input ${i} is not a tensor of this graph`);
      if (t.graph !== this) throw new ShapeError(`${name}: input ${i} ${formatShape(t.shape)} belongs to another graph`);
    }
    const a = (attrs ?? {}) as OpAttrs[N];
    const out = getOp(name).infer(
      inputs.map((t) => info(this.nodes[t.id])),
      a,
    );
    checkShape(out.shape, name);
    return this.push({ kind: 'op', op: name, inputs: inputs.map((t) => t.id), attrs: { ...a }, shape: out.shape, dtype: out.dtype });
  }

  /**
   * a [..., M, K] × b [K, N] (or b [N, K] with transposeB), with an optional bias [N]. With act
   * 'swiglu' the output columns pair up (gate, up) → silu(gate) · up, [..., M, N / 2] (see swigluRows).
   * `delta` [..., M, N] is added to the product before bias and activation (a LoRA update).
   */
  matmul(
    a: SymbolicTensor,
    b: SymbolicTensor,
    options: { transposeB?: boolean; bias?: SymbolicTensor; act?: 'swiglu'; delta?: SymbolicTensor } = {},
  ): SymbolicTensor {
    const attrs: MatmulAttrs = {
      transposeB: !!options.transposeB,
      bias: !!options.bias,
      ...(options.delta ? { delta: true } : {}),
      ...(options.act ? { act: options.act } : {}),
    };
    return this.op('matmul', [a, b, ...(options.delta ? [options.delta] : []), ...(options.bias ? [options.bias] : [])], attrs);
  }

  /**
   * The packed words (and scales, for int8 schemes) of `w` as the leading inputs of an op that reads
   * it, constants once per graph however many ops read them.
   */
  private quantConstants(w: QuantizedTensor, name = w.qweight.label): SymbolicTensor[] {
    let c = this.quantized.get(w);
    if (!c) {
      c = [this.constant(`${name}#q`, w.qweight), ...(w.scales ? [this.constant(`${name}#scales`, w.scales)] : [])];
      this.quantized.set(w, c);
    }
    return c;
  }

  /**
   * x [..., K] times int8 weights (from engine.quantize() or QuantizedTensor.upload()), dequantised in
   * registers; bias, GELU and residual consumers fold into it like into matmul. act 'swiglu' and
   * `delta` as matmul's.
   */
  dequantMatmul(
    x: SymbolicTensor,
    w: QuantizedTensor,
    options: { bias?: SymbolicTensor; name?: string; dot4?: boolean; act?: 'swiglu'; delta?: SymbolicTensor } = {},
  ): SymbolicTensor {
    const packed = this.quantConstants(w, options.name);
    const { scheme, K, N } = w.layout;
    const epilogue = [...(options.delta ? [options.delta] : []), ...(options.bias ? [options.bias] : [])];
    return this.op('dequant_matmul', [x, ...packed, ...epilogue], {
      scheme,
      K,
      N,
      scales: !!w.scales,
      ...(options.delta ? { delta: true } : {}),
      bias: !!options.bias,
      dot4: !!options.dot4,
      ...(options.act ? { act: options.act } : {}),
    });
  }

  /** The untiled baseline kernel, for benchmarks. */
  matmulNaive(a: SymbolicTensor, b: SymbolicTensor): SymbolicTensor {
    return this.op('matmul_naive', [a, b]);
  }

  add(a: SymbolicTensor, b: SymbolicTensor): SymbolicTensor {
    return this.op('add', [a, b]);
  }

  mul(a: SymbolicTensor, b: SymbolicTensor): SymbolicTensor {
    return this.op('mul', [a, b]);
  }

  gelu(x: SymbolicTensor): SymbolicTensor {
    return this.op('gelu', [x]);
  }

  /** GELU's exact erf form (BERT's 'gelu'), ReLU, SiLU or tanh, elementwise; 'gelu_tanh' is gelu() (which matmul fuses). */
  activation(x: SymbolicTensor, fn: ActivationFn | 'gelu_tanh'): SymbolicTensor {
    return fn === 'gelu_tanh' ? this.gelu(x) : this.op('activation', [x], { fn });
  }

  /**
   * Writes `value` into a state in place at `offset` elements (a number or a g.scalar() reference, e.g.
   * `{ scalar: 'pos', scale: rowSize }`). Returns the updated state; read it through the result so
   * the read is ordered after the write. Other readers of the old state run before the write.
   */
  assign(
    state: SymbolicTensor,
    value: SymbolicTensor,
    options: Omit<AssignAttrs, 'offset'> & { offset?: number | ScalarRef } = {},
  ): SymbolicTensor {
    return this.writeOp('assign', state, [state, value], { ...options, offset: options.offset ?? 0 });
  }

  /**
   * Adds an op whose output is `target`'s state buffer, updated in place. `target` is a state or the
   * result of an earlier in-place write; reading the returned tensor orders the read after the write.
   */
  writeOp<N extends OpName>(op: N, target: SymbolicTensor, inputs: readonly SymbolicTensor[], ...attrs: AttrsArg<N>): SymbolicTensor {
    const node = this.nodes[target.id];
    const state = node?.kind === 'state' ? node.id : node?.writes;
    if (state === undefined || target.graph !== this)
      throw new ShapeError(`${op}: the target ${formatShape(target.shape)} is not a state of this graph (nor a write to one)`);
    const t = this.op(op, inputs, ...attrs);
    this.nodes[t.id].writes = state;
    return t;
  }

  /** One LSTM step for one layer, updating its work buffer [T + 3, H] (see shaders/lstm.wgsl). */
  lstmCell(xproj: SymbolicTensor, whhT: SymbolicTensor, work: SymbolicTensor, t: number): SymbolicTensor {
    return this.writeOp('lstm_cell', work, [xproj, whhT, work], { t });
  }

  /** Layer norm over the last dimension (PyTorch semantics); with `residual`, of x + residual. */
  layerNorm(
    x: SymbolicTensor,
    gamma: SymbolicTensor,
    beta: SymbolicTensor,
    options: { eps?: number; residual?: SymbolicTensor } = {},
  ): SymbolicTensor {
    const inputs = options.residual ? [x, gamma, beta, options.residual] : [x, gamma, beta];
    return this.op('layernorm', inputs, { eps: options.eps ?? 1e-5, residual: !!options.residual });
  }

  /** RMS norm over the last dimension (Llama's RMSNorm: no mean, no beta); with `residual`, of x + residual. */
  rmsNorm(x: SymbolicTensor, gamma: SymbolicTensor, options: { eps?: number; residual?: SymbolicTensor } = {}): SymbolicTensor {
    const inputs = options.residual ? [x, gamma, options.residual] : [x, gamma];
    return this.op('rmsnorm', inputs, { eps: options.eps ?? 1e-6, residual: !!options.residual });
  }

  /** Scores [H, T, S] times `scale`, keys after each query's position masked (the unfused baseline). */
  causalMask(scores: SymbolicTensor, scale: number, qOffset?: number): SymbolicTensor {
    return this.op('causal_mask', [scores], { scale, qOffset });
  }

  /** Softmax over the last dimension. */
  softmax(x: SymbolicTensor): SymbolicTensor {
    return this.op('softmax', [x]);
  }

  /** Token + position embedding: wte[ids[t]] + wpe[pos + t]; `pos` a number or a g.scalar(). */
  embedding(
    ids: SymbolicTensor,
    wte: SymbolicTensor,
    wpe: SymbolicTensor,
    options: { pos?: number | ScalarRef; firstId?: number; addPosition?: boolean } = {},
  ): SymbolicTensor {
    return this.op('embedding', [ids, wte, wpe], { ...options, pos: options.pos ?? 0 });
  }

  /** The same embedding with the token table in int8 (rows are tokens: quantized with K = C, N = V). */
  dequantEmbedding(
    ids: SymbolicTensor,
    wte: QuantizedTensor,
    wpe: SymbolicTensor,
    options: { pos?: number | ScalarRef; firstId?: number; addPosition?: boolean; name?: string } = {},
  ): SymbolicTensor {
    const { name, ...rest } = options;
    const packed = this.quantConstants(wte, name);
    const { scheme, K: C, N: V } = wte.layout;
    return this.op('dequant_embedding', [ids, ...packed, wpe], { ...rest, pos: rest.pos ?? 0, scheme, V, C, scales: !!wte.scales });
  }

  /** a and b joined along the last dimension. */
  concat(a: SymbolicTensor, b: SymbolicTensor): SymbolicTensor {
    return this.op('concat', [a, b]);
  }

  /** [T, parts * C] -> [heads, T, C / heads], taking block `part` (q, k, v of a fused QKV projection). */
  splitHeads(x: SymbolicTensor, heads: number, part = 0, parts = 1): SymbolicTensor {
    return this.op('split_heads', [x], { heads, part, parts });
  }

  /**
   * `heads` heads of `headDim` from column `offset` of x [T, row] → [heads, T, headDim]; with `group`,
   * output head h is input head h / group (repeated KV heads); with `rope`, each rotated for positions
   * pos, pos + 1, … from the tables (ropeTables), in the same pass.
   */
  heads(
    x: SymbolicTensor,
    o: {
      heads: number;
      headDim: number;
      offset?: number;
      group?: number;
      rope?: { cos: SymbolicTensor; sin: SymbolicTensor; pos: UniformValue };
    },
  ): SymbolicTensor {
    const attrs = { heads: o.heads, headDim: o.headDim, offset: o.offset ?? 0, part: 0, parts: 1, group: o.group ?? 1 };
    if (!o.rope) return this.op('split_heads', [x], attrs);
    return this.op('split_heads', [x, o.rope.cos, o.rope.sin], { ...attrs, rope_cos: true, rope_sin: true, pos: o.rope.pos });
  }

  /** [heads, T, D] -> [T, heads * D]. */
  mergeHeads(x: SymbolicTensor): SymbolicTensor {
    return this.op('merge_heads', [x]);
  }

  /**
   * Fused softmax attention over q [H, T, D], k and v [KVH, S, D] (KVH dividing H), head dims up to 256.
   * `causal` hides keys after each query (query t at position t + qOffset, default S - T); the score
   * modifiers (`scale`, default 1/sqrt(D); `softcap`; `alibi`, the maximum bias; `window`) are the score
   * hook's (ops/attention_score.ts). `cuSeqlens` (u32 [n + 1]) runs a packed batch of n sequences
   * concatenated along T = S, each attending only to itself; `keyMask` (u32 [B, S], 0 = padding) hides
   * padding keys from the query heads of batch row h / (H / B).
   */
  attention(q: SymbolicTensor, k: SymbolicTensor, v: SymbolicTensor, options: AttentionOptions = {}): SymbolicTensor {
    const { cuSeqlens, keyMask, causal, ...mods } = options;
    const extra = [cuSeqlens, keyMask].filter((t): t is SymbolicTensor => !!t);
    return this.op('attention', [q, k, v, ...extra], { ...mods, causal: !!causal, cu_seqlens: !!cuSeqlens, key_mask: !!keyMask });
  }

  /**
   * One query per head, q [H, 1, D], against the first `length` rows of KV caches [KVH, maxLen, D]
   * (f32, or f16 caches of packed halves; `length` a number or a g.scalar(), e.g. `{ scalar: 'pos',
   * add: 1 }`), split across workgroups; the query sits at position length - 1. The score modifiers and
   * `keyMask` ([B, maxLen]) are attention()'s.
   */
  decodeAttention(q: SymbolicTensor, k: SymbolicTensor, v: SymbolicTensor, options: DecodeAttentionOptions): SymbolicTensor {
    const { keyMask, ...rest } = options;
    const partial = this.op('attention_decode', keyMask ? [q, k, v, keyMask] : [q, k, v], { ...rest, key_mask: !!keyMask });
    return this.op('attention_combine', [partial]);
  }

  /**
   * Block-sparse attention: each query block attends only to the key blocks `layout` lists (see
   * sparse_layout.ts for the builders), with exact masking inside blocks. q [H, T, D], k, v [KVH, T, D].
   * Scale, soft-cap and ALiBi as attention()'s (the window is the layout's).
   */
  sparseAttention(
    q: SymbolicTensor,
    k: SymbolicTensor,
    v: SymbolicTensor,
    layout: BlockLayout,
    mods: Omit<ScoreMods, 'window'> = {},
  ): SymbolicTensor {
    const [rowPtr, colIdx] = this.layoutInputs(layout);
    return this.op('sparse_attention', [q, k, v, rowPtr, colIdx], { ...mods, layout });
  }

  /** One query per head at position `length - 1` against KV caches [KVH, S, D] (f32 or f16) under a layout for S. */
  sparseDecodeAttention(
    q: SymbolicTensor,
    k: SymbolicTensor,
    v: SymbolicTensor,
    layout: BlockLayout,
    options: { length: number | ScalarRef } & Omit<ScoreMods, 'window'>,
  ): SymbolicTensor {
    const [rowPtr, colIdx] = this.layoutInputs(layout);
    return this.op('sparse_attention_decode', [q, k, v, rowPtr, colIdx], { ...options, layout });
  }

  private layouts = new Map<BlockLayout, SymbolicTensor[]>();
  private layoutInputs(layout: BlockLayout): SymbolicTensor[] {
    let t = this.layouts.get(layout);
    if (!t) {
      const id = this.layouts.size;
      if (!layout.colIdx?.length) throw new ShapeError('sparse attention: the layout is empty (no block pairs)');
      t = [this.constant(`layout${id}.row_ptr`, layout.rowPtr), this.constant(`layout${id}.col_idx`, layout.colIdx)];
      this.layouts.set(layout, t);
    }
    return t;
  }

  /** The next token id, u32 [1], from the last row of logits; greedy unless temperature > 0. */
  sample(logits: SymbolicTensor, options: SampleAttrs = {}): SymbolicTensor {
    return this.op('sample', [logits], options);
  }

  /** Rows scaled to unit L2 norm. */
  normalize(x: SymbolicTensor): SymbolicTensor {
    return this.op('normalize', [x]);
  }

  /**
   * The k largest scores, skipping the first `exclude` indices listed in `excludeList` (u32): u32 [2k],
   * indices then the scores' f32 bits.
   */
  topk(scores: SymbolicTensor, excludeList: SymbolicTensor, k: number, options: { exclude?: number | ScalarRef } = {}): SymbolicTensor {
    const attrs = { k, exclude: options.exclude ?? 0 };
    if (numel(scores.shape) <= TOPK_CHUNK) return this.op('topk', [scores, excludeList], attrs);
    return this.op('topk_merge', [this.op('topk_partial', [scores, excludeList], attrs)], { k }); // many workgroups, then one
  }

  /** Rows [start, start + count) along the first dimension; `start` a number or a g.scalar(). */
  slice(x: SymbolicTensor, start: number | ScalarRef, count: number): SymbolicTensor {
    return this.op('slice', [x], { start, count });
  }

  /** Compiles the graph into a plan: memory planned, pipelines and bind groups created ahead. */
  compile<K extends string>(outputs: Record<K, SymbolicTensor>, options: CompileOptions = {}): Promise<Plan<K>> {
    return Plan.compile(this, outputs, options);
  }
}

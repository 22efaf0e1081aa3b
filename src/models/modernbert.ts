// ModernBERT (Hugging Face's modeling_modernbert) as an encoder definition, over packed sequences:
//   x = LayerNorm(tok_embeddings[ids])                               (no position table: RoPE)
//   per layer i: x += Wo(attention(rope(q), rope(k), v))   of attn_norm(x) (identity on layer 0)
//                x += Wo(act(input) · gate)                 input, gate = Wi(mlp_norm(x)) (GeGLU)
//   h = final_norm(x)
// Layer i is global (every global_attn_every_n_layers-th, RoPE θ global_rope_theta) or local: keys
// with |q − k| ≤ local_attention / 2 (θ local_rope_theta). Norms and linears have no bias unless the
// config says so. Each token's RoPE angles are rows of the tables gathered at its position within its
// own sequence, so sequences packed together each start at position 0. Heads: masked LM (head.dense,
// act, head.norm, the decoder tied to tok_embeddings + decoder.bias) and a classifier after the same
// head, over the first token or the mean of the tokens (classifier_pooling), per sequence (default),
// per token (*ForTokenClassification) or as QA's start / end (*ForQuestionAnswering).
import { ShapeError, UnsupportedError } from '../errors';
import type { GPUContext } from '../gpu/engine';
import type { Tensor } from '../gpu/tensor';
import type { Graph, SymbolicTensor } from '../graph/graph';
import { ropeTables } from '../ops/heads';
import type { QuantScheme } from '../ops/quantize';
import { Keys, fitScheme } from './checkpoint';
import { ACTS, type Act, type EncoderConfig, type EncoderDef, type HeadTask, type PackedInputs } from './encoder-def';
import { Linear } from './linear';
import { TokenTable, noPositions } from './token-table';

interface Shape {
  type: 'modernbert';
  vocab: number;
  hidden: number;
  layers: number;
  heads: number;
  intermediate: number;
  positions: number;
  typeVocab: 0;
  pad: null;
  act: Act;
  headAct: Act;
  eps: number;
  /** The half window of local layers (local_attention / 2), and which layers are global. */
  halfWindow: number;
  global: boolean[];
  theta: { global: number; local: number };
  pooling: 'cls' | 'mean';
  task: 'classify' | 'tokens' | 'qa';
}

function resolve(c: EncoderConfig): Shape {
  const sizes = {
    vocab_size: c.vocab_size,
    hidden_size: c.hidden_size,
    num_hidden_layers: c.num_hidden_layers,
    num_attention_heads: c.num_attention_heads,
    intermediate_size: c.intermediate_size,
  };
  for (const [k, v] of Object.entries(sizes))
    if (!(Number.isInteger(v) && (v as number) > 0))
      throw new ShapeError(`Encoder config (modernbert): ${k} must be a positive integer, got ${v}`);
  const [C, H, L] = [c.hidden_size!, c.num_attention_heads!, c.num_hidden_layers!];
  if (C % H !== 0) throw new ShapeError(`Encoder config (modernbert): hidden size ${C} is not divisible by ${H} heads`);
  const act = (name: string | undefined) => {
    const a = ACTS[name ?? 'gelu'];
    if (!a || !Object.hasOwn(ACTS, name ?? 'gelu'))
      throw new UnsupportedError(
        `Encoder config (modernbert): activation '${name}' is not supported; supported: ${Object.keys(ACTS).join(', ')}`,
      );
    return a;
  };
  const every = c.global_attn_every_n_layers ?? 3;
  const global = Array.from({ length: L }, (_, i) => (c.layer_types ? c.layer_types[i] === 'full_attention' : i % every === 0));
  const rope = (c as { rope_parameters?: Record<string, { rope_theta?: number }> }).rope_parameters; // transformers 5
  const pooling = c.classifier_pooling ?? 'cls';
  if (pooling !== 'cls' && pooling !== 'mean')
    throw new UnsupportedError(`Encoder config (modernbert): classifier_pooling '${pooling}' is not supported; supported: cls, mean`);
  const arch = c.architectures?.[0] ?? '';
  return {
    type: 'modernbert',
    vocab: c.vocab_size,
    hidden: C,
    layers: L,
    heads: H,
    intermediate: c.intermediate_size!,
    positions: Math.min(c.max_position_embeddings ?? 8192, 8192),
    typeVocab: 0,
    pad: null,
    act: act(c.hidden_activation),
    headAct: act(c.classifier_activation ?? 'gelu'),
    eps: c.norm_eps ?? 1e-5,
    halfWindow: Math.floor((c.local_attention ?? 128) / 2),
    global,
    theta: {
      global: rope?.full_attention?.rope_theta ?? c.global_rope_theta ?? 160000,
      local: rope?.sliding_attention?.rope_theta ?? c.local_rope_theta ?? 10000,
    },
    pooling,
    task: arch.endsWith('ForTokenClassification') ? 'tokens' : arch.endsWith('ForQuestionAnswering') ? 'qa' : 'classify',
  };
}

type Norm = [gamma: Tensor, beta: Tensor];

interface Layer {
  attnNorm: Norm | null;
  qkv: Linear;
  o: Linear;
  mlpNorm: Norm;
  up: Linear; // Wi's first half: the input of the GeGLU
  gate: Linear; // Wi's second half
  down: Linear;
}

/** Loads a ModernBERT checkpoint (keys with or without 'model.') and returns its definition. */
export async function loadModernBert(
  engine: GPUContext,
  bytes: Uint8Array | ArrayBuffer | (Uint8Array | ArrayBuffer)[],
  config: EncoderConfig,
  store: (dtype: string) => QuantScheme | undefined,
): Promise<EncoderDef> {
  const s = resolve(config);
  const { hidden: C, intermediate: I, vocab: V } = s;
  const D = C / s.heads;
  const keys = new Keys(bytes, 'modernbert', 'model.', 'embeddings.tok_embeddings.weight');
  const p = keys.prefix;
  const owned: { dispose(): void }[] = [];
  const keep = <T extends { dispose(): void }>(x: T): T => {
    owned.push(x);
    return x;
  };
  const tensor = (data: Float32Array, shape: number[], label: string) => keep(engine.tensor(data, shape, label));
  const zeros = tensor(new Float32Array(C), [C], 'modernbert zero bias');
  const norm = (name: string): Norm => [
    tensor(keys.read(`${name}.weight`, [C]), [C], `${name}.weight`),
    keys.has(`${name}.bias`) ? tensor(keys.read(`${name}.bias`, [C]), [C], `${name}.bias`) : zeros,
  ];
  /** Rows [from, from + N) of the matrix `name` [*, K] (and its bias, if stored) as a Linear. */
  const linear = async (name: string, N: number, K: number, rows = 0, total = N) => {
    const w = keys.read(`${name}.weight`, [total, K]).slice(rows * K, (rows + N) * K);
    const bias = keys.has(`${name}.bias`) ? keys.read(`${name}.bias`, [total]).slice(rows, rows + N) : undefined;
    const quantize = fitScheme(store(keys.dtype(`${name}.weight`)), K);
    return keep(await Linear.load(engine, w, K, N, { layout: 'NK', bias, quantize, label: total === N ? name : `${name} rows ${rows}..` }));
  };
  try {
    const tok = keep(
      await TokenTable.load(engine, keys.read(`${p}embeddings.tok_embeddings.weight`, [V, C]), V, C, { label: 'tok_embeddings' }),
    );
    const embNorm = norm(`${p}embeddings.norm`);
    const layers: Layer[] = [];
    for (let i = 0; i < s.layers; i++) {
      const l = `${p}layers.${i}.`;
      layers.push({
        attnNorm: i === 0 ? null : norm(`${l}attn_norm`),
        qkv: await linear(`${l}attn.Wqkv`, 3 * C, C),
        o: await linear(`${l}attn.Wo`, C, C),
        mlpNorm: norm(`${l}mlp_norm`),
        up: await linear(`${l}mlp.Wi`, I, C, 0, 2 * I),
        gate: await linear(`${l}mlp.Wi`, I, C, I, 2 * I),
        down: await linear(`${l}mlp.Wo`, C, I),
      });
    }
    const finalNorm = norm(`${p}final_norm`);
    const rope = (theta: number) => {
      const t = ropeTables(
        Float64Array.from({ length: D / 2 }, (_, j) => 1 / theta ** ((2 * j) / D)),
        s.positions,
      );
      return {
        cos: tensor(t.cos, [s.positions, D / 2], `rope cos θ=${theta}`),
        sin: tensor(t.sin, [s.positions, D / 2], `rope sin θ=${theta}`),
      };
    };
    const ropes = { global: rope(s.theta.global), local: rope(s.theta.local) };
    const head = keys.has('head.dense.weight') ? { dense: await linear('head.dense', C, C), norm: norm('head.norm') } : null;
    const decoderBias = head && keys.has('decoder.bias') ? tensor(keys.read('decoder.bias', [V]), [V], 'decoder.bias') : null;
    const labels = keys.has('classifier.weight') ? keys.shape('classifier.weight')[0] : 0;
    if (s.task === 'qa' && labels !== 2)
      throw new ShapeError(`Encoder (modernbert): a question-answering classifier has 2 outputs (start, end), this one ${labels}`);
    const classifier = head && labels ? await linear('classifier', labels, C) : null;
    const w = { tok, embNorm, layers, finalNorm, ropes, head, decoderBias, classifier, labels, zeros };
    return definition(s, w, owned);
  } catch (e) {
    for (const x of owned) x.dispose();
    throw e;
  }
}

interface Weights {
  tok: TokenTable;
  embNorm: Norm;
  layers: Layer[];
  finalNorm: Norm;
  ropes: Record<'global' | 'local', { cos: Tensor; sin: Tensor }>;
  head: { dense: Linear; norm: Norm } | null;
  decoderBias: Tensor | null;
  classifier: Linear | null;
  labels: number;
  zeros: Tensor;
}

function definition(s: Shape, w: Weights, owned: { dispose(): void }[]): EncoderDef {
  const D = s.hidden / s.heads;
  const ln = (g: Graph, x: SymbolicTensor, n: Norm) => g.layerNorm(x, g.weight(n[0]), g.weight(n[1]), { eps: s.eps });
  const predictionHead = (g: Graph, x: SymbolicTensor) => ln(g, g.activation(w.head!.dense.apply(g, x), s.headAct), w.head!.norm);
  return {
    shape: s,
    heads: {
      maskedLM: !!w.decoderBias,
      classify: !!w.classifier && s.task === 'classify',
      tokenClassify: !!w.classifier && s.task === 'tokens',
      questionAnswering: !!w.classifier && s.task === 'qa',
      nextSentence: false,
    },
    classLabels: s.task === 'classify' && w.classifier ? w.labels : 0,
    tokenLabels: s.task === 'tokens' && w.classifier ? w.labels : 0,
    pooling: s.pooling,
    encode(g: Graph, x: PackedInputs): SymbolicTensor {
      let h = ln(g, w.tok.embed(g, x.ids, null, 0), w.embNorm); // [T, C]
      // Each token's angles: rows of the tables at its position within its sequence.
      const half = D / 2;
      const gather = (t: Tensor) => g.embedding(x.pos, g.weight(t), noPositions(g, half), { addPosition: false }); // [T, D / 2]
      const angles = {
        global: { cos: gather(w.ropes.global.cos), sin: gather(w.ropes.global.sin), pos: 0 },
        local: { cos: gather(w.ropes.local.cos), sin: gather(w.ropes.local.sin), pos: 0 },
      };
      w.layers.forEach((L, i) => {
        const a = L.attnNorm ? ln(g, h, L.attnNorm) : h;
        const qkv = L.qkv.apply(g, a); // [T, 3C]: q, k, v
        const rope = s.global[i] ? angles.global : angles.local;
        const q = g.heads(qkv, { heads: s.heads, headDim: D, rope });
        const k = g.heads(qkv, { heads: s.heads, headDim: D, offset: s.hidden, rope });
        const v = g.heads(qkv, { heads: s.heads, headDim: D, offset: 2 * s.hidden });
        const o = g.attention(q, k, v, { cuSeqlens: x.cuSeqlens, ...(s.global[i] ? {} : { window: s.halfWindow + 1 }) });
        h = g.add(L.o.apply(g, g.mergeHeads(o)), h);
        const m = ln(g, h, L.mlpNorm);
        h = g.add(L.down.apply(g, g.mul(g.activation(L.up.apply(g, m), s.act), L.gate.apply(g, m))), h);
      });
      return ln(g, h, w.finalNorm);
    },
    head(task: HeadTask, g: Graph, h: SymbolicTensor, rows: () => SymbolicTensor): SymbolicTensor {
      if (task === 'mlm') return g.add(w.tok.logits(g, predictionHead(g, h)), g.weight(w.decoderBias!)); // [T, V]
      if (task === 'classify') return w.classifier!.apply(g, predictionHead(g, rows())); // [B, labels]
      if (task === 'tokens' || task === 'qa') return w.classifier!.apply(g, predictionHead(g, h)); // [T, labels]
      throw new UnsupportedError(`Encoder (modernbert): no ${task} head`);
    },
    tensors: () => owned,
  };
}

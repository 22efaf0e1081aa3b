// The BERT family as encoder definitions (Hugging Face's modeling_bert / modeling_roberta /
// modeling_distilbert): post-norm blocks over packed sequences,
//   x = LayerNorm(word[ids] + position[pos] + token_type[types])       (DistilBERT: no token types)
//   per layer: x = LayerNorm(x + o(attention(q(x), k(x), v(x))));  x = LayerNorm(x + down(act(up(x))))
// and the heads a checkpoint's keys carry: masked LM (a transform dense + act + LayerNorm, then the
// word embeddings tied as the decoder, plus a bias), sequence classification (a dense + tanh, or
// DistilBERT's + ReLU, over the first token, then the labels), token classification (a classifier over
// every token), QA (qa_outputs: start and end logits) and BERT's next-sentence head over the pooler.
// Keys with or without the 'bert.' / 'roberta.' / 'distilbert.' prefix (sentence-transformers saves
// the bare model), legacy LayerNorm.gamma / beta names, one file or shards (checkpoint.ts).
import { ShapeError, UnsupportedError } from '../errors';
import type { GPUContext } from '../gpu/engine';
import type { Tensor } from '../gpu/tensor';
import type { Graph, SymbolicTensor } from '../graph/graph';
import {
  ACTS,
  type Act,
  type EncoderConfig,
  type EncoderDef,
  type EncoderShape,
  type HeadTask,
  type LoraDelta,
  type PackedInputs,
} from './encoder-def';
import { Keys, concat, fitScheme, sameData } from './checkpoint';
import type { QuantScheme } from '../ops/quantize';
import { Linear } from './linear';
import type { LoraPart, LoraSite } from './lora';
import { TokenTable } from './token-table';

export const BERT_TYPES = ['bert', 'roberta', 'xlm-roberta', 'distilbert'] as const;
export type BertType = (typeof BERT_TYPES)[number];

/** A config with its sizes resolved and checked. */
export interface BertShape extends EncoderShape {
  type: BertType;
  layers: number;
  heads: number;
  intermediate: number;
  act: Act;
  eps: number;
  /** What a 'classifier' key is, from `architectures` (*ForTokenClassification: per token), else from its neighbours. */
  tokenClassifier: boolean | null;
}

/** A bert / roberta / xlm-roberta / distilbert config resolved (the Encoder has checked model_type). */
export function resolveBertConfig(c: EncoderConfig): BertShape {
  const type = c.model_type ?? '';
  const distil = type === 'distilbert';
  const sizes = {
    vocab_size: c.vocab_size,
    hidden_size: distil ? c.dim : c.hidden_size,
    num_hidden_layers: distil ? c.n_layers : c.num_hidden_layers,
    num_attention_heads: distil ? c.n_heads : c.num_attention_heads,
    intermediate_size: distil ? c.hidden_dim : c.intermediate_size,
    max_position_embeddings: c.max_position_embeddings ?? 512,
  };
  for (const [k, v] of Object.entries(sizes))
    if (!(Number.isInteger(v) && (v as number) > 0))
      throw new ShapeError(`Encoder config (${type}): ${k} must be a positive integer, got ${v}`);
  const C = sizes.hidden_size as number;
  const H = sizes.num_attention_heads as number;
  if (C % H !== 0) throw new ShapeError(`Encoder config: hidden size ${C} is not divisible by ${H} heads`);
  const actName = (distil ? c.activation : c.hidden_act) ?? 'gelu';
  const act = ACTS[actName];
  if (!act || !Object.hasOwn(ACTS, actName))
    throw new UnsupportedError(`Encoder config: activation '${actName}' is not supported; supported: ${Object.keys(ACTS).join(', ')}`);
  const posType = (c as { position_embedding_type?: string }).position_embedding_type ?? 'absolute';
  if (posType !== 'absolute')
    throw new UnsupportedError(`Encoder config: position_embedding_type '${posType}' is not supported; supported: absolute`);
  const roberta = type === 'roberta' || type === 'xlm-roberta';
  return {
    type: type as BertType,
    vocab: c.vocab_size,
    hidden: C,
    layers: sizes.num_hidden_layers as number,
    heads: H,
    intermediate: sizes.intermediate_size as number,
    act,
    positions: sizes.max_position_embeddings,
    typeVocab: distil ? 0 : (c.type_vocab_size ?? 2),
    eps: distil ? 1e-12 : (c.layer_norm_eps ?? 1e-12),
    pad: roberta ? (c.pad_token_id ?? 1) : null,
    tokenClassifier: c.architectures?.some((a) => a.endsWith('ForTokenClassification'))
      ? true
      : c.architectures?.some((a) => a.endsWith('ForSequenceClassification'))
        ? false
        : null,
  };
}

type Norm = [gamma: Tensor, beta: Tensor];

interface Layer {
  qkv: Linear; // [3C, C]: q, k, v rows
  o: Linear;
  ln1: Norm;
  up: Linear;
  down: Linear;
  ln2: Norm;
}

export interface BertWeights {
  word: TokenTable;
  position: TokenTable;
  tokenType: TokenTable | null;
  embNorm: Norm;
  layers: Layer[];
  /** The masked-LM head: transform, its activation and norm, the decoder (the word table unless untied) and bias. */
  mlm: { dense: Linear; act: Act; norm: Norm; decoder: TokenTable | null; bias: Tensor } | null;
  /** BERT's pooler: tanh(dense(h0)), for sequence classification and next-sentence prediction. */
  pooler: Linear | null;
  /** Sequence classification over the first token: out(act(dense(h0))), dense null for BERT's pooler. */
  classifier: { dense: Linear | null; act: 'tanh' | 'relu'; out: Linear; labels: number } | null;
  /** Token classification (NER): labels per token. */
  tokens: { out: Linear; labels: number } | null;
  /** Extractive question answering: start and end logits per token, [T, 2]. */
  qa: Linear | null;
  /** BERT's next-sentence prediction over the pooler: [is next, is random]. */
  nsp: Linear | null;
  /** The checkpoint's key prefix ('bert.', 'roberta.', 'distilbert.' or '' for a bare model), for LoRA module paths. */
  prefix: string;
}

/** Loads the weights `config` describes from safetensors bytes; on failure frees what it uploaded. */
export async function loadBertWeights(
  engine: GPUContext,
  bytes: Uint8Array | ArrayBuffer | (Uint8Array | ArrayBuffer)[],
  s: BertShape,
  store: (dtype: string) => QuantScheme | undefined,
): Promise<BertWeights> {
  const base = s.type === 'distilbert' ? 'distilbert.' : s.type === 'bert' ? 'bert.' : 'roberta.';
  const keys = new Keys(bytes, s.type, base, 'embeddings.word_embeddings.weight');
  const { hidden: C, vocab: V, intermediate: I } = s;
  const distil = s.type === 'distilbert';
  const p = keys.prefix;
  const owned: { dispose(): void }[] = [];
  const keep = <T extends { dispose(): void }>(x: T): T => {
    owned.push(x);
    return x;
  };
  const vector = (name: string, n: number) => keep(engine.tensor(keys.read(name, [n]), [n], name));
  const norm = (name: string): Norm => [vector(`${name}.weight`, C), vector(`${name}.bias`, C)];
  const table = async (name: string, rows: number) =>
    keep(await TokenTable.load(engine, keys.read(name, [rows, C]), rows, C, { label: name }));
  const linear = async (names: string[], N: number, K: number, label: string) => {
    const w = concat(names.map((n) => keys.read(`${n}.weight`, [N, K])));
    const b = concat(names.map((n) => keys.read(`${n}.bias`, [N])));
    return keep(
      await Linear.load(engine, w, K, N * names.length, {
        layout: 'NK',
        bias: b,
        quantize: fitScheme(store(keys.dtype(`${names[0]}.weight`)), K),
        label,
      }),
    );
  };
  const e = `${p}embeddings.`;
  try {
    const word = await table(`${e}word_embeddings.weight`, V);
    const position = await table(`${e}position_embeddings.weight`, s.positions);
    const tokenType = s.typeVocab > 0 ? await table(`${e}token_type_embeddings.weight`, s.typeVocab) : null;
    const embNorm = norm(`${e}LayerNorm`);
    const layers: Layer[] = [];
    for (let i = 0; i < s.layers; i++) {
      if (distil) {
        const l = `${p}transformer.layer.${i}.`;
        const a = `${l}attention.`;
        layers.push({
          qkv: await linear([`${a}q_lin`, `${a}k_lin`, `${a}v_lin`], C, C, `${a}qkv`),
          o: await linear([`${a}out_lin`], C, C, `${a}out_lin`),
          ln1: norm(`${l}sa_layer_norm`),
          up: await linear([`${l}ffn.lin1`], I, C, `${l}ffn.lin1`),
          down: await linear([`${l}ffn.lin2`], C, I, `${l}ffn.lin2`),
          ln2: norm(`${l}output_layer_norm`),
        });
      } else {
        const l = `${p}encoder.layer.${i}.`;
        const a = `${l}attention.self.`;
        layers.push({
          qkv: await linear([`${a}query`, `${a}key`, `${a}value`], C, C, `${a}qkv`),
          o: await linear([`${l}attention.output.dense`], C, C, `${l}attention.output.dense`),
          ln1: norm(`${l}attention.output.LayerNorm`),
          up: await linear([`${l}intermediate.dense`], I, C, `${l}intermediate.dense`),
          down: await linear([`${l}output.dense`], C, I, `${l}output.dense`),
          ln2: norm(`${l}output.LayerNorm`),
        });
      }
    }
    const pooler = keys.has(`${p}pooler.dense.weight`) ? await linear([`${p}pooler.dense`], C, C, `${p}pooler.dense`) : null;
    const mlm = await mlmHead();
    const { classifier, tokens } = await classifierHeads(pooler);
    const qa = keys.has('qa_outputs.weight') ? await linear(['qa_outputs'], 2, C, 'qa_outputs') : null;
    const nsp =
      pooler && keys.has('cls.seq_relationship.weight') ? await linear(['cls.seq_relationship'], 2, C, 'cls.seq_relationship') : null;
    return { word, position, tokenType, embNorm, layers, mlm, pooler, classifier, tokens, qa, nsp, prefix: p };
  } catch (err) {
    for (const x of owned) x.dispose();
    throw err;
  }

  /** The masked-LM head the keys carry, or null. */
  async function mlmHead(): Promise<BertWeights['mlm']> {
    const heads = {
      bert: ['cls.predictions.transform.dense', 'cls.predictions.transform.LayerNorm', 'cls.predictions.decoder', 'cls.predictions.bias'],
      roberta: ['lm_head.dense', 'lm_head.layer_norm', 'lm_head.decoder', 'lm_head.bias'],
      distilbert: ['vocab_transform', 'vocab_layer_norm', 'vocab_projector', 'vocab_projector.bias'],
    };
    const [dense, ln, decoder, bias] = heads[s.type === 'xlm-roberta' ? 'roberta' : s.type];
    if (!keys.has(`${dense}.weight`)) return null;
    const biasName = keys.has(bias) ? bias : `${decoder}.bias`;
    // RobertaLMHead applies the exact gelu whatever hidden_act says; BERT and DistilBERT use the config's.
    return {
      dense: await linear([dense], C, C, dense),
      act: s.type === 'roberta' || s.type === 'xlm-roberta' ? 'gelu_erf' : s.act,
      norm: norm(ln),
      // Tied to the word embeddings (Hugging Face's default) unless the file holds a different decoder.
      decoder:
        keys.has(`${decoder}.weight`) && !sameData(keys.read(`${decoder}.weight`, [V, C]), keys.read(`${e}word_embeddings.weight`, [V, C]))
          ? await table(`${decoder}.weight`, V)
          : null,
      bias: vector(biasName, V),
    };
  }

  /**
   * The 'classifier' the keys carry: over the first token (BERT's pooler + classifier, RoBERTa's
   * classifier.dense / out_proj, DistilBERT's pre_classifier + classifier) or over every token (a
   * classifier alone: *ForTokenClassification, or what `architectures` says).
   */
  async function classifierHeads(pooler: Linear | null): Promise<Pick<BertWeights, 'classifier' | 'tokens'>> {
    const none = { classifier: null, tokens: null };
    if (s.type === 'roberta' || s.type === 'xlm-roberta') {
      if (keys.has('classifier.dense.weight')) {
        const labels = labelsOf('classifier.out_proj');
        const out = await linear(['classifier.out_proj'], labels, C, 'classifier.out_proj');
        return {
          classifier: { dense: await linear(['classifier.dense'], C, C, 'classifier.dense'), act: 'tanh', out, labels },
          tokens: null,
        };
      }
    }
    if (!keys.has('classifier.weight')) return none;
    const pre = s.type === 'distilbert' && keys.has('pre_classifier.weight');
    const perToken = s.tokenClassifier ?? (s.type === 'bert' ? !pooler : !pre);
    const labels = labelsOf('classifier');
    const out = await linear(['classifier'], labels, C, 'classifier');
    if (perToken) return { classifier: null, tokens: { out, labels } };
    if (s.type === 'distilbert') {
      if (!pre) throw new ShapeError('Encoder (distilbert): a sequence classifier needs pre_classifier, which the checkpoint lacks');
      return { classifier: { dense: await linear(['pre_classifier'], C, C, 'pre_classifier'), act: 'relu', out, labels }, tokens: null };
    }
    if (!pooler)
      throw new ShapeError(`Encoder (${s.type}): a sequence classifier needs the pooler (${p}pooler.dense), which the checkpoint lacks`);
    return { classifier: { dense: null, act: 'tanh', out, labels }, tokens: null };
  }

  function labelsOf(name: string): number {
    return keys.shape(`${name}.weight`)[0];
  }
}

/** Every GPU object of the weights, to dispose. */
export function bertTensors(w: BertWeights): { dispose(): void }[] {
  const out: { dispose(): void }[] = [w.word, w.position, ...(w.tokenType ? [w.tokenType] : []), ...w.embNorm];
  for (const l of w.layers) out.push(l.qkv, l.o, ...l.ln1, l.up, l.down, ...l.ln2);
  if (w.mlm) out.push(w.mlm.dense, ...w.mlm.norm, w.mlm.bias, ...(w.mlm.decoder ? [w.mlm.decoder] : []));
  if (w.classifier) out.push(...(w.classifier.dense ? [w.classifier.dense] : []), w.classifier.out);
  for (const x of [w.pooler, w.tokens?.out, w.qa, w.nsp]) if (x) out.push(x);
  return out;
}

/** Embeddings, then every layer (or the first `layers`): the last hidden state [T, C] of the packed batch. */
export function bertEncode(
  g: Graph,
  w: BertWeights,
  s: BertShape,
  x: PackedInputs,
  layers = w.layers.length,
  lora?: LoraDelta,
): SymbolicTensor {
  const eps = s.eps;
  const nw = (n: Norm) => [g.weight(n[0]), g.weight(n[1])] as const;
  let h = g.add(w.word.embed(g, x.ids, null, 0), w.position.embed(g, x.pos, null, 0));
  if (w.tokenType && x.types) h = g.add(h, w.tokenType.embed(g, x.types, null, 0));
  h = g.layerNorm(h, ...nw(w.embNorm), { eps }); // [T, C]
  for (const [i, L] of w.layers.slice(0, layers).entries()) {
    const d = (site: string, input: SymbolicTensor) => ({ delta: lora?.(`${i}.${site}`, input) }); // a bound adapter's update
    const qkv = L.qkv.apply(g, h, d('qkv', h)); // [T, 3C]
    const [q, k, v] = [0, 1, 2].map((part) => g.splitHeads(qkv, s.heads, part, 3)); // [H, T, D] each
    const a = g.attention(q, k, v, { cuSeqlens: x.cuSeqlens }); // each sequence attends to itself only
    const merged = g.mergeHeads(a);
    h = g.layerNorm(g.add(L.o.apply(g, merged, d('o', merged)), h), ...nw(L.ln1), { eps });
    const mid = g.activation(L.up.apply(g, h, d('up', h)), s.act);
    h = g.layerNorm(g.add(L.down.apply(g, mid, d('down', mid)), h), ...nw(L.ln2), { eps });
  }
  return h;
}

/** MLM logits [T, V] from the last hidden state. */
export function bertMaskedLM(g: Graph, w: BertWeights, s: BertShape, h: SymbolicTensor): SymbolicTensor {
  const m = w.mlm!;
  const t = g.layerNorm(g.activation(m.dense.apply(g, h), m.act), g.weight(m.norm[0]), g.weight(m.norm[1]), { eps: s.eps });
  return g.add((m.decoder ?? w.word).logits(g, t), g.weight(m.bias));
}

/** Classification logits [B, labels] from the first tokens' hidden states [B, C]. */
export function bertClassify(g: Graph, w: BertWeights, first: SymbolicTensor): SymbolicTensor {
  const c = w.classifier!;
  return c.out.apply(g, g.activation((c.dense ?? w.pooler!).apply(g, first), c.act));
}

/** Next-sentence logits [B, 2] (0: b follows a) from the first tokens' hidden states [B, C]. */
export function bertNextSentence(g: Graph, w: BertWeights, first: SymbolicTensor): SymbolicTensor {
  return w.nsp!.apply(g, g.activation(w.pooler!.apply(g, first), 'tanh'));
}

/**
 * LoRA sites per layer: q/k/v (one fused site of PEFT's query, key, value or q_lin, k_lin, v_lin), the
 * attention output, the intermediate (up) and output (down) dense layers; module paths with and without
 * the checkpoint's 'bert.' / 'roberta.' / 'distilbert.' prefix (PEFT on *ForX models or the bare model).
 */
function bertLoraSites(w: BertWeights, s: BertShape): LoraSite[] {
  const { hidden: C, intermediate: I } = s;
  const base = s.type === 'distilbert' ? 'distilbert.' : s.type === 'bert' ? 'bert.' : 'roberta.';
  const names = (path: string) => {
    const bare = w.prefix ? path.slice(w.prefix.length) : path;
    return { module: path, aliases: [bare === path ? base + bare : bare] };
  };
  const part = (path: string, rows: number, offset = 0): LoraPart => ({ ...names(path), rows, offset, stride: 1 });
  return w.layers.flatMap((L, i) => {
    const distil = s.type === 'distilbert';
    const l = `${w.prefix}${distil ? 'transformer' : 'encoder'}.layer.${i}.`;
    const [q, k, v, o, up, down] = distil
      ? ['attention.q_lin', 'attention.k_lin', 'attention.v_lin', 'attention.out_lin', 'ffn.lin1', 'ffn.lin2']
      : [
          'attention.self.query',
          'attention.self.key',
          'attention.self.value',
          'attention.output.dense',
          'intermediate.dense',
          'output.dense',
        ];
    return [
      { key: `${i}.qkv`, K: C, N: 3 * C, parts: [part(l + q, C), part(l + k, C, C), part(l + v, C, 2 * C)], linear: L.qkv },
      { key: `${i}.o`, K: C, N: C, parts: [part(l + o, C)], linear: L.o },
      { key: `${i}.up`, K: C, N: I, parts: [part(l + up, I)], linear: L.up },
      { key: `${i}.down`, K: I, N: C, parts: [part(l + down, C)], linear: L.down },
    ];
  });
}

/** The BERT family as the encoder core sees it. */
export function bertDefinition(w: BertWeights, s: BertShape): EncoderDef {
  return {
    shape: s,
    heads: { maskedLM: !!w.mlm, classify: !!w.classifier, tokenClassify: !!w.tokens, questionAnswering: !!w.qa, nextSentence: !!w.nsp },
    classLabels: w.classifier?.labels ?? 0,
    tokenLabels: w.tokens?.labels ?? 0,
    pooling: 'cls',
    encode: (g, x, lora) => bertEncode(g, w, s, w.tokenType ? x : { ...x, types: null }, undefined, lora),
    loraSites: () => bertLoraSites(w, s),
    attention: {
      layers: s.layers,
      heads: s.heads,
      qk(g, x, layer) {
        // The layer's input, then its query and key heads [H, T, D].
        const qkv = w.layers[layer].qkv.apply(g, bertEncode(g, w, s, w.tokenType ? x : { ...x, types: null }, layer));
        return { q: g.splitHeads(qkv, s.heads, 0, 3), k: g.splitHeads(qkv, s.heads, 1, 3) };
      },
    },
    head(task: HeadTask, g: Graph, h: SymbolicTensor, rows: () => SymbolicTensor): SymbolicTensor {
      switch (task) {
        case 'mlm':
          return bertMaskedLM(g, w, s, h); // [T, V]
        case 'tokens':
          return w.tokens!.out.apply(g, h); // [T, labels]
        case 'qa':
          return w.qa!.apply(g, h); // [T, 2]
        case 'classify':
          return bertClassify(g, w, rows()); // [B, labels]
        case 'nsp':
          return bertNextSentence(g, w, rows()); // [B, 2]
      }
    },
    tensors: () => bertTensors(w),
  };
}

// The encoder core: many sequences of any lengths run as ONE packed variable-length batch (concatenated
// along T, each attending only to itself through attention's cu_seqlens; no compute on padding), with
// plans bucketed by total tokens so a stream of batches compiles a handful of plans, not one per shape.
// On it: the last hidden state per sequence, pooled embeddings, and the heads a checkpoint carries
// (masked LM with fill-mask, sequence and token classification, QA logits, next sentence). The model
// definitions are bert.ts's (BERT, RoBERTa / XLM-R, DistilBERT) and modernbert.ts's (ModernBERT).
import { ArgumentError, DisposedError, UnsupportedError } from '../errors';
import type { GPUContext } from '../gpu/engine';
import { Graph, type SymbolicTensor } from '../graph/graph';
import type { Plan } from '../graph/plan';
import { PlanCache } from '../graph/plan-cache';
import type { QuantScheme } from '../ops/quantize';
import { noPositions } from './token-table';
import { pool, softmaxInPlace, topK, type Pooling } from './encoder-tasks';
import { BERT_TYPES, bertDefinition, loadBertWeights, resolveBertConfig } from './bert';
import { ROW_TASKS, type EncoderConfig, type EncoderDef, type EncoderShape, type HeadTask, type PackedInputs } from './encoder-def';
import { loadModernBert } from './modernbert';
import { WEIGHT_STORE, type WeightsChoice, storeFor } from './checkpoint';
import { AdapterSet, type AdapterInfo, type AdapterSelection, type LoadAdapterOptions } from './lora';
export type { EncoderConfig } from './encoder-def';

/** The model_type values the Encoder loads. */
export const ENCODER_TYPES = [...BERT_TYPES, 'modernbert'] as const;

/** Token ids per sequence (any lengths, one call), or with segment ids (BERT's token_type_ids). */
export type EncoderBatch =
  | readonly (readonly number[])[]
  | { ids: readonly (readonly number[])[]; typeIds?: readonly (readonly number[])[] };

export interface EmbedOptions {
  /** How a sequence's token states become one vector (default 'mean', or the model's option). */
  pooling?: Pooling;
  /** Scale each vector to unit L2 norm (default false, or the model's option). */
  normalize?: boolean;
  /** A LoRA adapter loaded with loadAdapter(), by name; null or absent: the base model. */
  adapter?: string | null;
}

export interface EncoderOptions {
  /**
   * How the linear layers' weights are stored on the GPU: 'auto' (the default: as the file stores them,
   * f16 / bf16 files at 16 bits), 'f32', 'f16', 'bf16', 'int8' (q8_0), 'q4_0' or 'q4_k'.
   */
  weights?: WeightsChoice;
  /** embed()'s defaults (a sentence-transformers folder's pooling and Normalize module). */
  embed?: EmbedOptions;
}

/** Plans kept per model: (task, token bucket, batch bucket) triples, least recently used first out. */
const PLAN_CACHE_SIZE = 8;

/** A packed batch on the CPU: graph feeds for `T` rows (a bucket), the sequences' starts and lengths. */
interface Packed {
  T: number;
  starts: number[];
  lengths: number[];
  ids: Uint32Array;
  pos: Uint32Array;
  types: Uint32Array;
  cu: Uint32Array;
}

type Task = 'hidden' | HeadTask;

/** The token bucket for `n` rows: 16, then steps of a quarter of a power of two (above 16, under a fifth of the rows unused). */
export function tokenBucket(n: number): number {
  if (n <= 16) return 16;
  const p = 2 ** Math.floor(Math.log2(n - 1));
  return p + Math.ceil((n - p) / (p / 4)) * (p / 4);
}

export class Encoder {
  /** Class names by index (config id2label), for classify(). */
  readonly labels: readonly string[];
  /** 'multi_label_classification' scores each label with a sigmoid; anything else with a softmax. */
  readonly problemType: string;
  private readonly plans = new PlanCache(PLAN_CACHE_SIZE);
  private disposed = false;
  /** LoRA adapters (lora.ts; BERT, RoBERTa and DistilBERT). */
  private readonly adapterSet: AdapterSet;

  /** The sizes of the model (vocab, hidden, positions, token types). */
  readonly shape: EncoderShape;

  private constructor(
    readonly engine: GPUContext,
    private readonly def: EncoderDef,
    private readonly embedDefaults: EmbedOptions,
    config: EncoderConfig,
  ) {
    this.shape = def.shape;
    const n = def.classLabels || def.tokenLabels;
    const names = config.id2label ?? {};
    this.labels = Array.from({ length: n }, (_, i) => names[String(i)] ?? `LABEL_${i}`);
    this.problemType = config.problem_type ?? (n === 1 ? 'regression' : 'single_label_classification');
    this.adapterSet = new AdapterSet(
      engine,
      `Encoder (${def.shape.type})`,
      () => (def.loraSites ? { sites: def.loraSites(), ggufArch: [] } : null),
      (suffix) => this.plans.drop(suffix),
    );
  }

  /**
   * Loads a Hugging Face checkpoint (model.safetensors, or every shard) with its parsed config.json:
   * model_type bert, roberta, xlm-roberta or distilbert. The masked-LM and classification heads are
   * loaded where the keys carry them.
   */
  static async fromSafetensors(
    engine: GPUContext,
    bytes: Uint8Array | ArrayBuffer | (Uint8Array | ArrayBuffer)[],
    config: EncoderConfig,
    options: EncoderOptions = {},
  ): Promise<Encoder> {
    if (typeof config !== 'object' || config === null) throw new ArgumentError('Encoder: config must be the parsed object of config.json');
    // A config without model_type: the one its architectures name (BertForMaskedLM → bert).
    const arch = /^(Bert|Roberta|XLMRoberta|DistilBert|ModernBert)(Model|For)/.exec(config.architectures?.[0] ?? '')?.[1];
    const fromArch: Record<string, string> = {
      Bert: 'bert',
      Roberta: 'roberta',
      XLMRoberta: 'xlm-roberta',
      DistilBert: 'distilbert',
      ModernBert: 'modernbert',
    };
    if (config.model_type === undefined && arch) config = { ...config, model_type: fromArch[arch] };
    if (!(ENCODER_TYPES as readonly string[]).includes(config.model_type ?? ''))
      throw new UnsupportedError(
        `Encoder: model_type ${JSON.stringify(config.model_type ?? config.architectures?.[0])} is not supported; supported: ${ENCODER_TYPES.join(', ')}`,
      );
    const weights = options.weights ?? 'auto';
    if (weights !== 'auto' && !Object.hasOwn(WEIGHT_STORE, weights))
      throw new ArgumentError(
        `Encoder: weights must be one of 'auto', ${Object.keys(WEIGHT_STORE)
          .map((k) => `'${k}'`)
          .join(', ')}; got ${JSON.stringify(weights)}`,
      );
    const embed = checkEmbedOptions(options.embed ?? {});
    const store = (dtype: string): QuantScheme | undefined => storeFor(weights, dtype);
    let def: EncoderDef;
    if (config.model_type === 'modernbert') def = await loadModernBert(engine, bytes, config, store);
    else {
      const shape = resolveBertConfig(config);
      def = bertDefinition(await loadBertWeights(engine, bytes, shape, store), shape);
    }
    return new Encoder(engine, def, embed, config);
  }

  /** The task heads the checkpoint carries. */
  get heads(): EncoderDef['heads'] {
    return { ...this.def.heads };
  }

  /** The last hidden state of each sequence: [T_i × hidden]. */
  async forward(batch: EncoderBatch, options: { adapter?: string | null } = {}): Promise<Float32Array[]> {
    const p = this.pack(batch, 'forward');
    const { y } = await this.run('hidden', p, 0, await this.adapterSet.select(options.adapter, 'Encoder.forward'));
    return p.starts.map((s, i) => y.slice(s * this.shape.hidden, (s + p.lengths[i]) * this.shape.hidden));
  }

  /** One vector per sequence, [B × hidden]: the token states pooled ('mean', 'cls', 'max'), L2-normalised if asked. */
  async embed(batch: EncoderBatch, options: EmbedOptions = {}): Promise<Float32Array> {
    const o = { ...this.embedDefaults, ...checkEmbedOptions(options) };
    const states = await this.forward(batch, { adapter: o.adapter });
    const C = this.shape.hidden;
    const out = new Float32Array(states.length * C);
    states.forEach((h, b) => {
      const v = pool(h, C, o.pooling ?? 'mean');
      if (o.normalize) {
        const n = Math.hypot(...v);
        for (let c = 0; c < C; c++) v[c] /= Math.max(n, 1e-12); // torch.nn.functional.normalize's eps
      }
      out.set(v, b * C);
    });
    return out;
  }

  /** Masked-LM logits of each sequence: [T_i × vocab]. */
  async maskedLM(batch: EncoderBatch): Promise<Float32Array[]> {
    if (!this.def.heads.maskedLM) throw this.noHead('a masked-LM head', 'maskedLM', 'MaskedLM');
    return this.perToken('mlm', batch, this.shape.vocab, 'maskedLM');
  }

  /** A per-token head's rows [T_i × width] of each sequence. */
  private async perToken(task: Task, batch: EncoderBatch, width: number, call: string): Promise<Float32Array[]> {
    const p = this.pack(batch, call);
    const { y } = await this.run(task, p, 0);
    return p.starts.map((s, i) => y.slice(s * width, (s + p.lengths[i]) * width));
  }

  /** Classification logits, [B × labels] (labels: enc.labels), from each sequence's first token. */
  async classify(batch: EncoderBatch, options: { adapter?: string | null } = {}): Promise<Float32Array> {
    if (!this.def.heads.classify) throw this.noHead('a sequence-classification head', 'classify', 'SequenceClassification');
    const p = this.pack(batch, 'classify');
    const B = p.starts.length;
    const { y } = await this.run('classify', p, nextPow2(B), await this.adapterSet.select(options.adapter, 'Encoder.classify'));
    return y.slice(0, B * this.def.classLabels);
  }

  /** Token-classification (NER) logits of each sequence: [T_i × labels] (labels: enc.labels). */
  async tokenClassify(batch: EncoderBatch): Promise<Float32Array[]> {
    if (!this.def.heads.tokenClassify) throw this.noHead('a token-classification head', 'tokenClassify', 'TokenClassification');
    return this.perToken('tokens', batch, this.def.tokenLabels, 'tokenClassify');
  }

  /** Extractive QA: start and end logits over each sequence's tokens (see bestSpan for the answer). */
  async questionAnswering(batch: EncoderBatch): Promise<{ start: Float32Array; end: Float32Array }[]> {
    if (!this.def.heads.questionAnswering)
      throw this.noHead('a question-answering head (qa_outputs)', 'questionAnswering', 'QuestionAnswering');
    return (await this.perToken('qa', batch, 2, 'questionAnswering')).map((y) => ({
      start: y.filter((_, i) => i % 2 === 0),
      end: y.filter((_, i) => i % 2 === 1),
    }));
  }

  /** Next-sentence logits, [B × 2]: index 0 is "b follows a", 1 "b is random" (BERT's NSP head). */
  async nextSentence(batch: EncoderBatch): Promise<Float32Array> {
    if (!this.def.heads.nextSentence) throw this.noHead('a next-sentence head (cls.seq_relationship)', 'nextSentence', 'PreTraining');
    const p = this.pack(batch, 'nextSentence');
    const B = p.starts.length;
    const { y } = await this.run('nsp', p, nextPow2(B));
    return y.slice(0, B * 2);
  }

  /** classify()'s logits as scores, [B × labels]: a softmax per sequence, or a sigmoid per label (multi_label_classification, or one label). */
  async classifyScores(batch: EncoderBatch): Promise<Float32Array> {
    const logits = await this.classify(batch);
    const n = this.labels.length;
    // transformers' text-classification pipeline: a sigmoid for multi-label or a single output, else a softmax.
    if (this.problemType === 'multi_label_classification' || n === 1) return logits.map((x) => 1 / (1 + Math.exp(-x)));
    for (let b = 0; b < logits.length / n; b++) softmaxInPlace(logits.subarray(b * n, (b + 1) * n));
    return logits;
  }

  /**
   * Fill-mask: for every `maskId` token of each sequence, the `topK` (default 5) most likely tokens and
   * their probabilities (softmax over the vocabulary), highest first.
   */
  async fillMask(
    batch: EncoderBatch,
    options: { maskId: number; topK?: number },
  ): Promise<{ position: number; tokens: { id: number; score: number }[] }[][]> {
    const { maskId, topK: k = 5 } = options ?? ({} as { maskId: number });
    if (!Number.isInteger(maskId)) throw new ArgumentError(`Encoder.fillMask: maskId must be the mask token's id, got ${maskId}`);
    if (!(Number.isInteger(k) && k >= 1)) throw new ArgumentError(`Encoder.fillMask: topK must be a positive integer, got ${k}`);
    const { ids } = normalizeBatch(batch, 'fillMask');
    const logits = await this.maskedLM(batch);
    const V = this.shape.vocab;
    return ids.map((seq, b) =>
      seq.flatMap((id, t) => {
        if (id !== maskId) return [];
        const probs = softmaxInPlace(logits[b].slice(t * V, (t + 1) * V));
        return [{ position: t, tokens: topK(probs, k).map(([id, score]) => ({ id, score })) }];
      }),
    );
  }

  /** Layers and heads whose attention attentionWeights() draws (null for ModernBERT). */
  get attentionShape(): { layers: number; heads: number } | null {
    const a = this.def.attention;
    return a ? { layers: a.layers, heads: a.heads } : null;
  }

  /**
   * The attention probabilities of every head of `layer` over one sequence, [heads × T × T] (row: the
   * query, column: the key; every row sums to 1, over the whole sequence: bidirectional). The layer's
   * queries and keys come from the GPU; their softmax(q kᵀ / √D) is taken here in float64.
   */
  async attentionWeights(
    sequence: readonly number[] | { ids: readonly number[]; typeIds?: readonly number[] },
    layer: number,
  ): Promise<Float32Array> {
    const a = this.def.attention;
    if (!a)
      throw new UnsupportedError(
        `Encoder.attentionWeights: not available for ${this.shape.type} models (BERT, RoBERTa and DistilBERT have it)`,
      );
    if (!(Number.isInteger(layer) && layer >= 0 && layer < a.layers))
      throw new ArgumentError(`Encoder.attentionWeights: layer ${layer} outside 0..${a.layers - 1}`);
    const one = Array.isArray(sequence)
      ? { ids: [sequence] }
      : {
          ids: [(sequence as { ids: readonly number[] }).ids],
          typeIds: (sequence as { typeIds?: readonly number[] }).typeIds && [(sequence as { typeIds: readonly number[] }).typeIds],
        };
    const p = this.pack(one, 'attentionWeights');
    const T = p.lengths[0];
    const feeds: Record<string, Uint32Array> = { ids: p.ids, pos: p.pos, cu: p.cu };
    if (this.shape.typeVocab > 0) feeds.types = p.types;
    const out = await this.plans.use(
      `attention${layer}:${p.T}`,
      () => {
        const g = new Graph(this.engine, `${this.shape.type} attention layer ${layer} T=${p.T}`);
        const { q, k } = a.qk(g, this.graphInputs(g, p.T), layer);
        return g.compile({ q, k });
      },
      (plan) => plan.run(feeds),
    );
    const [q, k] = [out.q as Float32Array, out.k as Float32Array]; // [H, bucket, D]
    const H = a.heads;
    const D = this.shape.hidden / H;
    const scale = 1 / Math.sqrt(D);
    const w = new Float32Array(H * T * T);
    const row = new Float64Array(T);
    for (let h = 0; h < H; h++)
      for (let i = 0; i < T; i++) {
        let m = -Infinity;
        for (let j = 0; j < T; j++) {
          let s = 0;
          for (let d = 0; d < D; d++) s += q[(h * p.T + i) * D + d] * k[(h * p.T + j) * D + d];
          row[j] = s * scale;
          m = Math.max(m, row[j]);
        }
        let sum = 0;
        for (let j = 0; j < T; j++) sum += row[j] = Math.exp(row[j] - m);
        for (let j = 0; j < T; j++) w[(h * T + i) * T + j] = row[j] / sum;
      }
    return w;
  }

  /** Frees the weights and every plan. */
  /**
   * Loads a PEFT LoRA adapter (adapter_model.safetensors + adapter_config.json, object or text) for
   * forward / embed / classify with `{ adapter: name }`, unmerged on any weight format (lora.ts).
   */
  loadAdapter(name: string, bytes: Uint8Array | ArrayBuffer, config?: unknown, options?: LoadAdapterOptions): Promise<void> {
    return this.adapterSet.load(name, bytes, config, options);
  }

  unloadAdapter(name: string): void {
    this.adapterSet.unload(name);
  }

  get adapters(): string[] {
    return this.adapterSet.names;
  }

  adapterInfo(name: string): AdapterInfo {
    return this.adapterSet.info(name);
  }

  /** Folds an adapter into f32 / f16 weights and unloads it (a packed base refuses: UnsupportedError). */
  mergeAdapter(name: string): Promise<void> {
    return this.adapterSet.merge(name);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.plans.dispose();
    this.adapterSet.dispose();
    for (const t of this.def.tensors()) t.dispose();
  }

  private noHead(what: string, call: string, kind: string): UnsupportedError {
    return new UnsupportedError(
      `Encoder.${call}: this ${this.shape.type} checkpoint has no ${what} (its keys carry none; load a *For${kind} checkpoint)`,
    );
  }

  /** Checks a batch and packs it into a bucket of rows: ids, positions, token types, sequence starts. */
  private pack(batch: EncoderBatch, call: string): Packed {
    if (this.disposed) throw new DisposedError(`Encoder.${call}: the model was disposed`);
    const { ids, typeIds } = normalizeBatch(batch, call);
    const s = this.shape;
    const maxLen = s.pad === null ? s.positions : s.positions - s.pad - 1;
    const total = ids.reduce((n, x) => n + x.length, 0);
    const T = tokenBucket(total);
    const p: Packed = {
      T,
      starts: [],
      lengths: [],
      ids: new Uint32Array(T),
      pos: new Uint32Array(T),
      types: new Uint32Array(T),
      cu: new Uint32Array(T + 1).fill(T),
    };
    let at = 0;
    ids.forEach((seq, b) => {
      if (seq.length > maxLen)
        throw new ArgumentError(`Encoder.${call}: sequence ${b} has ${seq.length} tokens; this model takes at most ${maxLen}`);
      const types = typeIds?.[b];
      if (types && types.length !== seq.length)
        throw new ArgumentError(`Encoder.${call}: typeIds[${b}] has ${types.length} entries for ${seq.length} tokens`);
      p.starts.push(at);
      p.lengths.push(seq.length);
      p.cu[b] = at;
      let kept = 0; // RoBERTa: tokens other than padding so far
      seq.forEach((id, t) => {
        if (!(Number.isInteger(id) && id >= 0 && id < s.vocab))
          throw new ArgumentError(
            `Encoder.${call}: token ${id} at sequence ${b}, position ${t} is not an id below the vocabulary size ${s.vocab}`,
          );
        const type = types?.[t] ?? 0;
        if (!(Number.isInteger(type) && type >= 0 && type < Math.max(s.typeVocab, 1)))
          throw new ArgumentError(
            `Encoder.${call}: typeIds[${b}][${t}] is ${type}; this model has ${s.typeVocab} token types (0..${Math.max(s.typeVocab, 1) - 1})`,
          );
        p.ids[at + t] = id;
        p.types[at + t] = type;
        // RoBERTa's create_position_ids_from_input_ids: padding keeps padding_idx, others count from it.
        p.pos[at + t] = s.pad === null ? t : id === s.pad ? s.pad : s.pad + ++kept;
      });
      at += seq.length;
    });
    p.cu[ids.length] = total; // the unused rows [total, T) form one more sequence of their own
    return p;
  }

  /** Runs `task`'s plan for the packed batch's bucket (and `B` classify rows). */
  private async run(task: Task, p: Packed, B: number, lora: AdapterSelection | null = null): Promise<{ y: Float32Array }> {
    const key = `${task}:${p.T}:${B}${lora?.key ?? ''}`;
    const feeds: Record<string, Uint32Array | Float32Array> = { ids: p.ids, pos: p.pos, cu: p.cu };
    if (this.shape.typeVocab > 0) feeds.types = p.types;
    if (task !== 'hidden' && ROW_TASKS.includes(task)) {
      if (this.def.pooling === 'cls') {
        const rows = new Uint32Array(B);
        rows.set(p.starts);
        feeds.rows = rows;
      } else {
        const pool = new Float32Array(B * p.T); // row b averages sequence b's tokens
        for (const [b, s] of p.starts.entries()) pool.fill(1 / p.lengths[b], b * p.T + s, b * p.T + s + p.lengths[b]);
        feeds.pool = pool;
      }
    }
    const out = await this.plans.use(
      key,
      () => this.build(task, p.T, B, lora),
      (plan) => {
        this.adapterSet.activate(lora); // the adapter's weights into its slot, just before this run
        return plan.run(feeds);
      },
    );
    return { y: out.y as Float32Array };
  }

  /** The packed batch's inputs for a plan of `T` rows. */
  private graphInputs(g: Graph, T: number): PackedInputs {
    return {
      ids: g.input('ids', [T], 'u32'),
      pos: g.input('pos', [T], 'u32'),
      types: this.shape.typeVocab > 0 ? g.input('types', [T], 'u32') : null,
      cuSeqlens: g.input('cu', [T + 1], 'u32'),
    };
  }

  private build(task: Task, T: number, B: number, lora: AdapterSelection | null): Promise<Plan> {
    const g = new Graph(this.engine, `${this.shape.type} ${task} T=${T}${B ? ` B=${B}` : ''}`);
    const delta = lora ? (site: string, x: SymbolicTensor) => this.adapterSet.delta(g, lora, site, x) : undefined;
    const h = this.def.encode(g, this.graphInputs(g, T), delta); // [T, C]
    // One row per sequence: its first token's state gathered (h as an embedding table), or the mean of
    // its tokens' states as a matmul with a per-run [B, T] matrix of 1 / length weights.
    const C = this.shape.hidden;
    const rows = () =>
      this.def.pooling === 'cls'
        ? g.embedding(g.input('rows', [B], 'u32'), h, noPositions(g, C), { addPosition: false })
        : g.matmul(g.input('pool', [B, T]), h); // [B, C]
    return g.compile({ y: task === 'hidden' ? h : this.def.head(task, g, h, rows) });
  }
}

function nextPow2(n: number): number {
  return 2 ** Math.ceil(Math.log2(Math.max(n, 1)));
}

/** The batch as id lists (checked: a non-empty list of non-empty integer lists) and optional type ids. */
function normalizeBatch(
  batch: EncoderBatch,
  call: string,
): { ids: readonly (readonly number[])[]; typeIds?: readonly (readonly number[])[] } {
  const b = Array.isArray(batch)
    ? { ids: batch as readonly (readonly number[])[] }
    : (batch as { ids: readonly (readonly number[])[]; typeIds?: readonly (readonly number[])[] });
  if (!b || !Array.isArray(b.ids) || b.ids.length === 0 || !b.ids.every((s) => Array.isArray(s) && s.length > 0))
    throw new ArgumentError(
      `Encoder.${call}: the batch must be a non-empty list of non-empty token id lists (number[][]) or { ids, typeIds? }`,
    );
  if (b.typeIds !== undefined && (!Array.isArray(b.typeIds) || b.typeIds.length !== b.ids.length))
    throw new ArgumentError(`Encoder.${call}: typeIds must be a list with one entry per sequence (${b.ids.length})`);
  return b;
}

function checkEmbedOptions(o: EmbedOptions): EmbedOptions {
  if (o.pooling !== undefined && !['mean', 'cls', 'max'].includes(o.pooling))
    throw new ArgumentError(`Encoder.embed: pooling must be 'mean', 'cls' or 'max'; got ${JSON.stringify(o.pooling)}`);
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

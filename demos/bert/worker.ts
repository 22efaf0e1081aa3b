// The BERT page's worker: the library's worker engine (exposeEngine) loads the encoder here with
// loadModel (progress, Cache Storage, cancel), so the page never blocks on the GPU. The page's tasks
// are methods it calls with engine.call(name, args): each takes text, runs the encoder and its
// tokenizer here, and answers what the page draws (numbers and labels; maps transferred).
import {
  type Encoder,
  type MethodContext,
  SemanticIndex,
  TextTokenizer,
  bestSpan,
  exposeEngine,
  groupEntities,
  type Engine,
} from 'webgpu-nlp';

/** The verses' index, with the encoder and pooling it was built with (a new model drops it). */
let index: { index: SemanticIndex; encoder: Encoder; pooling: string } | null = null;

type Pooling = 'model' | 'mean' | 'cls' | 'max';
const poolingOf = (p: Pooling) => (p === 'model' ? undefined : p);

function current(ctx: MethodContext): { encoder: Encoder; tokenizer: TextTokenizer | null; name: string } {
  const l = ctx.loaded;
  if (!l) throw new Error('no model is loaded');
  if (index && index.encoder !== l.model) {
    index.index.dispose();
    index = null;
  }
  return { encoder: l.model as Encoder, tokenizer: l.tokenizer instanceof TextTokenizer ? l.tokenizer : null, name: l.info.name };
}

function withTokenizer(ctx: MethodContext): TextTokenizer {
  const t = current(ctx).tokenizer;
  if (!t) throw new Error('this model folder has no tokenizer.json, so it cannot read text');
  return t;
}

/** The longest sequence the model takes (at most 128 here): RoBERTa's positions start after its padding id. */
function maxTokens(encoder: Encoder): number {
  const s = encoder.shape;
  return Math.min(128, s.pad === null ? s.positions : s.positions - s.pad - 1);
}

/** `ids` cut to maxTokens(), the closing special token kept. */
const clip = (encoder: Encoder, ids: number[]) =>
  ids.length <= maxTokens(encoder) ? ids : [...ids.slice(0, maxTokens(encoder) - 1), ids[ids.length - 1]];

const encodeClipped = (ctx: MethodContext, text: string) => clip(current(ctx).encoder, withTokenizer(ctx).encode(text));

/** The attention of every layer over `text` (or `ids`), or null for a model without maps or tokenizer. */
async function attention(ctx: MethodContext, text: string, given?: number[]) {
  const { encoder, tokenizer } = current(ctx);
  const shape = encoder.attentionShape;
  if (!shape || !tokenizer) return null;
  const ids = given ?? clip(encoder, tokenizer.encode(text));
  const layers: Float32Array[] = [];
  for (let l = 0; l < shape.layers; l++) layers.push(await encoder.attentionWeights(ids, l));
  ctx.transfer(layers.map((w) => w.buffer as ArrayBuffer));
  return { ids, labels: ids.map((id) => tokenizer.decode([id])), layers, heads: shape.heads };
}
export type AttentionResult = Awaited<ReturnType<typeof attention>>;

const methods = {
  /** What the page shows of the loaded model, and the GPU memory in use. */
  describe: (_: unknown, ctx: MethodContext) => {
    const { encoder, tokenizer } = current(ctx);
    return {
      shape: encoder.shape,
      heads: encoder.heads,
      labels: encoder.labels,
      attentionShape: encoder.attentionShape ?? null,
      tokenizer: !!tokenizer,
      memory: (ctx.loaded!.engine as Engine).memory().liveBytes,
    };
  },
  memory: (_: unknown, ctx: MethodContext) => (ctx.loaded ? (ctx.loaded.engine as Engine).memory().liveBytes : 0),
  attention: ({ text }: { text: string }, ctx: MethodContext) => attention(ctx, text),
  fill: async ({ text, topK }: { text: string; topK: number }, ctx: MethodContext) => {
    const { encoder, name } = current(ctx);
    const tok = withTokenizer(ctx);
    if (!encoder.heads.maskedLM) throw new Error(`${name} has no masked-LM head: load a *ForMaskedLM model to fill in words`);
    const maskId = tok.tokenId('[MASK]') ?? tok.tokenId('<mask>');
    if (maskId === undefined) throw new Error('the tokenizer has no [MASK] or <mask> token');
    const ids = tok.encode(text);
    if (!ids.includes(maskId)) return null;
    const [masks] = await encoder.fillMask([ids], { maskId, topK });
    return {
      masks: masks.map((m) => m.tokens.map((t) => ({ label: tok.decode([t.id]), p: t.score }))),
      attention: await attention(ctx, text, ids),
    };
  },
  /** Embeds the texts into the index with progress; the page's Stop ends it. */
  index: async ({ texts, pooling }: { texts: string[]; pooling: Pooling }, ctx: MethodContext) => {
    const { encoder } = current(ctx);
    index?.index.dispose();
    index = null;
    const corpus = texts.map((t) => encodeClipped(ctx, t));
    const built = await SemanticIndex.build(encoder, corpus, {
      batchSize: 16,
      pooling: poolingOf(pooling),
      signal: ctx.signal,
      onProgress: (done, total) => ctx.progress({ done, total }),
    });
    index = { index: built, encoder, pooling };
    return { size: built.size, dim: built.dim };
  },
  search: async ({ text, pooling, k }: { text: string; pooling: Pooling; k: number }, ctx: MethodContext) => {
    const { encoder } = current(ctx);
    if (!index) throw new Error('Embed the verses first.');
    if (index.pooling !== pooling) throw new Error('The pooling changed since the verses were embedded: embed them again.');
    const q = await encoder.embed([encodeClipped(ctx, text)], { pooling: poolingOf(pooling), normalize: true });
    return index.index.search(q, k);
  },
  /** Unit vectors of the lines, [n × hidden] (transferred). */
  embed: async ({ lines, pooling }: { lines: string[]; pooling: Pooling }, ctx: MethodContext) => {
    const { encoder } = current(ctx);
    const v = await encoder.embed(
      lines.map((s) => encodeClipped(ctx, s)),
      { pooling: poolingOf(pooling), normalize: true },
    );
    ctx.transfer([v.buffer as ArrayBuffer]);
    return v;
  },
  classify: async ({ text }: { text: string }, ctx: MethodContext) => {
    const { encoder } = current(ctx);
    const scores = await encoder.classifyScores([encodeClipped(ctx, text)]);
    return encoder.labels.map((label, i) => ({ label, p: scores[i] }));
  },
  nsp: async ({ a, b }: { a: string; b: string }, ctx: MethodContext) => {
    const { encoder } = current(ctx);
    const pair = withTokenizer(ctx).encodePair(a, b, { maxLength: maxTokens(encoder) });
    const [x, y] = await encoder.nextSentence({ ids: [pair.ids], typeIds: [pair.typeIds] });
    return { p: 1 / (1 + Math.exp(y - x)), typeIds: pair.typeIds }; // softmax over (follows, random), index 0 = follows
  },
  ner: async ({ text, aggregation }: { text: string; aggregation: 'simple' | 'first' | 'max' }, ctx: MethodContext) => {
    const { encoder } = current(ctx);
    const { ids, offsets } = withTokenizer(ctx).encodeWithOffsets(text, { maxLength: maxTokens(encoder) });
    const [logits] = await encoder.tokenClassify([ids]);
    const wordStart = offsets.map(([s], i) => i === 0 || s === 0 || s !== offsets[i - 1][1] || /\W/.test(text[s] ?? ''));
    return groupEntities(logits, encoder.labels, {
      strategy: aggregation,
      skip: offsets.map(([, e]) => e === 0),
      wordStart,
      offsets,
    });
  },
  /** The best answer span's characters in the context, and its score. */
  qa: async ({ question, context }: { question: string; context: string }, ctx: MethodContext) => {
    const { encoder } = current(ctx);
    const pair = withTokenizer(ctx).encodePair(question, context, { maxLength: maxTokens(encoder) });
    const types = encoder.shape.typeVocab > 1 ? pair.typeIds : pair.typeIds.map(() => 0);
    const [{ start, end }] = await encoder.questionAnswering({ ids: [pair.ids], typeIds: [types] });
    const inContext = pair.typeIds.map((t, i) => t === 1 && pair.offsets[i][1] > 0);
    const from = inContext.indexOf(true);
    const to = inContext.lastIndexOf(true) + 1;
    if (from < 0) throw new Error('the context is empty (or the question filled the whole input)');
    const best = bestSpan(start, end, { from, to });
    return { start: pair.offsets[best.start][0], end: pair.offsets[best.end][1], score: best.score };
  },
};
export type BertMethods = typeof methods;

// A failed load (a URL with no model, Stop) keeps the model the page shows.
exposeEngine(self, {
  methods: methods as unknown as Record<string, (args: unknown, ctx: MethodContext) => unknown>,
  replace: 'after-load',
});

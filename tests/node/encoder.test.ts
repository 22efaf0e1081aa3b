// The BERT family (bert, roberta, distilbert) against float64 references computed by
// tools/make_encoder_fixture.py, which follows Hugging Face's modeling_bert / modeling_roberta /
// modeling_distilbert: one packed batch of sequences of lengths 1, 6, 13 and 4 per call (segment ids on
// BERT, a padding id inside a RoBERTa sequence that its positions skip), hidden states, masked-LM
// logits and classification logits to 1e-4 of the largest value; a bare BERT as sentence-transformers
// saves it (no prefix, LayerNorm.gamma / beta, hidden_act silu); pooling; bad input.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ArgumentError,
  Encoder,
  type EncoderConfig,
  type Engine,
  SafetensorsFile,
  SemanticIndex,
  ShapeError,
  dequantize,
  randomBertCheckpoint,
  UnsupportedError,
  WebGPUNLPError,
  tokenBucket,
} from '../../src/index';
import { createTestEngine } from '../helpers/engine';
import { rewriteSafetensors, writeSafetensors } from '../helpers/files';
import { expectClose, maxAbs } from '../helpers/numeric';

const dir = 'tests/fixtures/encoder';
type Case = {
  config: EncoderConfig;
  ids: number[][];
  typeIds: number[][];
  hidden: number[][];
  mlm?: number[][];
  classify?: number[];
  nsp?: number[];
  qa?: number[][];
  tokens?: number[][];
};
const expected = JSON.parse(readFileSync(`${dir}/expected.json`, 'utf8')) as Record<
  'bert' | 'roberta' | 'distilbert' | 'bare' | 'distilbert-token' | 'modernbert',
  Case
>;
const file = (name: string) => new Uint8Array(readFileSync(`${dir}/${name}`));

let engine: Engine;
beforeAll(async () => {
  engine = await createTestEngine();
});
afterAll(() => engine?.dispose());

/** |got - want| ≤ 1e-4 · max |want| over all of `want`. */
function expectRel(got: ArrayLike<number>, want: number[], what: string): void {
  const w = Float64Array.from(want);
  expectClose(Float64Array.from(got), w, { atol: 1e-4 * maxAbs(w), rtol: 0 }, what);
}

describe('Encoder: the BERT family against float64 PyTorch, packed batches of odd lengths', () => {
  for (const kind of ['bert', 'roberta', 'distilbert'] as const) {
    it(`${kind}: hidden states, masked-LM logits and classification logits of one packed batch`, async () => {
      const ref = expected[kind];
      const enc = await Encoder.fromSafetensors(engine, file(`${kind}.safetensors`), ref.config);
      try {
        expect(enc.heads).toEqual({
          maskedLM: true,
          classify: true,
          tokenClassify: false,
          questionAnswering: kind === 'roberta',
          nextSentence: kind === 'bert',
        });
        const batch = { ids: ref.ids, typeIds: ref.typeIds };
        const hidden = await enc.forward(batch);
        expect(hidden.map((h) => h.length)).toEqual(ref.ids.map((s) => s.length * 32));
        hidden.forEach((h, i) => {
          expectRel(h, ref.hidden[i], `${kind} hidden ${i}`);
        });
        const mlm = await enc.maskedLM(batch);
        mlm.forEach((m, i) => {
          expectRel(m, ref.mlm![i], `${kind} mlm ${i}`);
        });
        expectRel(await enc.classify(batch), ref.classify!, `${kind} classify`);
        expect(enc.labels).toEqual(Object.values(ref.config.id2label!));
        if (ref.nsp) expectRel(await enc.nextSentence(batch), ref.nsp, `${kind} next sentence`);
        if (ref.qa) {
          const qa = await enc.questionAnswering(batch);
          qa.forEach((x, i) => {
            expectRel(
              x.start,
              ref.qa![i].filter((_, j) => j % 2 === 0),
              `${kind} qa start ${i}`,
            );
            expectRel(
              x.end,
              ref.qa![i].filter((_, j) => j % 2 === 1),
              `${kind} qa end ${i}`,
            );
          });
        }
        // One sequence alone equals its row of the batch (nothing leaks between packed sequences).
        const alone = await enc.forward({ ids: [ref.ids[2]], typeIds: [ref.typeIds[2]] });
        expectRel(alone[0], ref.hidden[2], `${kind} sequence 2 alone`);
      } finally {
        enc.dispose();
      }
    });
  }

  it('attentionWeights: every layer and head of each sequence (bidirectional, segment ids) against float64; bad layers; ModernBERT has none', async () => {
    const ref = expected.bert as Case & { attention: number[][][] };
    const enc = await Encoder.fromSafetensors(engine, file('bert.safetensors'), ref.config);
    try {
      expect(enc.attentionShape).toEqual({ layers: 2, heads: 4 });
      for (const [i, ids] of ref.ids.entries())
        for (let layer = 0; layer < 2; layer++) {
          const got = await enc.attentionWeights({ ids, typeIds: ref.typeIds[i] }, layer);
          expect(got.length).toBe(4 * ids.length * ids.length);
          // probabilities: 1e-4 absolute (the largest is at most 1)
          expectClose(
            Float64Array.from(got),
            Float64Array.from(ref.attention[i][layer]),
            { atol: 1e-4, rtol: 0 },
            `seq ${i} layer ${layer}`,
          );
        }
      await expect(enc.attentionWeights(ref.ids[0], 2)).rejects.toThrow(/layer 2 outside 0..1/);
      await expect(enc.attentionWeights([], 0)).rejects.toThrow(ArgumentError);
    } finally {
      enc.dispose();
    }
    const mb = await Encoder.fromSafetensors(engine, file('modernbert.safetensors'), expected.modernbert.config);
    expect(mb.attentionShape).toBeNull();
    await expect(mb.attentionWeights([1, 2, 3], 0)).rejects.toThrow(UnsupportedError);
    mb.dispose();
  });

  it('modernbert: RoPE restarting in each packed sequence, local windows, GeGLU; masked LM, mean-pooled classification', async () => {
    const ref = expected.modernbert;
    const enc = await Encoder.fromSafetensors(engine, file('modernbert.safetensors'), ref.config);
    try {
      expect(enc.heads).toEqual({ maskedLM: true, classify: true, tokenClassify: false, questionAnswering: false, nextSentence: false });
      const hidden = await enc.forward(ref.ids);
      hidden.forEach((h, i) => {
        expectRel(h, ref.hidden[i], `modernbert hidden ${i}`);
      });
      (await enc.maskedLM(ref.ids)).forEach((m, i) => {
        expectRel(m, ref.mlm![i], `modernbert mlm ${i}`);
      });
      expectRel(await enc.classify(ref.ids), ref.classify!, 'modernbert classify (mean pooling)');
    } finally {
      enc.dispose();
    }
  });

  it('a bare BERT as sentence-transformers saves it (no prefix, LayerNorm.gamma / beta, silu); pooling; no heads', async () => {
    const ref = expected.bare;
    const enc = await Encoder.fromSafetensors(engine, file('bert-bare.safetensors'), ref.config);
    try {
      expect(Object.values(enc.heads).some(Boolean)).toBe(false);
      const batch = { ids: ref.ids, typeIds: ref.typeIds };
      (await enc.forward(batch)).forEach((h, i) => {
        expectRel(h, ref.hidden[i], `bare hidden ${i}`);
      });
      const C = 32;
      for (const pooling of ['mean', 'cls', 'max'] as const) {
        const got = await enc.embed(batch, { pooling, normalize: pooling === 'mean' });
        const want = ref.hidden.flatMap((h) => {
          const T = h.length / C;
          const v = Array.from({ length: C }, (_, c) => {
            const col = Array.from({ length: T }, (_, t) => h[t * C + c]);
            return pooling === 'cls' ? col[0] : pooling === 'max' ? Math.max(...col) : col.reduce((a, b) => a + b, 0) / T;
          });
          const n = pooling === 'mean' ? Math.hypot(...v) : 1;
          return v.map((x) => x / n);
        });
        expectRel(got, want, `embed ${pooling}`);
      }
      // Older checkpoints also hold the position_ids buffer (I64 [1, P]): read past, never used.
      const src = SafetensorsFile.parse(file('bert-bare.safetensors'));
      const header: Record<string, unknown> = {};
      const parts: Uint8Array[] = [];
      let at = 0;
      for (const [name, e] of src.entries) {
        const bytes = new Uint8Array(src.float32(name).buffer);
        header[name] = { dtype: 'F32', shape: e.shape, data_offsets: [at, at + bytes.length] };
        parts.push(bytes);
        at += bytes.length;
      }
      const ids64 = new Uint8Array(new BigInt64Array(Array.from({ length: 40 }, (_, i) => BigInt(i))).buffer);
      header['embeddings.position_ids'] = { dtype: 'I64', shape: [1, 40], data_offsets: [at, at + ids64.length] };
      const body = new Uint8Array(at + ids64.length);
      let o = 0;
      for (const part of [...parts, ids64]) {
        body.set(part, o);
        o += part.length;
      }
      const withIds = await Encoder.fromSafetensors(engine, writeSafetensors(header, body), ref.config);
      (await withIds.forward(batch)).forEach((h, i) => {
        expectRel(h, ref.hidden[i], `bare + position_ids hidden ${i}`);
      });
      withIds.dispose();
      await expect(enc.maskedLM(batch)).rejects.toThrow(UnsupportedError);
      await expect(enc.classify(batch)).rejects.toThrow(/no a sequence-classification head|no sequence-classification head/);
    } finally {
      enc.dispose();
    }
  });

  it('SemanticIndex: a corpus embedded once, kept on the GPU, top-k by cosine as the CPU ranks it; progress and cancel', async () => {
    const ref = expected.bare;
    const enc = await Encoder.fromSafetensors(engine, file('bert-bare.safetensors'), ref.config);
    try {
      const corpus = [...ref.ids, ...ref.ids.map((s) => [...s].reverse()), [2, 5, 7], [2, 9]];
      const progress: number[] = [];
      const index = await SemanticIndex.build(enc, corpus, { batchSize: 3, onProgress: (done) => progress.push(done) });
      expect(progress).toEqual([3, 6, 9, 10]);
      const vecs = await enc.embed(corpus, { normalize: true });
      const C = 32;
      const query = vecs.slice(2 * C, 3 * C);
      const cos = corpus.map((_, r) => query.reduce((s, x, c) => s + x * vecs[r * C + c], 0));
      const order = cos.map((_, r) => r).sort((a, b) => cos[b] - cos[a]);
      const top = await index.search(query, 4);
      expect(top.map((t) => t.index)).toEqual(order.slice(0, 4));
      top.forEach((t) => {
        expect(t.score).toBeCloseTo(cos[t.index], 5);
      });
      expect((await index.search(query, 50)).length).toBe(10);
      await expect(index.search(query.slice(1), 3)).rejects.toThrow(/the query has 31 values, the index 32/);
      index.dispose();
      const stop = new AbortController();
      const built = SemanticIndex.build(enc, corpus, { batchSize: 4, signal: stop.signal, onProgress: () => stop.abort() });
      await expect(built).rejects.toThrow(/abort/i);
    } finally {
      enc.dispose();
    }
  });

  it('token classification (DistilBertForTokenClassification): logits per token, labels from id2label', async () => {
    const ref = expected['distilbert-token'];
    const enc = await Encoder.fromSafetensors(engine, file('distilbert-token.safetensors'), ref.config);
    try {
      expect(enc.heads).toEqual({ maskedLM: false, classify: false, tokenClassify: true, questionAnswering: false, nextSentence: false });
      expect(enc.labels).toEqual(['O', 'B-PER', 'I-PER', 'B-LOC', 'I-LOC']);
      const got = await enc.tokenClassify(ref.ids);
      got.forEach((t, i) => {
        expectRel(t, ref.tokens![i], `tokens ${i}`);
      });
      await expect(enc.classify(ref.ids)).rejects.toThrow(/no a sequence-classification head|ForSequenceClassification/);
    } finally {
      enc.dispose();
    }
  });

  it("architectures decide what a 'classifier' is: BERT and ModernBERT as *ForTokenClassification; xlm-roberta reads RoBERTa's keys", async () => {
    for (const kind of ['bert', 'modernbert'] as const) {
      const ref = expected[kind];
      const arch = kind === 'bert' ? 'BertForTokenClassification' : 'ModernBertForTokenClassification';
      const enc = await Encoder.fromSafetensors(engine, file(`${kind}.safetensors`), { ...ref.config, architectures: [arch] });
      try {
        expect(enc.heads.tokenClassify && !enc.heads.classify).toBe(true);
        (await enc.tokenClassify({ ids: ref.ids, typeIds: ref.typeIds })).forEach((t, i) => {
          expectRel(t, ref.tokens![i], `${kind} as ${arch}: tokens ${i}`);
        });
      } finally {
        enc.dispose();
      }
    }
    const r = expected.roberta;
    const xlmr = await Encoder.fromSafetensors(engine, file('roberta.safetensors'), { ...r.config, model_type: 'xlm-roberta' });
    try {
      (await xlmr.forward(r.ids)).forEach((h, i) => {
        expectRel(h, r.hidden[i], `xlm-roberta hidden ${i}`);
      });
    } finally {
      xlmr.dispose();
    }
  });

  it('scores: softmax per sequence, sigmoid per label for multi_label_classification; fill-mask top-k', async () => {
    const d = expected.distilbert;
    const enc = await Encoder.fromSafetensors(engine, file('distilbert.safetensors'), d.config);
    try {
      expect(enc.problemType).toBe('multi_label_classification');
      expectRel(
        await enc.classifyScores(d.ids),
        d.classify!.map((x) => 1 / (1 + Math.exp(-x))),
        'sigmoid scores',
      );
      const masked = d.ids.map((s) => [...s]);
      masked[2][5] = 4;
      masked[2][9] = 4;
      const filled = await enc.fillMask(masked, { maskId: 4, topK: 3 });
      expect(filled.map((f) => f.map((m) => m.position))).toEqual([
        [],
        d.ids[1].includes(4) ? [d.ids[1].indexOf(4)] : [],
        [5, 9],
        d.ids[3].includes(4) ? [d.ids[3].indexOf(4)] : [],
      ]);
      const logits = (await enc.maskedLM(masked))[2].slice(5 * 41, 6 * 41);
      const best = Array.from(logits.keys()).sort((a, b) => logits[b] - logits[a]);
      expect(filled[2][0].tokens.map((t) => t.id)).toEqual(best.slice(0, 3));
      const z = Array.from(logits).reduce((s, x) => s + Math.exp(x - logits[best[0]]), 0);
      expect(filled[2][0].tokens[0].score).toBeCloseTo(1 / z, 5);
    } finally {
      enc.dispose();
    }
    const b = expected.bert;
    const bert = await Encoder.fromSafetensors(engine, file('bert.safetensors'), b.config);
    try {
      const s = await bert.classifyScores({ ids: b.ids, typeIds: b.typeIds });
      for (let i = 0; i < 4; i++) expect(s.slice(i * 3, i * 3 + 3).reduce((x, y) => x + y, 0)).toBeCloseTo(1, 6);
    } finally {
      bert.dispose();
    }
  });

  it('f16, int8 and q4 weights equal f32 on the same rounded weights (q4_k falls back to q5_0 for rows of 32 and f16 for rows of 37, as llama-quantize)', async () => {
    const ref = expected.bert;
    const src = SafetensorsFile.parse(file('bert.safetensors'));
    const batch = { ids: ref.ids, typeIds: ref.typeIds };
    for (const [weights, scheme] of [
      ['f16', 'f16'],
      ['int8', 'q8_0'],
      ['q4_k', 'q4_k'],
    ] as const) {
      // Every linear layer's matrix replaced by what its packing stands for (rows are packed one by
      // one, so fusing q, k and v changes nothing); the embedding tables stay f32.
      const back = new Map<string, Float32Array>();
      for (const [name, e] of src.entries) {
        if (e.shape.length !== 2 || name.includes('embeddings.')) continue;
        const [N, K] = e.shape;
        // q4_k's rows of 32 take q5_0 and those of 37 f16, as llama-quantize falls back
        const s = scheme === 'q4_k' ? (K % 256 === 0 ? 'q4_k' : K % 32 === 0 ? 'q5_0' : 'f16') : scheme;
        const q = await engine.quantize(src.float32(name), { K, N, scheme: s, layout: 'NK' });
        back.set(name, Float32Array.from(dequantize(await q.read())));
        q.dispose();
      }
      const rounded = rewriteSafetensors(src, (name, _shape, data) => back.get(name) ?? data);
      const exact = await Encoder.fromSafetensors(engine, rounded, ref.config, { weights: 'f32' });
      const packed = await Encoder.fromSafetensors(engine, file('bert.safetensors'), ref.config, { weights });
      try {
        const [got, want] = [await packed.forward(batch), await exact.forward(batch)];
        got.forEach((h, i) => {
          expectRel(h, Array.from(want[i]), `${weights} hidden ${i}`);
        });
        expectRel(await packed.classify(batch), Array.from(await exact.classify(batch)), `${weights} classify`);
      } finally {
        exact.dispose();
        packed.dispose();
      }
    }
  });

  it('plans are bucketed by total tokens: batches of 9 to 16 tokens share one plan', async () => {
    expect([1, 16, 17, 20, 21, 33, 100, 129].map(tokenBucket)).toEqual([16, 16, 20, 20, 24, 40, 112, 160]);
    const ref = expected.bert;
    const enc = await Encoder.fromSafetensors(engine, file('bert.safetensors'), ref.config);
    try {
      const a = await enc.forward([ref.ids[1], ref.ids[3]]); // 10 tokens
      const b = await enc.forward([ref.ids[3], ref.ids[0], ref.ids[1]]); // 11 tokens
      expectClose(Float64Array.from(b[2]), Float64Array.from(a[0]), { atol: 1e-5, rtol: 0 }, 'same sequence, another batch');
      expect((enc as unknown as { plans: { size: number } }).plans.size).toBe(1);
    } finally {
      enc.dispose();
    }
    // The bench's random checkpoint loads as a BERT and gives finite states.
    const cfg = {
      model_type: 'bert',
      vocab_size: 50,
      hidden_size: 32,
      num_hidden_layers: 1,
      num_attention_heads: 4,
      intermediate_size: 64,
      max_position_embeddings: 40,
    };
    const random = await Encoder.fromSafetensors(engine, randomBertCheckpoint(cfg), cfg);
    const [h] = await random.forward([[1, 2, 3]]);
    expect(h.length).toBe(3 * 32);
    expect(h.every(Number.isFinite)).toBe(true);
    random.dispose();
  });
});

describe('Encoder: bad input', () => {
  const cfg = expected.bert.config;

  it('an unsupported model_type names the supported list; a config without sizes is a ShapeError', async () => {
    await expect(Encoder.fromSafetensors(engine, file('bert.safetensors'), { ...cfg, model_type: 'electra' })).rejects.toThrow(
      /model_type "electra" is not supported; supported: bert, roberta, xlm-roberta, distilbert, modernbert/,
    );
    await expect(Encoder.fromSafetensors(engine, file('bert.safetensors'), { ...cfg, hidden_size: undefined })).rejects.toThrow(ShapeError);
    await expect(
      Encoder.fromSafetensors(engine, file('bert.safetensors'), { ...cfg, model_type: undefined, architectures: ['GPT2LMHeadModel'] }),
    ).rejects.toThrow(/model_type "GPT2LMHeadModel" is not supported/);
    const inferred = await Encoder.fromSafetensors(engine, file('bert-bare.safetensors'), {
      ...expected.bare.config,
      model_type: undefined,
      architectures: ['BertModel'],
    });
    expect(inferred.shape.type).toBe('bert');
    inferred.dispose();
    await expect(Encoder.fromSafetensors(engine, file('bert.safetensors'), { ...cfg, hidden_act: 'gelu_10' })).rejects.toThrow(
      /activation 'gelu_10' is not supported/,
    );
    await expect(Encoder.fromSafetensors(engine, file('distilbert.safetensors'), cfg)).rejects.toThrow(
      /has no 'bert.embeddings.word_embeddings.weight'/,
    );
    await expect(Encoder.fromSafetensors(engine, file('bert.safetensors'), cfg, { weights: 'q3' as 'f16' })).rejects.toThrow(ArgumentError);
    await expect(
      Encoder.fromSafetensors(engine, file('bert.safetensors'), { ...cfg, position_embedding_type: 'relative_key' } as EncoderConfig),
    ).rejects.toThrow(/position_embedding_type 'relative_key' is not supported; supported: absolute/);
    const mb = expected.modernbert.config;
    await expect(
      Encoder.fromSafetensors(engine, file('modernbert.safetensors'), { ...mb, architectures: ['ModernBertForQuestionAnswering'] }),
    ).rejects.toThrow(/a question-answering classifier has 2 outputs \(start, end\), this one 3/);
  });

  it('bad batches: empty, an empty sequence, ids past the vocabulary, too long, wrong type ids; all from the base error', async () => {
    const enc = await Encoder.fromSafetensors(engine, file('bert.safetensors'), cfg);
    try {
      const bad: [unknown, RegExp][] = [
        [[], /non-empty list/],
        [[[2, 3], []], /non-empty list/],
        [[[2, 41]], /token 41 at sequence 0, position 1 is not an id below the vocabulary size 41/],
        [[[2, 3.5]], /token 3.5/],
        [[Array(41).fill(3)], /sequence 0 has 41 tokens; this model takes at most 40/],
        [{ ids: [[2, 3]], typeIds: [[0]] }, /typeIds\[0\] has 1 entries for 2 tokens/],
        [{ ids: [[2, 3]], typeIds: [[0, 2]] }, /typeIds\[0\]\[1\] is 2; this model has 2 token types/],
      ];
      for (const [batch, msg] of bad) {
        const err = await enc.forward(batch as number[][]).catch((e) => e);
        expect(err, String(msg)).toBeInstanceOf(WebGPUNLPError);
        expect(String(err.message)).toMatch(msg);
      }
      await expect(enc.fillMask([[2, 3]], { maskId: 4, topK: 0 })).rejects.toThrow(/topK must be a positive integer/);
      await expect(enc.embed([[2, 3]], { pooling: 'sum' as 'mean' })).rejects.toThrow(/pooling must be 'mean', 'cls' or 'max'/);
    } finally {
      enc.dispose();
    }
    await expect(enc.forward([[2, 3]])).rejects.toThrow(/disposed/);
  });
});

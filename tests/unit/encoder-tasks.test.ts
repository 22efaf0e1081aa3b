// The pipelines' CPU steps (encoder-tasks.ts) on small printable cases: QA's best span, entity grouping
// with transformers' 'simple' / 'first' / 'max' aggregation, pooling and top-k.
import { describe, expect, it } from 'vitest';
import {
  ArgumentError,
  type TokenEntity,
  UnsupportedError,
  bestSpan,
  groupEntities,
  pool,
  sentenceTransformersOptions,
} from '../../src/index';

const LABELS = ['O', 'B-PER', 'I-PER', 'B-LOC', 'I-LOC'];

/** Logits [T × 5] with `peak` at each token's label and 0 elsewhere. */
function logits(tags: string[], peaks: number[] = []): Float32Array {
  const out = new Float32Array(tags.length * LABELS.length);
  tags.forEach((tag, t) => {
    out[t * LABELS.length + LABELS.indexOf(tag)] = peaks[t] ?? 5;
  });
  return out;
}
const p = (peak: number) => Math.exp(peak) / (Math.exp(peak) + 4);

/** Entities equal, their scores (probabilities kept in f32) to 1e-6. */
function expectEntities(got: TokenEntity[], want: TokenEntity[]): void {
  expect(got.map(({ score, ...e }) => e)).toEqual(want.map(({ score, ...e }) => e));
  got.forEach((e, i) => {
    expect(e.score).toBeCloseTo(want[i].score, 6);
  });
}

describe('groupEntities', () => {
  // [CLS] my name is wolf ##gang and i live in berlin [SEP]
  const tags = ['O', 'O', 'O', 'O', 'B-PER', 'B-LOC', 'O', 'O', 'O', 'O', 'B-LOC', 'O'];
  const skip = tags.map((_, t) => t === 0 || t === 11);
  const wordStart = tags.map((_, t) => t !== 5);
  const x = logits(tags, [5, 5, 5, 5, 4, 2, 5, 5, 5, 5, 6, 5]);

  it("'simple': each token's argmax; B- starts an entity, I- of the same type joins; 'O' and special tokens left out", () => {
    expectEntities(groupEntities(x, LABELS, { skip }), [
      { entity: 'PER', score: p(4), start: 4, end: 5 },
      { entity: 'LOC', score: p(2), start: 5, end: 6 },
      { entity: 'LOC', score: p(6), start: 10, end: 11 },
    ]);
    const joined = logits(['B-PER', 'I-PER', 'I-PER', 'O', 'I-LOC', 'I-LOC', 'B-LOC'], [1, 2, 3, 4, 5, 6, 7]);
    expect(groupEntities(joined, LABELS).map((e) => [e.entity, e.start, e.end])).toEqual([
      ['PER', 0, 3],
      ['LOC', 4, 6],
      ['LOC', 6, 7],
    ]);
    expect(groupEntities(joined, LABELS)[0].score).toBeCloseTo((p(1) + p(2) + p(3)) / 3, 6);
  });

  it("'first' and 'max': one label per word (wolf ##gang), from its first or its most confident token", () => {
    expectEntities(groupEntities(x, LABELS, { skip, wordStart, strategy: 'first' }), [
      { entity: 'PER', score: p(4), start: 4, end: 6 },
      { entity: 'LOC', score: p(6), start: 10, end: 11 },
    ]);
    const y = logits(tags, [5, 5, 5, 5, 2, 4, 5, 5, 5, 5, 6, 5]); // ##gang more sure of LOC than wolf of PER
    expectEntities(groupEntities(y, LABELS, { skip, wordStart, strategy: 'max' }), [
      { entity: 'LOC', score: p(4), start: 4, end: 6 },
      { entity: 'LOC', score: p(6), start: 10, end: 11 },
    ]);
    expect(() => groupEntities(y, LABELS, { strategy: 'first' })).toThrow(ArgumentError);
    // With the tokens' offsets (encodeWithOffsets), character spans: "My name is Wolfgang and I live in Berlin".
    const offsets: [number, number][] = [
      [0, 0],
      [0, 2],
      [3, 7],
      [8, 10],
      [11, 15],
      [15, 19],
      [20, 23],
      [24, 25],
      [26, 30],
      [31, 33],
      [34, 40],
      [0, 0],
    ];
    const spans = groupEntities(x, LABELS, { skip, wordStart, strategy: 'first', offsets }).map((e) => [e.entity, e.startChar, e.endChar]);
    expect(spans).toEqual([
      ['PER', 11, 19],
      ['LOC', 34, 40],
    ]);
  });
});

describe('bestSpan', () => {
  it('the largest p_start · p_end with start ≤ end < start + maxLength, inside the context only', () => {
    const start = [9, 0, 1, 4, 0, 0, 1, 0];
    const end = [9, 0, 0, 1, 0, 3, 0, 5];
    // Context [1, 8): start 3 is likeliest, end 7 likeliest; 3..7 is 5 tokens.
    const s = bestSpan(start, end, { from: 1, to: 8 });
    expect([s.start, s.end]).toEqual([3, 7]);
    const z = (xs: number[]) => xs.slice(1).reduce((a, v) => a + Math.exp(v), 0);
    expect(s.score).toBeCloseTo((Math.exp(4) / z(start)) * (Math.exp(5) / z(end)), 6);
    // At most 3 tokens: 3..5.
    expect(bestSpan(start, end, { from: 1, to: 8, maxLength: 3 })).toMatchObject({ start: 3, end: 5 });
    // An end before every start never wins: with the context [1, 4), 3..3.
    expect(bestSpan(start, end, { from: 1, to: 4 })).toMatchObject({ start: 3, end: 3 });
    expect(() => bestSpan(start, end, { from: 4, to: 4 })).toThrow(/non-empty range/);
  });
});

describe('pool', () => {
  it('mean, cls and max over the tokens', () => {
    const h = Float32Array.from([1, -2, 3, 4, 5, 0]); // 3 tokens × 2
    expect(Array.from(pool(h, 2, 'mean'))).toEqual([3, 2 / 3].map(Math.fround));
    expect(Array.from(pool(h, 2, 'cls'))).toEqual([1, -2]);
    expect(Array.from(pool(h, 2, 'max'))).toEqual([5, 4]);
  });
});

describe('sentenceTransformersOptions', () => {
  const modules = [
    { idx: 0, name: '0', path: '', type: 'sentence_transformers.models.Transformer' },
    { idx: 1, name: '1', path: '1_Pooling', type: 'sentence_transformers.models.Pooling' },
    { idx: 2, name: '2', path: '2_Normalize', type: 'sentence_transformers.models.Normalize' },
  ];
  const pooling = (mode: string) => ({
    word_embedding_dimension: 384,
    pooling_mode_cls_token: mode === 'cls_token',
    pooling_mode_mean_tokens: mode === 'mean_tokens',
    pooling_mode_max_tokens: mode === 'max_tokens',
    pooling_mode_mean_sqrt_len_tokens: mode === 'mean_sqrt_len_tokens',
  });

  it("all-MiniLM-L6-v2's folder: mean pooling, normalized; the JSON text works too", () => {
    expect(sentenceTransformersOptions(modules, pooling('mean_tokens'))).toEqual({ pooling: 'mean', normalize: true });
    expect(sentenceTransformersOptions(JSON.stringify(modules.slice(0, 2)), JSON.stringify(pooling('cls_token')))).toEqual({
      pooling: 'cls',
      normalize: false,
    });
    expect(() => sentenceTransformersOptions(modules, pooling('mean_sqrt_len_tokens'))).toThrow(UnsupportedError);
    expect(() => sentenceTransformersOptions(modules)).toThrow(/needs its config.json/);
  });
});

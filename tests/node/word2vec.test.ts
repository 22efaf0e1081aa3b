// Word vectors: the three file formats, GPU cosine + top-k against gensim's most_similar (fixture from
// tools/train_word2vec.py), and bad files.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Word2Vec, parseGloVe, parseWord2VecBinary, parseWord2VecText, type Engine } from '../../src/index';
import { createTestEngine } from '../helpers/engine';

const dir = 'tests/fixtures/word2vec';
const bin = new Uint8Array(readFileSync(`${dir}/small.bin`));
const txt = readFileSync(`${dir}/small.txt`, 'utf8');
const glove = readFileSync(`${dir}/small.glove.txt`, 'utf8');
const expected = JSON.parse(readFileSync(`${dir}/expected.json`, 'utf8')) as {
  most_similar: Record<string, [string, number][]>;
  analogy: { a: string; b: string; c: string; result: [string, number][] }[];
};

let engine: Engine;
beforeAll(async () => {
  engine = await createTestEngine();
});
afterAll(() => engine?.dispose());

function expectSameAsGensim(got: { word: string; score: number }[], want: [string, number][]) {
  expect(got.map((n) => n.word)).toEqual(want.map(([w]) => w));
  for (const [i, n] of got.entries()) expect(Math.abs(n.score - want[i][1])).toBeLessThan(1e-5);
}

describe('word2vec', () => {
  it('reads the binary, text and GloVe formats to the same vectors', () => {
    const a = parseWord2VecBinary(bin);
    const b = parseWord2VecText(txt);
    const c = parseGloVe(glove);
    expect(a.words.length).toBe(400);
    expect(b.words).toEqual(a.words);
    expect(c.words).toEqual(a.words);
    for (const v of [b, c]) {
      expect(v.dim).toBe(a.dim);
      let worst = 0;
      for (let i = 0; i < a.vectors.length; i++) worst = Math.max(worst, Math.abs(v.vectors[i] - a.vectors[i]));
      expect(worst).toBeLessThan(1e-6);
    }
  });

  it('most_similar and analogies match gensim: same words, same order, same scores', async () => {
    const w2v = await Word2Vec.fromBinary(engine, bin);
    for (const [word, want] of Object.entries(expected.most_similar)) expectSameAsGensim(await w2v.mostSimilar(word, 10), want);
    for (const q of expected.analogy) expectSameAsGensim(await w2v.analogy(q.a, q.b, q.c, 5), q.result);
    w2v.dispose();
  });

  it('an unknown word is an error that names it', async () => {
    const w2v = await Word2Vec.fromBinary(engine, bin);
    await expect(w2v.mostSimilar('xylophone')).rejects.toThrow(/'xylophone' is not in the vocabulary \(400 words\)/);
    w2v.dispose();
  });

  it('header counts that disagree with the data, truncation and non-UTF-8 are errors', () => {
    expect(() => parseWord2VecBinary(bin.subarray(0, bin.length - 10))).toThrow(/truncated/);
    const header = new TextEncoder().encode('401 64\n');
    const more = new Uint8Array(bin.length - bin.indexOf(10) - 1 + header.length);
    more.set(header);
    more.set(bin.subarray(bin.indexOf(10) + 1), header.length);
    expect(() => parseWord2VecBinary(more)).toThrow(/header says 401 words, the data ends after 400/);
    expect(() => parseWord2VecText(txt.replace(/^400 /, '399 '))).toThrow(/header says 399 words, the file has 400/);
    expect(() => parseWord2VecText(txt.replace(/^400 64/, '400 65'))).toThrow(/has 64 numbers, expected 65/);
    expect(() => parseGloVe('a 1 2\nb 1\n')).toThrow(/line 2 \('b'\) has 1 numbers, expected 2/);
    expect(() => parseGloVe(new Uint8Array([0x61, 0x20, 0xff, 0xfe]))).toThrow(/not UTF-8/);
  });
});

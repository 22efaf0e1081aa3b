// Word vectors on the GPU: rows normalised once at load (a kernel), and each query is one
// matrix-vector product against the whole vocabulary followed by GPU top-k, so only k results come
// back. mostSimilar and analogy follow gensim's KeyedVectors.most_similar: the query is the unit mean
// of the unit vectors (+1 for positive words, -1 for negative ones) and the query words are excluded.
import type { GPUContext } from '../gpu/engine';
import { Graph } from '../graph/graph';
import { ArgumentError, DisposedError, ShapeError } from '../errors';
import type { Plan } from '../graph/plan';
import { PlanCache } from '../graph/plan-cache';
import {
  checkWordVectors,
  parseGloVe,
  parseWord2VecBinary,
  parseWord2VecText,
  type WordVectorOptions,
  type WordVectors,
} from '../io/word2vec';
import type { Tensor } from '../gpu/tensor';

export interface Neighbour {
  word: string;
  score: number;
}

const MAX_EXCLUDE = 16;

export class UnknownWordError extends ArgumentError {
  override name = 'UnknownWordError';
}

export class Word2Vec {
  private index = new Map<string, number>();
  /** Compiled query plans per k, at most 4 (least recently used out). */
  private plans = new PlanCache(4);
  private disposed = false;

  private constructor(
    readonly engine: GPUContext,
    readonly words: readonly string[],
    readonly dim: number,
    /** The vectors as loaded (CPU), for building queries and for projections. */
    private readonly raw: Float32Array,
    /** Unit rows [V, D] on the GPU. */
    private readonly unit: Tensor,
  ) {
    words.forEach((w, i) => {
      if (!this.index.has(w)) this.index.set(w, i);
    });
  }

  /** Uploads vectors and normalises every row on the GPU. */
  static async fromVectors(engine: GPUContext, v: WordVectors): Promise<Word2Vec> {
    checkWordVectors(v);
    const g = new Graph(engine, 'word2vec normalise');
    const plan = await g.compile({ unit: g.normalize(g.input('raw', [v.words.length, v.dim])) });
    try {
      const { unit } = await plan.runToGPU({ raw: v.vectors });
      const owned = engine.empty([v.words.length, v.dim], 'f32', 'word vectors (unit rows)');
      await engine.scoped('word2vec load', () => {
        const enc = engine.device.createCommandEncoder({ label: 'word2vec load' });
        enc.copyBufferToBuffer(unit.buffer, 0, owned.buffer, 0, owned.buffer.size);
        engine.device.queue.submit([enc.finish()]);
      });
      return new Word2Vec(engine, v.words, v.dim, v.vectors, owned);
    } finally {
      plan.dispose();
    }
  }

  /** The word2vec C binary format (GoogleNews-vectors-negative300.bin and friends). */
  static async fromBinary(engine: GPUContext, bytes: Uint8Array | ArrayBuffer, options: WordVectorOptions = {}): Promise<Word2Vec> {
    return Word2Vec.fromVectors(engine, parseWord2VecBinary(bytes, options));
  }

  /** The word2vec text format ("V D" header). */
  static async fromText(engine: GPUContext, text: Uint8Array | ArrayBuffer | string, options: WordVectorOptions = {}): Promise<Word2Vec> {
    return Word2Vec.fromVectors(engine, parseWord2VecText(text, options));
  }

  /** GloVe text (glove.6B.100d.txt and friends). */
  static async fromGloVe(engine: GPUContext, text: Uint8Array | ArrayBuffer | string, options: WordVectorOptions = {}): Promise<Word2Vec> {
    return Word2Vec.fromVectors(engine, parseGloVe(text, options));
  }

  get size(): number {
    return this.words.length;
  }

  has(word: string): boolean {
    return this.index.has(word);
  }

  private indexOf(word: string): number {
    const i = this.index.get(word);
    if (i === undefined) throw new UnknownWordError(`'${word}' is not in the vocabulary (${this.words.length} words)`);
    return i;
  }

  /** The vector of a word as loaded. */
  vector(word: string): Float32Array {
    const i = this.indexOf(word);
    return this.raw.slice(i * this.dim, (i + 1) * this.dim);
  }

  private withPlan<R>(k: number, fn: (plan: Plan) => Promise<R>): Promise<R> {
    if (this.disposed) throw new DisposedError('Word2Vec: the model was disposed');
    const build = () => {
      const g = new Graph(this.engine, `word2vec top-${k}`);
      const E = g.constant('unit', this.unit); // [V, D]
      const scores = g.matmul(g.input('query', [1, this.dim]), E, { transposeB: true }); // [1, V]
      return g.compile({ top: g.topk(scores, g.input('exclude', [MAX_EXCLUDE], 'u32'), k, { exclude: g.scalar('excluded') }) });
    };
    return this.plans.use(String(k), build, fn);
  }

  /** gensim's most_similar(positive, negative, topn). */
  async query(positive: string[], negative: string[], k = 10): Promise<Neighbour[]> {
    if (!(Number.isInteger(k) && k >= 1)) throw new ArgumentError(`word2vec: k must be a positive integer, got ${k}`);
    if (!Array.isArray(positive) || !Array.isArray(negative))
      throw new ArgumentError('word2vec: positive and negative must be arrays of words');
    const ids = [...positive, ...negative].map((w) => this.indexOf(w));
    if (!ids.length) throw new ShapeError('word2vec: give at least one word');
    if (ids.length > MAX_EXCLUDE) throw new ShapeError(`word2vec: at most ${MAX_EXCLUDE} query words`);
    const n = Math.min(k, this.words.length - new Set(ids).size);
    if (n < 1) return [];
    const D = this.dim;
    const mean = new Float32Array(D);
    ids.forEach((id, j) => {
      const weight = j < positive.length ? 1 : -1;
      let s = 0;
      for (let d = 0; d < D; d++) s += this.raw[id * D + d] ** 2;
      const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
      for (let d = 0; d < D; d++) mean[d] += (weight * this.raw[id * D + d] * inv) / ids.length;
    });
    let s = 0;
    for (let d = 0; d < D; d++) s += mean[d] ** 2;
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let d = 0; d < D; d++) mean[d] *= inv;
    const exclude = new Uint32Array(MAX_EXCLUDE);
    exclude.set(ids);
    const top = (await this.withPlan(n, (plan) => plan.run({ query: mean, exclude, excluded: ids.length }))).top as Uint32Array;
    const scores = new Float32Array(top.buffer, top.byteOffset + 4 * n, n);
    return Array.from({ length: n }, (_, r) => ({ word: this.words[top[r]], score: scores[r] }));
  }

  /** The k words closest to `word` by cosine similarity, `word` itself left out. */
  mostSimilar(word: string, k = 10): Promise<Neighbour[]> {
    return this.query([word], [], k);
  }

  /** a is to b as c is to ?: b − a + c (gensim's most_similar(positive=[b, c], negative=[a])). */
  analogy(a: string, b: string, c: string, k = 5): Promise<Neighbour[]> {
    return this.query([b, c], [a], k);
  }

  /** GPU bytes held. */
  memoryBytes(): number {
    return this.unit.byteLength;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.plans.dispose();
    this.unit.dispose();
  }
}

// Semantic search: a matrix of unit vectors [N, C] kept on the GPU (a corpus embedded once), and the
// top-k rows by cosine similarity for a query through one matmul and the GPU top-k. Build it from an
// Encoder and token ids (in batches, with progress and cancel) or from vectors you have.
import { ArgumentError, DisposedError } from '../errors';
import type { GPUContext } from '../gpu/engine';
import type { Tensor } from '../gpu/tensor';
import { Graph } from '../graph/graph';
import { PlanCache } from '../graph/plan-cache';
import type { EmbedOptions, Encoder } from './encoder';

export interface IndexBuildOptions extends Omit<EmbedOptions, 'normalize'> {
  /** Sequences per Encoder call (default 32). */
  batchSize?: number;
  /** Called after each batch with the sequences embedded so far and the total. */
  onProgress?: (done: number, total: number) => void;
  /** Stops between batches with the signal's reason (an AbortError by default). */
  signal?: AbortSignal;
}

export class SemanticIndex {
  private readonly plans = new PlanCache(4);
  private disposed = false;

  private constructor(
    readonly engine: GPUContext,
    /** Unit rows [size, dim] on the GPU. */
    private readonly unit: Tensor,
    readonly size: number,
    readonly dim: number,
  ) {}

  /** Embeds `corpus` (token ids per text) with `encoder`, L2-normalised, and keeps the matrix on the GPU. */
  static async build(encoder: Encoder, corpus: readonly (readonly number[])[], o: IndexBuildOptions = {}): Promise<SemanticIndex> {
    const batchSize = o.batchSize ?? 32;
    if (!(Number.isInteger(batchSize) && batchSize >= 1))
      throw new ArgumentError(`SemanticIndex.build: batchSize must be a positive integer, got ${batchSize}`);
    if (!Array.isArray(corpus) || corpus.length === 0)
      throw new ArgumentError('SemanticIndex.build: the corpus must be a non-empty list of token id lists');
    const C = encoder.shape.hidden;
    const vectors = new Float32Array(corpus.length * C);
    for (let at = 0; at < corpus.length; at += batchSize) {
      o.signal?.throwIfAborted();
      const part = corpus.slice(at, at + batchSize);
      vectors.set(await encoder.embed(part, { pooling: o.pooling, normalize: true }), at * C);
      o.onProgress?.(at + part.length, corpus.length);
    }
    return SemanticIndex.fromVectors(encoder.engine, vectors, C);
  }

  /** Rows of `vectors` [N × dim], normalised to unit length here. */
  static fromVectors(engine: GPUContext, vectors: Float32Array, dim: number): SemanticIndex {
    if (!(Number.isInteger(dim) && dim >= 1 && vectors.length > 0 && vectors.length % dim === 0))
      throw new ArgumentError(`SemanticIndex: ${vectors.length} values are not whole rows of ${dim}`);
    const N = vectors.length / dim;
    const unit = new Float32Array(vectors.length);
    for (let r = 0; r < N; r++) {
      let s = 0;
      for (let c = 0; c < dim; c++) s += vectors[r * dim + c] ** 2;
      const inv = 1 / Math.max(Math.sqrt(s), 1e-12);
      for (let c = 0; c < dim; c++) unit[r * dim + c] = vectors[r * dim + c] * inv;
    }
    return new SemanticIndex(engine, engine.tensor(unit, [N, dim], 'semantic index'), N, dim);
  }

  /** The `k` rows most similar to `query` (a vector of `dim`, any length): indices and cosine scores, best first. */
  async search(query: ArrayLike<number>, k = 10): Promise<{ index: number; score: number }[]> {
    if (this.disposed) throw new DisposedError('SemanticIndex: the index was disposed');
    if (!(Number.isInteger(k) && k >= 1)) throw new ArgumentError(`SemanticIndex.search: k must be a positive integer, got ${k}`);
    if (query?.length !== this.dim)
      throw new ArgumentError(`SemanticIndex.search: the query has ${query?.length} values, the index ${this.dim}`);
    const n = Math.min(k, this.size);
    let s = 0;
    for (let c = 0; c < this.dim; c++) s += query[c] ** 2;
    const q = Float32Array.from(query, (x) => x / Math.max(Math.sqrt(s), 1e-12));
    const build = () => {
      const g = new Graph(this.engine, `semantic search top-${n}`);
      const scores = g.matmul(g.input('query', [1, this.dim]), g.constant('index', this.unit), { transposeB: true }); // [1, N]
      return g.compile({ top: g.topk(scores, g.input('exclude', [1], 'u32'), n) });
    };
    const { top } = await this.plans.use(String(n), build, (plan) => plan.run({ query: q, exclude: new Uint32Array(1) }));
    const ids = top as Uint32Array;
    const scores = new Float32Array(ids.buffer, ids.byteOffset + 4 * n, n);
    return Array.from({ length: n }, (_, r) => ({ index: ids[r], score: scores[r] }));
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.plans.dispose();
    this.unit.dispose();
  }
}

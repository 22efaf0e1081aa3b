// What the pipelines of transformers (and transformers.js) make of an encoder's logits, on the CPU:
// pooling token states into one vector, probabilities, the best answer span of extractive QA, and
// token labels grouped into entities ('simple', 'first', 'max' aggregation). Token indices, not
// characters: a tokenizer maps them back to text.
import { ArgumentError, UnsupportedError } from '../errors';

export type Pooling = 'mean' | 'cls' | 'max';

/** Token states h [T, C] pooled to [C]: the mean, the first token's, or the maximum per feature. */
export function pool(h: Float32Array, C: number, how: Pooling): Float32Array {
  const T = h.length / C;
  if (how === 'cls') return h.slice(0, C);
  const out = new Float64Array(C).fill(how === 'max' ? -Infinity : 0);
  for (let t = 0; t < T; t++) for (let c = 0; c < C; c++) out[c] = how === 'max' ? Math.max(out[c], h[t * C + c]) : out[c] + h[t * C + c];
  if (how === 'mean') for (let c = 0; c < C; c++) out[c] /= T;
  return Float32Array.from(out);
}

/** Softmax of x, in place (computed in float64). */
export function softmaxInPlace(x: Float32Array): Float32Array {
  let m = -Infinity;
  for (const v of x) m = Math.max(m, v);
  let sum = 0;
  const e = Float64Array.from(x, (v) => Math.exp(v - m));
  for (const v of e) sum += v;
  for (let i = 0; i < x.length; i++) x[i] = e[i] / sum;
  return x;
}

/** The `k` largest entries of x, highest first: [index, value]. */
export function topK(x: ArrayLike<number>, k: number): [number, number][] {
  return Array.from({ length: x.length }, (_, i): [number, number] => [i, x[i]])
    .sort((a, b) => b[1] - a[1])
    .slice(0, k);
}

/**
 * The best answer of extractive QA from start and end logits over one sequence's tokens, as
 * transformers' question-answering pipeline picks it: probabilities by softmax over the allowed tokens
 * [from, to) (the context), the span start ≤ end < start + maxLength (default 15) with the largest
 * p_start · p_end. `end` is inclusive.
 */
export function bestSpan(
  start: ArrayLike<number>,
  end: ArrayLike<number>,
  o: { from?: number; to?: number; maxLength?: number } = {},
): { start: number; end: number; score: number } {
  const from = o.from ?? 0;
  const to = o.to ?? start.length;
  const maxLength = o.maxLength ?? 15;
  if (start.length !== end.length) throw new ArgumentError(`bestSpan: ${start.length} start logits but ${end.length} end logits`);
  if (!(Number.isInteger(from) && Number.isInteger(to) && 0 <= from && from < to && to <= start.length))
    throw new ArgumentError(`bestSpan: the context [${from}, ${to}) must be a non-empty range of the ${start.length} tokens`);
  if (!(Number.isInteger(maxLength) && maxLength >= 1))
    throw new ArgumentError(`bestSpan: maxLength must be a positive integer, got ${maxLength}`);
  const ps = softmaxInPlace(Float32Array.from({ length: to - from }, (_, i) => start[from + i]));
  const pe = softmaxInPlace(Float32Array.from({ length: to - from }, (_, i) => end[from + i]));
  let best = { start: from, end: from, score: -1 };
  for (let i = 0; i < ps.length; i++)
    for (let j = i; j < Math.min(ps.length, i + maxLength); j++) {
      const score = ps[i] * pe[j];
      if (score > best.score) best = { start: from + i, end: from + j, score };
    }
  return best;
}

/** One entity: its label without the B- / I- prefix, the mean score of its tokens, tokens [start, end). */
export interface TokenEntity {
  entity: string;
  score: number;
  start: number;
  end: number;
  /** With `offsets`: the entity's characters [startChar, endChar) in the text. */
  startChar?: number;
  endChar?: number;
}

/**
 * Token-classification logits [T × labels] of one sequence grouped into entities, as transformers'
 * token-classification pipeline groups them: each token's label is its softmax argmax ('simple'), or
 * each word takes the label of its first token ('first') or of its most confident token ('max');
 * `wordStart` marks the tokens that begin a word (WordPiece: those without '##'). The tokens marked
 * `skip` (special tokens) are dropped first; then neighbours with the same entity join (a B- tag starts
 * a new one) and 'O' is left out. Scores are the mean of the joined tokens' (or words') scores.
 */
export function groupEntities(
  logits: Float32Array,
  labels: readonly string[],
  o: {
    strategy?: 'simple' | 'first' | 'max';
    skip?: readonly boolean[];
    wordStart?: readonly boolean[];
    /** Each token's [start, end) in the text (TextTokenizer.encodeWithOffsets): entities get character spans. */
    offsets?: readonly (readonly [number, number])[];
  } = {},
): TokenEntity[] {
  const n = labels.length;
  const T = logits.length / n;
  const strategy = o.strategy ?? 'simple';
  if (!Number.isInteger(T)) throw new ArgumentError(`groupEntities: ${logits.length} logits are not rows of ${n} labels`);
  if (strategy !== 'simple' && (!o.wordStart || o.wordStart.length !== T))
    throw new ArgumentError(`groupEntities: strategy '${strategy}' needs wordStart, one flag per token (${T})`);
  const tokens = Array.from({ length: T }, (_, t) => {
    const p = softmaxInPlace(logits.slice(t * n, (t + 1) * n));
    const [[label, score]] = topK(p, 1);
    return { label, score, t };
  }).filter((x) => !o.skip?.[x.t]);
  // Words: runs of tokens from a word start ('simple': every token is its own word).
  const words: { label: number; score: number; start: number; end: number }[] = [];
  for (const x of tokens) {
    const last = words.at(-1);
    if (strategy === 'simple' || o.wordStart![x.t] || !last) words.push({ label: x.label, score: x.score, start: x.t, end: x.t + 1 });
    else {
      if (strategy === 'max' && x.score > last.score) Object.assign(last, { label: x.label, score: x.score });
      last.end = x.t + 1;
    }
  }
  const out: (TokenEntity & { scores: number[] })[] = [];
  for (const w of words) {
    const name = labels[w.label];
    const [bi, tag] = /^[BI]-/.test(name) ? [name[0], name.slice(2)] : ['I', name];
    const last = out.at(-1);
    if (last && last.entity === tag && bi === 'I') {
      last.end = w.end;
      last.scores.push(w.score);
    } else out.push({ entity: tag, score: 0, start: w.start, end: w.end, scores: [w.score] });
  }
  const chars = (e: TokenEntity) => (o.offsets ? { startChar: o.offsets[e.start][0], endChar: o.offsets[e.end - 1][1] } : {});
  return out
    .filter((e) => e.entity !== 'O')
    .map(({ scores, ...e }) => ({ ...e, score: scores.reduce((a, b) => a + b, 0) / scores.length, ...chars(e) }));
}

/**
 * embed()'s options from a sentence-transformers folder: modules.json (the module list) and, where it
 * has a Pooling module, that module's config.json (1_Pooling/config.json); a Normalize module sets
 * `normalize`. Pooling modes other than one of cls / mean / max are an UnsupportedError.
 */
export function sentenceTransformersOptions(modules: unknown, poolingConfig?: unknown): { pooling?: Pooling; normalize: boolean } {
  const json = (x: unknown, what: string): unknown => {
    if (typeof x !== 'string') return x;
    try {
      return JSON.parse(x);
    } catch (e) {
      throw new ArgumentError(`sentence-transformers: ${what} is not valid JSON (${(e as Error).message})`);
    }
  };
  const list = json(modules, 'modules.json');
  if (!Array.isArray(list)) throw new ArgumentError('sentence-transformers: modules.json must be a list of modules');
  const types = list.map((m) => String((m as { type?: unknown })?.type ?? ''));
  const normalize = types.some((t) => t.endsWith('.Normalize'));
  if (!types.some((t) => t.endsWith('.Pooling'))) return { normalize };
  const cfg = json(poolingConfig, '1_Pooling/config.json') as Record<string, unknown> | undefined;
  if (!cfg || typeof cfg !== 'object') throw new ArgumentError('sentence-transformers: the Pooling module needs its config.json');
  const modes = Object.entries(cfg)
    .filter(([k, v]) => k.startsWith('pooling_mode_') && v === true)
    .map(([k]) => k.slice('pooling_mode_'.length));
  const known: Record<string, Pooling> = { cls_token: 'cls', mean_tokens: 'mean', max_tokens: 'max' };
  if (modes.length !== 1 || !known[modes[0]])
    throw new UnsupportedError(
      `sentence-transformers: pooling ${modes.join(' + ') || '(none)'} is not supported; supported: one of cls_token, mean_tokens, max_tokens`,
    );
  return { pooling: known[modes[0]], normalize };
}

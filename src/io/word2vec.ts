// Word-vector file formats people already have, all UTF-8:
//   word2vec binary (the C tool's -binary 1): "V D\n", then per word: the word, a space, D float32 LE
//   word2vec text: "V D\n", then "word x1 ... xD" per line
//   GloVe text: "word x1 ... xD" per line, no header
// A header count or dimension that does not match the data is an error naming both.
import { FormatError, ShapeError } from '../errors';

export interface WordVectors {
  words: string[];
  dim: number;
  /** [words.length, dim], row-major. */
  vectors: Float32Array;
}

export class WordVectorFormatError extends FormatError {
  override name = 'WordVectorFormatError';
}

export interface WordVectorOptions {
  /**
   * A word listed twice: 'error' (the default) refuses the file naming the word and both entries;
   * 'first' keeps the first vector, as gensim does (some published GloVe files repeat words).
   */
  duplicates?: 'error' | 'first';
}

function header(line: string, format: string): [number, number] {
  const m = /^\s*(\d{1,15})\s+(\d{1,15})\s*$/.exec(line);
  if (!m) throw new WordVectorFormatError(`${format}: the first line must be "<count> <dimension>", got "${line.slice(0, 40)}"`);
  const [count, dim] = [Number(m[1]), Number(m[2])];
  if (count < 1 || dim < 1) throw new WordVectorFormatError(`${format}: header says ${count} words of dimension ${dim}`);
  return [count, dim];
}

/** Refuses a header whose words cannot fit in the bytes that follow it, before anything is allocated. */
function checkFits(format: string, count: number, dim: number, minBytesPerWord: number, available: number): void {
  const need = count * minBytesPerWord;
  if (need > available) {
    throw new WordVectorFormatError(
      `${format}: header says ${count} words of dimension ${dim}, which needs at least ${need} bytes; the file has ${available} after the header`,
    );
  }
}

/** Keeps each word once: an error naming the word and both entries, or (option 'first') its first vector. */
class Dedup {
  private seen = new Map<string, number>();
  constructor(
    private readonly format: string,
    private readonly mode: 'error' | 'first',
  ) {}
  /** True if the word is new; false if it repeats and the file keeps its first vector. */
  add(word: string, entry: string): boolean {
    const first = this.seen.get(word);
    if (first === undefined) {
      this.seen.set(word, this.seen.size);
      return true;
    }
    if (this.mode === 'first') return false;
    throw new WordVectorFormatError(
      `${this.format}: the word '${word}' appears twice (word ${first + 1} and ${entry}); pass { duplicates: 'first' } to keep the first`,
    );
  }
}

/** The word2vec C binary format. */
export function parseWord2VecBinary(input: Uint8Array | ArrayBuffer, options: WordVectorOptions = {}): WordVectors {
  const format = 'word2vec binary';
  const bytes = input instanceof Uint8Array ? input : new Uint8Array(input);
  const nl = bytes.indexOf(10);
  if (nl < 0) throw new WordVectorFormatError(`${format}: no header line`);
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  const [count, dim] = header(new TextDecoder().decode(bytes.subarray(0, Math.min(nl, 200))), format);
  // Each word takes at least one byte of text, its space and 4 bytes per number.
  checkFits(format, count, dim, 4 * dim + 1, bytes.length - nl - 1);
  const vectors = new Float32Array(count * dim);
  const words: string[] = [];
  const dedup = new Dedup(format, options.duplicates ?? 'error');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let p = nl + 1;
  for (let i = 0; i < count; i++) {
    while (p < bytes.length && (bytes[p] === 10 || bytes[p] === 13)) p++;
    if (p >= bytes.length) throw new WordVectorFormatError(`${format}: header says ${count} words, the data ends after ${i}`);
    const sp = bytes.indexOf(32, p);
    if (sp < 0) throw new WordVectorFormatError(`${format}: word ${i + 1} has no separating space (truncated file?)`);
    let word: string;
    try {
      word = utf8.decode(bytes.subarray(p, sp));
    } catch {
      throw new WordVectorFormatError(`${format}: word ${i + 1} (at byte ${p}) is not valid UTF-8`);
    }
    p = sp + 1;
    if (p + 4 * dim > bytes.length)
      throw new WordVectorFormatError(`${format}: the vector of word ${i + 1} ('${word}') is cut off: the file is truncated`);
    const row = words.length * dim;
    for (let d = 0; d < dim; d++) {
      const v = view.getFloat32(p + 4 * d, true);
      if (!Number.isFinite(v))
        throw new WordVectorFormatError(`${format}: the vector of word ${i + 1} ('${word}') holds ${v} at component ${d}`);
      vectors[row + d] = v;
    }
    p += 4 * dim;
    if (dedup.add(word, `word ${i + 1}`)) words.push(word);
  }
  while (p < bytes.length && (bytes[p] === 10 || bytes[p] === 13 || bytes[p] === 32)) p++;
  if (p !== bytes.length)
    throw new WordVectorFormatError(`${format}: header says ${count} words but ${bytes.length - p} bytes follow the last one`);
  return { words, dim, vectors: words.length === count ? vectors : vectors.slice(0, words.length * dim) };
}

function parseLines(
  text: string,
  lines: string[],
  format: string,
  count: number | null,
  dimIn: number | null,
  options: WordVectorOptions,
): WordVectors {
  const rows = lines.filter((l) => l.trim().length > 0);
  if (count !== null && rows.length !== count)
    throw new WordVectorFormatError(`${format}: header says ${count} words, the file has ${rows.length}`);
  if (!rows.length) throw new WordVectorFormatError(`${format}: no vectors`);
  const dim = dimIn ?? rows[0].trim().split(/\s+/).length - 1;
  if (dim < 1) throw new WordVectorFormatError(`${format}: line 1 has no numbers`);
  // Each number takes at least two characters (a digit and a separator).
  checkFits(format, rows.length, dim, 2 * dim, text.length);
  const vectors = new Float32Array(rows.length * dim);
  const words: string[] = [];
  const dedup = new Dedup(format, options.duplicates ?? 'error');
  rows.forEach((line, i) => {
    const parts = line.trim().split(/[ \t]+/);
    if (parts.length !== dim + 1)
      throw new WordVectorFormatError(
        `${format}: line ${i + 1} ('${parts[0].slice(0, 40)}') has ${parts.length - 1} numbers, expected ${dim}`,
      );
    const row = words.length * dim;
    for (let d = 0; d < dim; d++) {
      const v = Number(parts[d + 1]);
      if (!Number.isFinite(v) || !Number.isFinite(Math.fround(v))) {
        throw new WordVectorFormatError(`${format}: line ${i + 1} has '${parts[d + 1].slice(0, 40)}', not a finite float32 number`);
      }
      vectors[row + d] = v;
    }
    if (dedup.add(parts[0], `line ${i + 1}`)) words.push(parts[0]);
  });
  return { words, dim, vectors: words.length === rows.length ? vectors : vectors.slice(0, words.length * dim) };
}

function decodeText(input: Uint8Array | ArrayBuffer | string, format: string): string {
  if (typeof input === 'string') return input;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(input);
  } catch {
    throw new WordVectorFormatError(`${format}: the file is not UTF-8 text`);
  }
}

/** The word2vec text format (header "V D"). */
export function parseWord2VecText(input: Uint8Array | ArrayBuffer | string, options: WordVectorOptions = {}): WordVectors {
  const text = decodeText(input, 'word2vec text');
  const lines = text.split('\n');
  const [count, dim] = header(lines[0], 'word2vec text');
  return parseLines(text, lines.slice(1), 'word2vec text', count, dim, options);
}

/** GloVe text (no header; the dimension comes from the first line). */
export function parseGloVe(input: Uint8Array | ArrayBuffer | string, options: WordVectorOptions = {}): WordVectors {
  const text = decodeText(input, 'GloVe');
  return parseLines(text, text.split('\n'), 'GloVe', null, null, options);
}

export function checkWordVectors(v: WordVectors): void {
  if (v.vectors.length !== v.words.length * v.dim)
    throw new ShapeError(`word vectors: ${v.vectors.length} numbers for ${v.words.length} words of dimension ${v.dim}`);
}

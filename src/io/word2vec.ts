// Word-vector file formats people already have, all UTF-8:
//   word2vec binary (the C tool's -binary 1): "V D\n", then per word: the word, a space, D float32 LE
//   word2vec text: "V D\n", then "word x1 ... xD" per line
//   GloVe text: "word x1 ... xD" per line, no header
// A header count or dimension that does not match the data is an error naming both.
import { FormatError, ShapeError } from '../gpu/errors';

export interface WordVectors {
  words: string[];
  dim: number;
  /** [words.length, dim], row-major. */
  vectors: Float32Array;
}

export class WordVectorFormatError extends FormatError {
  override name = 'WordVectorFormatError';
}

function header(line: string, format: string): [number, number] {
  const m = /^\s*(\d+)\s+(\d+)\s*$/.exec(line);
  if (!m) throw new WordVectorFormatError(`${format}: the first line must be "<count> <dimension>", got "${line.slice(0, 40)}"`);
  const [count, dim] = [Number(m[1]), Number(m[2])];
  if (count < 1 || dim < 1) throw new WordVectorFormatError(`${format}: header says ${count} words of dimension ${dim}`);
  return [count, dim];
}

/** The word2vec C binary format. */
export function parseWord2VecBinary(input: Uint8Array | ArrayBuffer): WordVectors {
  const bytes = input instanceof Uint8Array ? input : new Uint8Array(input);
  const nl = bytes.indexOf(10);
  if (nl < 0) throw new WordVectorFormatError('word2vec binary: no header line');
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  const [count, dim] = header(new TextDecoder().decode(bytes.subarray(0, nl)), 'word2vec binary');
  const vectors = new Float32Array(count * dim);
  const words: string[] = [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let p = nl + 1;
  for (let i = 0; i < count; i++) {
    while (p < bytes.length && (bytes[p] === 10 || bytes[p] === 13)) p++;
    if (p >= bytes.length) throw new WordVectorFormatError(`word2vec binary: header says ${count} words, the data ends after ${i}`);
    const sp = bytes.indexOf(32, p);
    if (sp < 0) throw new WordVectorFormatError(`word2vec binary: word ${i} has no separating space (truncated file?)`);
    let word: string;
    try {
      word = utf8.decode(bytes.subarray(p, sp));
    } catch {
      throw new WordVectorFormatError(`word2vec binary: word ${i} is not valid UTF-8`);
    }
    p = sp + 1;
    if (p + 4 * dim > bytes.length) throw new WordVectorFormatError(`word2vec binary: the vector of word ${i} ('${word}') is cut off: the file is truncated`);
    for (let d = 0; d < dim; d++) vectors[i * dim + d] = view.getFloat32(p + 4 * d, true);
    p += 4 * dim;
    words.push(word);
  }
  while (p < bytes.length && (bytes[p] === 10 || bytes[p] === 13 || bytes[p] === 32)) p++;
  if (p !== bytes.length) throw new WordVectorFormatError(`word2vec binary: header says ${count} words but ${bytes.length - p} bytes follow the last one`);
  return { words, dim, vectors };
}

function parseLines(lines: string[], format: string, count: number | null, dimIn: number | null): WordVectors {
  const rows = lines.filter((l) => l.trim().length > 0);
  if (count !== null && rows.length !== count) throw new WordVectorFormatError(`${format}: header says ${count} words, the file has ${rows.length}`);
  if (!rows.length) throw new WordVectorFormatError(`${format}: no vectors`);
  const dim = dimIn ?? rows[0].trim().split(/\s+/).length - 1;
  if (dim < 1) throw new WordVectorFormatError(`${format}: line 1 has no numbers`);
  const vectors = new Float32Array(rows.length * dim);
  const words = rows.map((line, i) => {
    const parts = line.trim().split(/ +/);
    if (parts.length !== dim + 1) throw new WordVectorFormatError(`${format}: line ${i + 1} ('${parts[0]}') has ${parts.length - 1} numbers, expected ${dim}`);
    for (let d = 0; d < dim; d++) {
      const v = Number(parts[d + 1]);
      if (!Number.isFinite(v)) throw new WordVectorFormatError(`${format}: line ${i + 1} has '${parts[d + 1]}', not a number`);
      vectors[i * dim + d] = v;
    }
    return parts[0];
  });
  return { words, dim, vectors };
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
export function parseWord2VecText(input: Uint8Array | ArrayBuffer | string): WordVectors {
  const lines = decodeText(input, 'word2vec text').split('\n');
  const [count, dim] = header(lines[0], 'word2vec text');
  return parseLines(lines.slice(1), 'word2vec text', count, dim);
}

/** GloVe text (no header; the dimension comes from the first line). */
export function parseGloVe(input: Uint8Array | ArrayBuffer | string): WordVectors {
  return parseLines(decodeText(input, 'GloVe').split('\n'), 'GloVe', null, null);
}

export function checkWordVectors(v: WordVectors): void {
  if (v.vectors.length !== v.words.length * v.dim) throw new ShapeError(`word vectors: ${v.vectors.length} numbers for ${v.words.length} words of dimension ${v.dim}`);
}

// A weight matrix on the CPU before upload, in nn.Linear's layout (N output rows of K inputs): f32 from
// a safetensors checkpoint, or packed data (QuantizedData) from a GGUF file. Loaders rearrange rows
// before upload without unpacking anything: q, k and v fused into one projection, gate and up
// interleaved for the SwiGLU epilogue, llama.cpp's RoPE row permutation undone. A packed row is whole
// words (int8, 16-bit) with its scales, or whole blocks (llama.cpp's schemes), so any row order is a
// copy of bytes.
import { ShapeError } from '../errors';
import { isBlockScheme, quantLayout, type QuantizedData } from '../ops/quantize';

export type Matrix = { kind: 'f32'; N: number; K: number; data: Float32Array } | { kind: 'packed'; N: number; K: number; q: QuantizedData };

export function f32Matrix(data: Float32Array, N: number, K: number): Matrix {
  if (data.length !== N * K) throw new ShapeError(`matrix: ${data.length} values do not fill [${N}, ${K}]`);
  return { kind: 'f32', N, K, data };
}

export function packedMatrix(q: QuantizedData): Matrix {
  return { kind: 'packed', N: q.N, K: q.K, q };
}

/** What a matrix is stored as, for messages: 'f32', 'q4_k', … */
export function formatOf(m: Matrix): string {
  return m.kind === 'f32' ? 'f32' : m.q.scheme;
}

/**
 * A matrix whose rows are picked from `parts` (same K and format): picks[i] = [part, row] is row i.
 * Names `what` in the error when the parts cannot be joined.
 */
export function gatherRows(parts: Matrix[], picks: [number, number][], what: string): Matrix {
  const first = parts[0];
  for (const p of parts) {
    if (p.K !== first.K || formatOf(p) !== formatOf(first))
      throw new ShapeError(`${what}: rows of ${formatOf(p)} [${p.N}, ${p.K}] cannot join ${formatOf(first)} [${first.N}, ${first.K}]`);
  }
  const N = picks.length;
  const K = first.K;
  if (first.kind === 'f32') {
    const data = new Float32Array(N * K);
    picks.forEach(([p, r], i) => {
      data.set((parts[p] as { data: Float32Array }).data.subarray(r * K, (r + 1) * K), i * K);
    });
    return { kind: 'f32', N, K, data };
  }
  const scheme = first.q.scheme;
  const l = quantLayout(scheme, K, N);
  const qweight = new Uint32Array(l.words);
  const scales = new Float32Array(N * l.blocks);
  const dst = new Uint8Array(qweight.buffer);
  const bytesOf = (q: QuantizedData) => new Uint8Array(q.qweight.buffer, q.qweight.byteOffset, q.qweight.byteLength);
  picks.forEach(([p, r], i) => {
    const q = (parts[p] as { q: QuantizedData }).q;
    dst.set(bytesOf(q).subarray(r * l.rowBytes, (r + 1) * l.rowBytes), i * l.rowBytes);
    if (l.blocks) scales.set(q.scales.subarray(r * l.blocks, (r + 1) * l.blocks), i * l.blocks);
  });
  if (!isBlockScheme(scheme) && l.rowBytes * N !== 4 * l.words) throw new ShapeError(`${what}: packed rows do not fill their words`);
  return { kind: 'packed', N, K, q: { ...l, qweight, scales } };
}

/** Rows of each part one after another (q, k and v as one projection). */
export function concatRows(parts: Matrix[], what: string): Matrix {
  return gatherRows(
    parts,
    parts.flatMap((p, i) => Array.from({ length: p.N }, (_, r): [number, number] => [i, r])),
    what,
  );
}

/** gate and up rows interleaved (row 2j gate j, 2j + 1 up j), as the 'swiglu' epilogue reads them. */
export function interleaveRows(gate: Matrix, up: Matrix, what: string): Matrix {
  if (gate.N !== up.N) throw new ShapeError(`${what}: gate has ${gate.N} rows, up ${up.N}`);
  return gatherRows(
    [gate, up],
    Array.from({ length: 2 * gate.N }, (_, i): [number, number] => [i % 2, i >> 1]),
    what,
  );
}

/**
 * Undoes llama.cpp's RoPE permutation of q or k rows (convert_hf_to_gguf.py, LlamaModel.permute):
 * within each head of D rows, the file's row 2i + half is Hugging Face's row half · D/2 + i.
 */
export function unpermuteRoPE(m: Matrix, heads: number, what: string): Matrix {
  const D = m.N / heads;
  if (!Number.isInteger(D) || D % 2) throw new ShapeError(`${what}: ${m.N} rows are not ${heads} heads of an even size`);
  return gatherRows(
    [m],
    Array.from({ length: m.N }, (_, r): [number, number] => {
      const [h, j] = [Math.floor(r / D), r % D];
      const [half, i] = [Math.floor(j / (D / 2)), j % (D / 2)];
      return [0, h * D + 2 * i + half];
    }),
    what,
  );
}

/** The same permutation for a bias vector. */
export function unpermuteRoPEBias(b: Float32Array, heads: number): Float32Array {
  const D = b.length / heads;
  return Float32Array.from({ length: b.length }, (_, r) => {
    const [h, j] = [Math.floor(r / D), r % D];
    return b[h * D + 2 * (j % (D / 2)) + Math.floor(j / (D / 2))];
  });
}

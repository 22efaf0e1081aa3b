// Block-sparse attention layouts: which key blocks each query block attends to, in CSR form
// (rowPtr[qb]..rowPtr[qb + 1] index colIdx, sorted). Builders for the classic patterns, each
// optionally combined with the causal mask: sliding window (Longformer), strided (Sparse Transformers,
// Child et al. 2019), global tokens, seeded random blocks (BigBird), their union, and a user mask.
import { ShapeError } from '../errors';

export type BlockSize = 16 | 32 | 64;

export interface BlockLayout {
  blockSize: BlockSize;
  /** Tokens the layout is for; the kernel masks keys past it inside the last block. */
  seqLen: number;
  /** seqLen rounded up to a whole number of blocks. */
  paddedLength: number;
  nBlocks: number;
  causal: boolean;
  rowPtr: Uint32Array;
  colIdx: Uint32Array;
  /** Listed block pairs over all nBlocks² pairs. */
  density: number;
}

export interface LayoutOptions {
  blockSize?: BlockSize;
  causal?: boolean;
}

/** Builds a CSR layout from a predicate over (query block, key block). */
export function layoutFrom(seqLen: number, options: LayoutOptions, allowed: (qb: number, kb: number) => boolean): BlockLayout {
  const blockSize = options.blockSize ?? 32;
  if (blockSize !== 16 && blockSize !== 32 && blockSize !== 64)
    throw new ShapeError(`sparse layout: block size ${blockSize} must be 16, 32 or 64`);
  if (!Number.isInteger(seqLen) || seqLen < 1) throw new ShapeError(`sparse layout: sequence length ${seqLen} must be a positive integer`);
  const nb = Math.ceil(seqLen / blockSize);
  const causal = !!options.causal;
  const rowPtr = new Uint32Array(nb + 1);
  const cols: number[] = [];
  for (let qb = 0; qb < nb; qb++) {
    for (let kb = 0; kb < nb; kb++) if ((!causal || kb <= qb) && allowed(qb, kb)) cols.push(kb);
    rowPtr[qb + 1] = cols.length;
  }
  return {
    blockSize,
    seqLen,
    paddedLength: nb * blockSize,
    nBlocks: nb,
    causal,
    rowPtr,
    colIdx: Uint32Array.from(cols),
    density: cols.length / (nb * nb),
  };
}

/** Keys within `window` tokens of the query's block (both sides unless causal). */
export function slidingLayout(seqLen: number, o: LayoutOptions & { window: number }): BlockLayout {
  const w = Math.ceil(o.window / (o.blockSize ?? 32));
  return layoutFrom(seqLen, o, (qb, kb) => Math.abs(qb - kb) <= w);
}

/** The query's own block and every `stride`-th block behind (and ahead, unless causal) of it. */
export function stridedLayout(seqLen: number, o: LayoutOptions & { stride: number }): BlockLayout {
  if (!(Number.isInteger(o.stride) && o.stride >= 1))
    throw new ShapeError(`sparse layout: stride ${o.stride} must be a positive integer (in blocks)`);
  return layoutFrom(seqLen, o, (qb, kb) => Math.abs(qb - kb) % o.stride === 0);
}

/** The first `blocks` blocks attend to everything and everything attends to them. */
export function globalLayout(seqLen: number, o: LayoutOptions & { blocks: number }): BlockLayout {
  return layoutFrom(seqLen, o, (qb, kb) => qb < o.blocks || kb < o.blocks);
}

/** `perRow` key blocks per query block drawn at random (seeded; fewer where the row is shorter). */
export function randomLayout(seqLen: number, o: LayoutOptions & { perRow: number; seed?: number }): BlockLayout {
  const nb = Math.ceil(seqLen / (o.blockSize ?? 32));
  let s = (o.seed ?? 1) >>> 0;
  const next = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
  const chosen = Array.from({ length: nb }, (_, qb) => {
    const pool = Array.from({ length: o.causal ? qb + 1 : nb }, (_, i) => i);
    for (let i = pool.length - 1; i > 0; i--) {
      const j = Math.floor(next() * (i + 1));
      [pool[i], pool[j]] = [pool[j], pool[i]];
    }
    return new Set(pool.slice(0, o.perRow));
  });
  return layoutFrom(seqLen, o, (qb, kb) => chosen[qb].has(kb));
}

/** A user mask over block pairs: mask[qb * nBlocks + kb] != 0, or a predicate. */
export function maskLayout(seqLen: number, o: LayoutOptions, mask: Uint8Array | ((qb: number, kb: number) => boolean)): BlockLayout {
  const nb = Math.ceil(seqLen / (o.blockSize ?? 32));
  if (mask instanceof Uint8Array && mask.length !== nb * nb)
    throw new ShapeError(`sparse layout: the mask has ${mask.length} entries, ${nb} × ${nb} blocks need ${nb * nb}`);
  return layoutFrom(seqLen, o, mask instanceof Uint8Array ? (qb, kb) => mask[qb * nb + kb] !== 0 : mask);
}

/** Block pairs listed by any of the layouts (same length, block size and causality). */
export function unionLayout(...parts: BlockLayout[]): BlockLayout {
  const [first] = parts;
  if (!first) throw new ShapeError('sparse layout: union of nothing');
  for (const p of parts) {
    if (p.seqLen !== first.seqLen || p.blockSize !== first.blockSize || p.causal !== first.causal) {
      throw new ShapeError(
        `sparse layout: union of layouts for different lengths, block sizes or causality (${p.seqLen}/${p.blockSize} vs ${first.seqLen}/${first.blockSize})`,
      );
    }
  }
  const sets = parts.map((p) => Array.from({ length: p.nBlocks }, (_, qb) => new Set(p.colIdx.subarray(p.rowPtr[qb], p.rowPtr[qb + 1]))));
  return layoutFrom(first.seqLen, first, (qb, kb) => sets.some((rows) => rows[qb].has(kb)));
}

/** Checks a layout (possibly hand-made) against the sequence it is used for; throws naming the problem. */
export function checkLayout(l: BlockLayout, seqLen: number, op: string): void {
  if (l.blockSize !== 16 && l.blockSize !== 32 && l.blockSize !== 64)
    throw new ShapeError(`${op}: block size ${l.blockSize} must be 16, 32 or 64`);
  if (l.paddedLength % l.blockSize !== 0 || l.paddedLength !== l.nBlocks * l.blockSize) {
    throw new ShapeError(`${op}: block size ${l.blockSize} does not divide the padded length ${l.paddedLength} into ${l.nBlocks} blocks`);
  }
  if (l.seqLen !== seqLen) throw new ShapeError(`${op}: the layout is for ${l.seqLen} tokens, the keys have ${seqLen}`);
  if (l.paddedLength < seqLen || l.paddedLength - l.blockSize >= seqLen)
    throw new ShapeError(`${op}: padded length ${l.paddedLength} does not fit ${seqLen} tokens in blocks of ${l.blockSize}`);
  if (l.rowPtr.length !== l.nBlocks + 1 || l.rowPtr[0] !== 0 || l.rowPtr[l.nBlocks] !== l.colIdx.length) {
    throw new ShapeError(`${op}: rowPtr must have ${l.nBlocks + 1} entries from 0 to ${l.colIdx.length}`);
  }
  if (l.colIdx.length === 0) throw new ShapeError(`${op}: the layout is empty (no block pairs)`);
  for (let qb = 0; qb < l.nBlocks; qb++) {
    if (l.rowPtr[qb + 1] < l.rowPtr[qb]) throw new ShapeError(`${op}: rowPtr decreases at block ${qb}`);
    for (let e = l.rowPtr[qb]; e < l.rowPtr[qb + 1]; e++) {
      if (l.colIdx[e] >= l.nBlocks)
        throw new ShapeError(`${op}: key block ${l.colIdx[e]} in row ${qb} is out of range (${l.nBlocks} blocks)`);
    }
  }
}

/** Whether query q may attend to key k (element level: the block pair, the length and causality). */
export function allowedPair(l: BlockLayout, q: number, k: number): boolean {
  if (k >= l.seqLen || (l.causal && k > q)) return false;
  const qb = Math.floor(q / l.blockSize);
  const kb = Math.floor(k / l.blockSize);
  for (let e = l.rowPtr[qb]; e < l.rowPtr[qb + 1]; e++) if (l.colIdx[e] === kb) return true;
  return false;
}

// llama.cpp's block formats, byte for byte as ggml-common.h declares them and ggml-quants.c reads them
// (dequantize_row_q4_0 / _q4_K / _q6_K). A weight row of K values is K / QK blocks laid end to end,
// and a matrix is its N rows laid end to end, exactly the bytes of a GGUF tensor (ne[0] = K):
//   q8_0  32 weights in 34 bytes: f16 d, then 32 int8; w = d · q
//   q4_0  32 weights in 18 bytes: f16 d, then 16 bytes whose low nibbles are weights 0..15 and high
//         nibbles weights 16..31; w = d · (q − 8)
//   q5_0  32 weights in 22 bytes (block_q5_0, dequantize_row_q5_0): f16 d at byte 0, a little-endian u32
//         qh at byte 2, 16 bytes qs at byte 6 (low nibbles weights 0..15, high nibbles 16..31); weight
//         j < 16 takes bit j of qh as its fifth bit (xh_0 = ((qh >> j) << 4) & 0x10), weight j + 16 bit
//         j + 16 (xh_1 = (qh >> (j + 12)) & 0x10); w = d · (q − 16)
//   q4_k  256 weights in 144 bytes: f16 d, f16 dmin, 12 bytes holding eight 6-bit scales and eight 6-bit
//         mins (one pair per 32 weights), 128 bytes of nibbles: bytes 32j..32j+31 hold weights 64j..64j+31
//         in their low nibbles and 64j+32..64j+63 in their high ones; w = d · sc · q − dmin · m
//   q6_k  256 weights in 210 bytes: 128 bytes of low nibbles (ql), 64 bytes of high bit pairs (qh),
//         16 int8 scales (one per 16 weights), f16 d; w = d · sc · (q − 32)
// The GPU reads the same bytes (shaders/lib/ggml_blocks.wgsl), so a GGUF tensor uploads as it is.
//
// The quantizers here are this engine's own, deterministic and one pass (no search): absmax for q4_0
// and q5_0 (as llama.cpp's reference quantize_row_q4_0 / _q5_0), and for the k-quants per-sub-block min/max (q4_k) or
// signed absmax (q6_k), with the sub-block scales rounded to 6 or 8 bits against a super-block scale.
// q4_0, q5_0 and q4_k compute in f32, step for step as shaders/quantize_blocks.wgsl does on the GPU.
// llama.cpp's own k-quantizers search for scales with lower error; files it writes load unchanged.
import { f16ToF32, f32ToF16 } from '../gpu/tensor';

export type BlockScheme = 'q8_0' | 'q4_0' | 'q5_0' | 'q4_k' | 'q6_k';

/** Weights per block and bytes per block. */
export const BLOCK: Record<BlockScheme, { qk: number; bytes: number }> = {
  q8_0: { qk: 32, bytes: 34 },
  q4_0: { qk: 32, bytes: 18 },
  q5_0: { qk: 32, bytes: 22 },
  q4_k: { qk: 256, bytes: 144 },
  q6_k: { qk: 256, bytes: 210 },
};

const f16 = (bytes: Uint8Array, at: number) => f16ToF32(bytes[at] | (bytes[at + 1] << 8));
function putF16(bytes: Uint8Array, at: number, x: number): number {
  const h = f32ToF16(x);
  bytes[at] = h & 0xff;
  bytes[at + 1] = h >> 8;
  return f16ToF32(h);
}
const clamp = (x: number, lo: number, hi: number) => Math.max(lo, Math.min(hi, x));
/** Rounded to f32: q4_0 and q4_k take every step in f32, as the GPU quantizer does. */
const f = Math.fround;
/** Round half away from zero, as llama.cpp's nearest_int does for the values that occur here. */
const nearest = (x: number) => Math.sign(x) * Math.floor(Math.abs(x) + 0.5);

/** The value with the largest magnitude (its sign kept), 0 for an empty or all-zero span. */
function signedMax(x: ArrayLike<number>, lo: number, hi: number): number {
  let m = 0;
  for (let i = lo; i < hi; i++) if (Math.abs(x[i]) > Math.abs(m)) m = x[i];
  return m;
}

/** Scale and min of 32-weight sub-block j of a q4_k block at `at` (get_scale_min_k4 in ggml-quants.c). */
function q4kScaleMin(b: Uint8Array, at: number, j: number): [number, number] {
  const q = (i: number) => b[at + 4 + i];
  if (j < 4) return [q(j) & 63, q(j + 4) & 63];
  return [(q(j + 4) & 0xf) | ((q(j - 4) >> 6) << 4), (q(j + 4) >> 4) | ((q(j) >> 6) << 4)];
}

/** Writes one block of `scheme` for x[0..qk) into `b` at byte `at`. */
export function encodeBlock(scheme: BlockScheme, x: ArrayLike<number>, b: Uint8Array, at: number): void {
  if (scheme === 'q8_0') {
    // quantize_row_q8_0_ref: d = max|x| / 127, q = round(x / d) (half away from zero), in f32.
    const d = f(Math.abs(signedMax(x, 0, 32)) / 127);
    const id = d ? f(1 / d) : 0;
    putF16(b, at, d);
    for (let j = 0; j < 32; j++) b[at + 2 + j] = clamp(nearest(f(x[j] * id)), -127, 127) & 0xff;
    return;
  }
  if (scheme === 'q4_0') {
    const max = signedMax(x, 0, 32);
    const d = f(max / -8);
    const id = d ? f(1 / d) : 0;
    putF16(b, at, d);
    for (let j = 0; j < 16; j++) {
      const lo = Math.min(15, Math.trunc(f(f(x[j] * id) + 8.5)));
      const hi = Math.min(15, Math.trunc(f(f(x[j + 16] * id) + 8.5)));
      b[at + 2 + j] = lo | (hi << 4);
    }
    return;
  }
  if (scheme === 'q5_0') {
    // quantize_row_q5_0_ref: d = max / −16 (max the signed absmax), q = min(31, trunc(x / d + 16.5)), in f32.
    const d = f(signedMax(x, 0, 32) / -16);
    const id = d ? f(1 / d) : 0;
    putF16(b, at, d);
    let qh = 0;
    for (let j = 0; j < 16; j++) {
      const lo = Math.min(31, Math.trunc(f(f(x[j] * id) + 16.5)));
      const hi = Math.min(31, Math.trunc(f(f(x[j + 16] * id) + 16.5)));
      b[at + 6 + j] = (lo & 0xf) | ((hi & 0xf) << 4);
      qh |= ((lo >> 4) << j) | ((hi >> 4) << (j + 16));
    }
    for (let i = 0; i < 4; i++) b[at + 2 + i] = (qh >>> (8 * i)) & 0xff;
    return;
  }
  if (scheme === 'q4_k') {
    // Per 32 weights: w ≈ scale · q − min with q in 0..15, min ≥ 0 (the range always includes 0).
    const scale = new Float64Array(8);
    const min = new Float64Array(8);
    for (let j = 0; j < 8; j++) {
      let lo = 0;
      let hi = Number.NEGATIVE_INFINITY;
      for (let l = 32 * j; l < 32 * j + 32; l++) {
        lo = Math.min(lo, x[l]);
        hi = Math.max(hi, x[l]);
      }
      scale[j] = f(f(hi - lo) / 15);
      min[j] = -lo;
    }
    const d = putF16(b, at, f(Math.max(...scale) / 63));
    const dmin = putF16(b, at + 2, f(Math.max(...min) / 63));
    const sc = Array.from(scale, (s) => (d > 0 ? clamp(nearest(f(s / d)), 0, 63) : 0));
    const m = Array.from(min, (s) => (dmin > 0 ? clamp(nearest(f(s / dmin)), 0, 63) : 0));
    for (let j = 0; j < 4; j++) {
      b[at + 4 + j] = sc[j] | ((sc[j + 4] >> 4) << 6);
      b[at + 8 + j] = m[j] | ((m[j + 4] >> 4) << 6);
      b[at + 12 + j] = (sc[j + 4] & 0xf) | ((m[j + 4] & 0xf) << 4);
    }
    const q = new Uint8Array(256);
    for (let l = 0; l < 256; l++) {
      const j = l >> 5;
      const step = f(d * sc[j]);
      q[l] = step > 0 ? clamp(nearest(f(f(x[l] + f(dmin * m[j])) / step)), 0, 15) : 0;
    }
    for (let j = 0; j < 4; j++) {
      for (let l = 0; l < 32; l++) b[at + 16 + 32 * j + l] = q[64 * j + l] | (q[64 * j + 32 + l] << 4);
    }
    return;
  }
  // q6_k: per 16 weights w ≈ s · (q − 32), q in 0..63; the sixteen s as int8 times the f16 d.
  const s = Array.from({ length: 16 }, (_, j) => signedMax(x, 16 * j, 16 * j + 16) / -32);
  const d = putF16(b, at + 208, signedMax(s, 0, 16) / -128);
  const sc = s.map((v) => (d ? clamp(nearest(v / d), -128, 127) : 0));
  const q = new Uint8Array(256);
  for (let l = 0; l < 256; l++) {
    const step = d * sc[l >> 4];
    q[l] = step ? clamp(nearest(x[l] / step) + 32, 0, 63) : 32;
  }
  for (let h = 0; h < 2; h++) {
    for (let l = 0; l < 32; l++) {
      const [q1, q2, q3, q4] = [0, 32, 64, 96].map((o) => q[128 * h + o + l]);
      b[at + 64 * h + l] = (q1 & 0xf) | ((q3 & 0xf) << 4);
      b[at + 64 * h + 32 + l] = (q2 & 0xf) | ((q4 & 0xf) << 4);
      b[at + 128 + 32 * h + l] = (q1 >> 4) | ((q2 >> 4) << 2) | ((q3 >> 4) << 4) | ((q4 >> 4) << 6);
    }
  }
  for (let j = 0; j < 16; j++) b[at + 192 + j] = sc[j] & 0xff;
}

/** Reads one block of `scheme` at byte `at` into out[o..o + qk). */
export function decodeBlock(scheme: BlockScheme, b: Uint8Array, at: number, out: Float64Array, o: number): void {
  if (scheme === 'q8_0') {
    const d = f16(b, at);
    for (let j = 0; j < 32; j++) out[o + j] = d * ((b[at + 2 + j] << 24) >> 24);
    return;
  }
  if (scheme === 'q4_0') {
    const d = f16(b, at);
    for (let j = 0; j < 16; j++) {
      out[o + j] = d * ((b[at + 2 + j] & 0xf) - 8);
      out[o + j + 16] = d * ((b[at + 2 + j] >> 4) - 8);
    }
    return;
  }
  if (scheme === 'q5_0') {
    // dequantize_row_q5_0, term for term.
    const d = f16(b, at);
    const qh = (b[at + 2] | (b[at + 3] << 8) | (b[at + 4] << 16) | (b[at + 5] << 24)) >>> 0;
    for (let j = 0; j < 16; j++) {
      const h0 = ((qh >>> j) << 4) & 0x10;
      const h1 = (qh >>> (j + 12)) & 0x10;
      out[o + j] = d * (((b[at + 6 + j] & 0xf) | h0) - 16);
      out[o + j + 16] = d * (((b[at + 6 + j] >> 4) | h1) - 16);
    }
    return;
  }
  if (scheme === 'q4_k') {
    const d = f16(b, at);
    const dmin = f16(b, at + 2);
    for (let l = 0; l < 256; l++) {
      const [sc, m] = q4kScaleMin(b, at, l >> 5);
      const byte = b[at + 16 + 32 * (l >> 6) + (l & 31)];
      out[o + l] = d * sc * ((l & 32) === 0 ? byte & 0xf : byte >> 4) - dmin * m;
    }
    return;
  }
  const d = f16(b, at + 208);
  for (let l = 0; l < 256; l++) {
    const h = l >> 7;
    const quarter = (l >> 5) & 3;
    const i = l & 31;
    const low = b[at + 64 * h + 32 * (quarter & 1) + i] >> (quarter >= 2 ? 4 : 0);
    const high = (b[at + 128 + 32 * h + i] >> (2 * quarter)) & 3;
    const sc = (b[at + 192 + (l >> 4)] << 24) >> 24;
    out[o + l] = d * sc * (((low & 0xf) | (high << 4)) - 32);
  }
}

/** The byte offsets of a block's f16 scales (checked finite on load). */
export function blockHalves(scheme: BlockScheme): number[] {
  return scheme === 'q4_0' || scheme === 'q5_0' || scheme === 'q8_0' ? [0] : scheme === 'q4_k' ? [0, 2] : [208];
}

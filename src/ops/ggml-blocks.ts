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
// and the rest of the types common files hold (block_* in ggml-common.h; decodeBlock follows the loops
// of ggml-quants.c's dequantize_row_q4_1 / _q5_1 / _q2_K / _q3_K / _q5_K / _iq4_nl / _iq4_xs):
//   q4_1   32 weights in 20 bytes: f16 d, f16 m, 16 bytes of nibbles as q4_0's; w = d · q + m
//   q5_1   32 weights in 24 bytes: f16 d, f16 m, u32 qh at byte 4, 16 bytes qs at byte 8 (as q5_0's);
//          w = d · q + m
//   q2_k   256 weights in 84 bytes: 16 bytes of scales (low nibble the scale, high nibble the min of
//          16 weights), 64 bytes qs at byte 16, f16 d at 80, f16 dmin at 82. Weight r = 128h + 32j + l
//          is bits 2j..2j+1 of qs[32h + l]; w = d · (sc & 15) · q − dmin · (sc >> 4), sc = scales[r / 16]
//   q3_k   256 weights in 110 bytes: hmask[32], qs[64] at byte 32, 12 bytes of 6-bit scales at 96, f16 d
//          at 108. Weight r = 128h + 32j + l: low bits 2j..2j+1 of qs[32h + l], high bit 4h + j of
//          hmask[l]; q = low − 4 where the high bit is clear; 16 scales s (one per 16 weights): low nibble
//          of byte s (s < 8) or high nibble of byte s − 8, bits 2(s / 4).. of byte 8 + s % 4 on top;
//          w = d · (s6 − 32) · q
//   q5_k   256 weights in 176 bytes: f16 d, f16 dmin, 12 scale bytes as q4_k's, qh[32] at byte 16, 128
//          bytes of nibbles at 48 as q4_k's; weight r's fifth bit is bit r / 32 of qh[r % 32];
//          w = d · sc · q − dmin · m
//   iq4_nl 32 weights in 18 bytes: f16 d, 16 bytes of nibbles as q4_0's that index IQ4_NL_VALUES;
//          w = d · value
//   iq4_xs 256 weights in 136 bytes: f16 d, u16 scales_h at byte 2, scales_l[4] at 4, 128 bytes qs at 8:
//          sub-block b of 32 has nibbles qs[16b .. 16b + 15] (low: weights 0..15, high: 16..31) and the
//          6-bit scale ls = nibble b % 2 of scales_l[b / 2] | bits 2b..2b+1 of scales_h << 4;
//          w = d · (ls − 32) · value
// The GPU reads the same bytes (shaders/lib/ggml_blocks.wgsl), so a GGUF tensor uploads as it is.
//
// The quantizers here are this engine's own, deterministic and one pass (no search): absmax for q4_0
// and q5_0 (as llama.cpp's reference quantize_row_q4_0 / _q5_0), and for the k-quants per-sub-block min/max (q4_k) or
// signed absmax (q6_k), with the sub-block scales rounded to 6 or 8 bits against a super-block scale.
// q4_0, q5_0 and q4_k compute in f32, step for step as shaders/quantize_blocks.wgsl does on the GPU.
// llama.cpp's own k-quantizers search for scales with lower error; files it writes load unchanged.
// The other types are quantized in one pass as well, on the CPU only: q4_1 and q5_1 as
// quantize_row_q4_1_ref / _q5_1_ref (min and range), q2_k / q5_k per-sub-block min/max as q4_k,
// q3_k signed absmax as q6_k, iq4_nl / iq4_xs the nearest table value under an absmax scale.
import { f16ToF32, f32ToF16 } from '../gpu/tensor';

export type BlockScheme = 'q8_0' | 'q4_0' | 'q5_0' | 'q4_k' | 'q6_k' | 'q4_1' | 'q5_1' | 'q2_k' | 'q3_k' | 'q5_k' | 'iq4_nl' | 'iq4_xs';

/** Weights per block and bytes per block. */
export const BLOCK: Record<BlockScheme, { qk: number; bytes: number }> = {
  q8_0: { qk: 32, bytes: 34 },
  q4_0: { qk: 32, bytes: 18 },
  q5_0: { qk: 32, bytes: 22 },
  q4_k: { qk: 256, bytes: 144 },
  q6_k: { qk: 256, bytes: 210 },
  q4_1: { qk: 32, bytes: 20 },
  q5_1: { qk: 32, bytes: 24 },
  q2_k: { qk: 256, bytes: 84 },
  q3_k: { qk: 256, bytes: 110 },
  q5_k: { qk: 256, bytes: 176 },
  iq4_nl: { qk: 32, bytes: 18 },
  iq4_xs: { qk: 256, bytes: 136 },
};

/** The sixteen levels of IQ4_NL and IQ4_XS (kvalues_iq4nl in ggml-common.h). */
export const IQ4_NL_VALUES = [-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113];

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

/** Eight 6-bit scales and mins into the 12 bytes at `at`, as get_scale_min_k4 reads them (q4_k, q5_k). */
function packScaleMinK4(b: Uint8Array, at: number, sc: number[], m: number[]): void {
  for (let j = 0; j < 4; j++) {
    b[at + j] = sc[j] | ((sc[j + 4] >> 4) << 6);
    b[at + 4 + j] = m[j] | ((m[j + 4] >> 4) << 6);
    b[at + 8 + j] = (sc[j + 4] & 0xf) | ((m[j + 4] & 0xf) << 4);
  }
}

/** Per `sub` weights of a 256 block: the step (range / levels) and min (−min(0, lo)) of min/max quantization. */
function rangeSteps(x: ArrayLike<number>, sub: number, levels: number): { step: number[]; min: number[] } {
  const step: number[] = [];
  const min: number[] = [];
  for (let j = 0; j < 256 / sub; j++) {
    let lo = 0;
    let hi = Number.NEGATIVE_INFINITY;
    for (let l = sub * j; l < sub * j + sub; l++) {
      lo = Math.min(lo, x[l]);
      hi = Math.max(hi, x[l]);
    }
    step.push((hi - lo) / levels);
    min.push(-lo);
  }
  return { step, min };
}

/** Rounds each of `v` to a multiple of `unit` in 0..top (0 where unit is 0). */
const levels = (v: number[], unit: number, top: number) => v.map((s) => (unit > 0 ? clamp(nearest(s / unit), 0, top) : 0));

/** The index of the IQ4_NL value nearest v. */
function nearestIq4(v: number): number {
  let best = 0;
  for (let i = 1; i < 16; i++) if (Math.abs(IQ4_NL_VALUES[i] - v) < Math.abs(IQ4_NL_VALUES[best] - v)) best = i;
  return best;
}

/** 32 quants into 16 bytes at `at` (low nibbles weights 0..15, high 16..31) and their fifth bits as a u32. */
function packNibbles32(q: ArrayLike<number>, b: Uint8Array, at: number): number {
  let qh = 0;
  for (let j = 0; j < 16; j++) {
    b[at + j] = (q[j] & 0xf) | ((q[j + 16] & 0xf) << 4);
    qh |= ((q[j] >> 4) << j) | ((q[j + 16] >> 4) << (j + 16));
  }
  return qh >>> 0;
}

const putU32 = (b: Uint8Array, at: number, v: number) => {
  for (let i = 0; i < 4; i++) b[at + i] = (v >>> (8 * i)) & 0xff;
};
const u32 = (b: Uint8Array, at: number) => (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0;

/** The affine 32-weight blocks q4_1 and q5_1 (quantize_row_q4_1_ref / _q5_1_ref): d = range / (2^bits − 1), m = min. */
function encodeAffine32(bits: 4 | 5, x: ArrayLike<number>, b: Uint8Array, at: number): void {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (let j = 0; j < 32; j++) {
    lo = Math.min(lo, f(x[j]));
    hi = Math.max(hi, f(x[j]));
  }
  const top = (1 << bits) - 1;
  const d = f(f(hi - lo) / top);
  const id = d ? f(1 / d) : 0;
  putF16(b, at, d);
  putF16(b, at + 2, lo);
  const q = Array.from({ length: 32 }, (_, j) => Math.min(top, Math.trunc(f(f(f(f(x[j]) - lo) * id) + 0.5))));
  const qh = packNibbles32(q, b, at + (bits === 4 ? 4 : 8));
  if (bits === 5) putU32(b, at + 4, qh);
}

/** The schemes beyond the first five: one pass each (see the header). */
function encodeMore(scheme: BlockScheme, x: ArrayLike<number>, b: Uint8Array, at: number): void {
  if (scheme === 'q4_1' || scheme === 'q5_1') {
    encodeAffine32(scheme === 'q4_1' ? 4 : 5, x, b, at);
    return;
  }
  if (scheme === 'iq4_nl') {
    const d = putF16(b, at, signedMax(x, 0, 32) / -127);
    packNibbles32(
      Array.from({ length: 32 }, (_, j) => (d ? nearestIq4(x[j] / d) : 8)),
      b,
      at + 2,
    );
    return;
  }
  if (scheme === 'iq4_xs') {
    const s = Array.from({ length: 8 }, (_, j) => signedMax(x, 32 * j, 32 * j + 32) / -127);
    const d = putF16(b, at, signedMax(s, 0, 8) / -32);
    const ls = s.map((v) => (d ? clamp(nearest(v / d), -32, 31) : 0));
    let high = 0;
    b.fill(0, at + 4, at + 8);
    for (let j = 0; j < 8; j++) {
      const l = ls[j] + 32;
      b[at + 4 + (j >> 1)] |= (l & 0xf) << (4 * (j & 1));
      high |= (l >> 4) << (2 * j);
      const step = d * ls[j];
      const q = Array.from({ length: 32 }, (_, i) => (step ? nearestIq4(x[32 * j + i] / step) : 8));
      packNibbles32(q, b, at + 8 + 16 * j);
    }
    b[at + 2] = high & 0xff;
    b[at + 3] = high >> 8;
    return;
  }
  if (scheme === 'q5_k') {
    const { step, min } = rangeSteps(x, 32, 31);
    const d = putF16(b, at, Math.max(...step) / 63);
    const dmin = putF16(b, at + 2, Math.max(...min) / 63);
    const sc = levels(step, d, 63);
    const m = levels(min, dmin, 63);
    packScaleMinK4(b, at + 4, sc, m);
    b.fill(0, at + 16, at + 48);
    for (let r = 0; r < 256; r++) {
      const j = r >> 5;
      const unit = d * sc[j];
      const q = unit > 0 ? clamp(nearest((x[r] + dmin * m[j]) / unit), 0, 31) : 0;
      const o = at + 48 + 32 * (r >> 6) + (r & 31);
      b[o] = j & 1 ? (b[o] & 0xf) | ((q & 0xf) << 4) : q & 0xf;
      b[at + 16 + (r & 31)] |= (q >> 4) << j;
    }
    return;
  }
  // q2_k and q3_k: 2-bit quants, bits 2j.. of qs[32h + l] for weight 128h + 32j + l.
  const q = new Uint8Array(256);
  let qs = at + 16;
  if (scheme === 'q2_k') {
    const { step, min } = rangeSteps(x, 16, 3);
    const d = putF16(b, at + 80, Math.max(...step) / 15);
    const dmin = putF16(b, at + 82, Math.max(...min) / 15);
    const sc = levels(step, d, 15);
    const m = levels(min, dmin, 15);
    for (let s = 0; s < 16; s++) b[at + s] = sc[s] | (m[s] << 4);
    for (let r = 0; r < 256; r++) {
      const unit = d * sc[r >> 4];
      q[r] = unit > 0 ? clamp(nearest((x[r] + dmin * m[r >> 4]) / unit), 0, 3) : 0;
    }
  } else {
    // q3_k: per 16 weights w ≈ s · (q − 4), q in 0..7; s a 6-bit signed multiple of d.
    qs = at + 32;
    const s = Array.from({ length: 16 }, (_, j) => signedMax(x, 16 * j, 16 * j + 16) / -4);
    const d = putF16(b, at + 108, signedMax(s, 0, 16) / -32);
    const sc = s.map((v) => (d ? clamp(nearest(v / d), -32, 31) : 0));
    b.fill(0, at, at + 32);
    b.fill(0, at + 96, at + 108);
    for (let j = 0; j < 16; j++) {
      const l = sc[j] + 32;
      b[at + 96 + (j & 7)] |= (l & 0xf) << (j < 8 ? 0 : 4);
      b[at + 96 + 8 + (j & 3)] |= (l >> 4) << (2 * (j >> 2));
    }
    for (let r = 0; r < 256; r++) {
      const unit = d * sc[r >> 4];
      q[r] = (unit ? clamp(nearest(x[r] / unit), -4, 3) : 0) + 4;
      if (q[r] & 4) b[at + (r & 31)] |= 1 << (r >> 5);
    }
  }
  for (let h = 0; h < 2; h++) {
    for (let l = 0; l < 32; l++) {
      const o = 128 * h + l;
      b[qs + 32 * h + l] = (q[o] & 3) | ((q[o + 32] & 3) << 2) | ((q[o + 64] & 3) << 4) | ((q[o + 96] & 3) << 6);
    }
  }
}

/** Writes one block of `scheme` for x[0..qk) into `b` at byte `at`. */
export function encodeBlock(scheme: BlockScheme, x: ArrayLike<number>, b: Uint8Array, at: number): void {
  if (MORE.has(scheme)) {
    encodeMore(scheme, x, b, at);
    return;
  }
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
    packScaleMinK4(b, at + 4, sc, m);
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

/** The schemes encodeMore and decodeMore handle. */
const MORE = new Set<BlockScheme>(['q4_1', 'q5_1', 'q2_k', 'q3_k', 'q5_k', 'iq4_nl', 'iq4_xs']);

/**
 * Reads a block of the schemes beyond the first five, in the order of ggml-quants.c's loops
 * (dequantize_row_q4_1, _q5_1, _q2_K, _q3_K, _q5_K, _iq4_nl, _iq4_xs): y is the next output.
 */
function decodeMore(scheme: BlockScheme, b: Uint8Array, at: number, out: Float64Array, o: number): void {
  let y = o;
  if (scheme === 'q4_1' || scheme === 'q5_1' || scheme === 'iq4_nl') {
    const d = f16(b, at);
    const m = scheme === 'iq4_nl' ? 0 : f16(b, at + 2);
    const qh = scheme === 'q5_1' ? u32(b, at + 4) : 0;
    const qs = at + (scheme === 'q4_1' ? 4 : scheme === 'q5_1' ? 8 : 2);
    for (let j = 0; j < 16; j++) {
      const x0 = (b[qs + j] & 0x0f) | (((qh >>> j) << 4) & 0x10);
      const x1 = (b[qs + j] >> 4) | ((qh >>> (j + 12)) & 0x10);
      out[y + j] = scheme === 'iq4_nl' ? d * IQ4_NL_VALUES[x0] : x0 * d + m;
      out[y + j + 16] = scheme === 'iq4_nl' ? d * IQ4_NL_VALUES[x1] : x1 * d + m;
    }
    return;
  }
  if (scheme === 'iq4_xs') {
    const d = f16(b, at);
    const scalesH = b[at + 2] | (b[at + 3] << 8);
    for (let ib = 0; ib < 8; ib++) {
      const ls = ((b[at + 4 + (ib >> 1)] >> (4 * (ib % 2))) & 0xf) | (((scalesH >> (2 * ib)) & 3) << 4);
      const dl = d * (ls - 32);
      const qs = at + 8 + 16 * ib;
      for (let j = 0; j < 16; j++) {
        out[y + j] = dl * IQ4_NL_VALUES[b[qs + j] & 0xf];
        out[y + j + 16] = dl * IQ4_NL_VALUES[b[qs + j] >> 4];
      }
      y += 32;
    }
    return;
  }
  if (scheme === 'q5_k') {
    const d = f16(b, at);
    const min = f16(b, at + 2);
    let ql = at + 48;
    let u1 = 1;
    let u2 = 2;
    for (let is = 0; is < 8; is += 2) {
      const [sc1, m1] = q4kScaleMin(b, at, is);
      const [sc2, m2] = q4kScaleMin(b, at, is + 1);
      for (let l = 0; l < 32; l++) out[y++] = d * sc1 * ((b[ql + l] & 0xf) + (b[at + 16 + l] & u1 ? 16 : 0)) - min * m1;
      for (let l = 0; l < 32; l++) out[y++] = d * sc2 * ((b[ql + l] >> 4) + (b[at + 16 + l] & u2 ? 16 : 0)) - min * m2;
      ql += 32;
      u1 <<= 2;
      u2 <<= 2;
    }
    return;
  }
  if (scheme === 'q2_k') {
    const d = f16(b, at + 80);
    const min = f16(b, at + 82);
    let q = at + 16;
    let is = 0;
    for (let n = 0; n < 256; n += 128) {
      for (let shift = 0; shift < 8; shift += 2) {
        for (const half of [0, 16]) {
          const sc = b[at + is++];
          for (let l = 0; l < 16; l++) out[y++] = d * (sc & 0xf) * ((b[q + l + half] >> shift) & 3) - min * (sc >> 4);
        }
      }
      q += 32;
    }
    return;
  }
  // q3_k: the 12 scale bytes unpacked through four words as dequantize_row_q3_K does (kmask1, kmask2).
  const dAll = f16(b, at + 108);
  const aux = [u32(b, at + 96), u32(b, at + 100), u32(b, at + 104)];
  const tmp = aux[2];
  const [k1, k2] = [0x03030303, 0x0f0f0f0f];
  const words = [
    (aux[0] & k2) | (((tmp >>> 0) & k1) << 4),
    (aux[1] & k2) | (((tmp >>> 2) & k1) << 4),
    ((aux[0] >>> 4) & k2) | (((tmp >>> 4) & k1) << 4),
    ((aux[1] >>> 4) & k2) | (((tmp >>> 6) & k1) << 4),
  ];
  const scales = Array.from({ length: 16 }, (_, i) => (((words[i >> 2] >>> (8 * (i & 3))) & 0xff) << 24) >> 24);
  let q = at + 32;
  let m = 1;
  let is = 0;
  for (let n = 0; n < 256; n += 128) {
    for (let shift = 0; shift < 8; shift += 2) {
      for (const half of [0, 16]) {
        const dl = dAll * (scales[is++] - 32);
        for (let l = 0; l < 16; l++) out[y++] = dl * (((b[q + l + half] >> shift) & 3) - (b[at + l + half] & m ? 0 : 4));
      }
      m <<= 1;
    }
    q += 32;
  }
}

/** Reads one block of `scheme` at byte `at` into out[o..o + qk). */
export function decodeBlock(scheme: BlockScheme, b: Uint8Array, at: number, out: Float64Array, o: number): void {
  if (MORE.has(scheme)) {
    decodeMore(scheme, b, at, out, o);
    return;
  }
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
  return HALVES[scheme];
}

const HALVES: Record<BlockScheme, number[]> = {
  q8_0: [0],
  q4_0: [0],
  q5_0: [0],
  q4_k: [0, 2],
  q6_k: [208],
  q4_1: [0, 2],
  q5_1: [0, 2],
  q2_k: [80, 82],
  q3_k: [108],
  q5_k: [0, 2],
  iq4_nl: [0],
  iq4_xs: [0],
};

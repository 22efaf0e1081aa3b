// The llama.cpp block types beyond q8_0 / q4_0 / q5_0 / q4_k / q6_k: q4_1, q5_1, q2_k, q3_k, q5_k, iq4_nl
// and iq4_xs (src/ops/ggml-blocks.ts, shaders/lib/<type>.wgsl).
//  - The CPU decoder (written after the loops of ggml-quants.c's dequantize_row_*) against each weight
//    computed by index from the layout as ggml-common.h declares it, on random bytes.
//  - The CPU quantizer's round trip within a bound per type.
//  - On the GPU, blocks of random bytes (every bit pattern of the quants and scales) through the GEMV
//    (M = 1), the tiled GEMM (M = 5) and the embedding lookup, outputs poisoned with NaN first, against
//    float64 on the CPU decoder's weights. Rows are odd lengths, the last block of each row padded.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QuantizedTensor, dequantize, quantLayout, quantizeCPU, type Engine, type QuantizedData } from '../../src/index';
import { f16ToF32, f32ToF16 } from '../../src/gpu/tensor';
import { BLOCK, type BlockScheme, IQ4_NL_VALUES, blockHalves } from '../../src/ops/ggml-blocks';
import { createTestEngine } from '../helpers/engine';
import { expectClose, maxAbs, randn, rng } from '../helpers/numeric';
import { runOp } from '../helpers/ops';

const NEW: BlockScheme[] = ['q4_1', 'q5_1', 'q2_k', 'q3_k', 'q5_k', 'iq4_nl', 'iq4_xs'];

/** `blocks` blocks of random bytes whose f16 fields are random values of magnitude 2^-8 .. 2^-4. */
function randomBlocks(scheme: BlockScheme, blocks: number, seed: number): Uint8Array {
  const r = rng(seed);
  const size = BLOCK[scheme].bytes;
  const out = new Uint8Array(blocks * size);
  for (let i = 0; i < out.length; i++) out[i] = Math.floor(r() * 256);
  for (let b = 0; b < blocks; b++) {
    for (const o of blockHalves(scheme)) {
      const h = f32ToF16((r() < 0.5 ? -1 : 1) * 2 ** (-8 + 4 * r()));
      out[b * size + o] = h & 0xff;
      out[b * size + o + 1] = h >> 8;
    }
  }
  return out;
}

/**
 * Weight r of the block at `at`, computed by index from ggml-common.h's block_* layout (a second
 * formulation beside decodeBlock's loops, the one the WGSL libraries use).
 */
function specWeight(scheme: BlockScheme, b: Uint8Array, at: number, r: number): number {
  const half = (o: number) => f16ToF32(b[at + o] | (b[at + o + 1] << 8));
  const nib = (o: number, i: number) => (i < 16 ? b[at + o + i] & 15 : b[at + o + i - 16] >> 4); // 32 weights in 16 bytes
  const bit = (o: number, i: number) => (b[at + o + (i >> 3)] >> (i & 7)) & 1; // bit i of a little-endian field
  const h = r >> 7;
  const j = (r >> 5) & 3;
  const l = r & 31;
  switch (scheme) {
    case 'q4_1':
      return half(0) * nib(4, r) + half(2);
    case 'q5_1':
      return half(0) * (nib(8, r) + 16 * bit(4, r)) + half(2);
    case 'iq4_nl':
      return half(0) * IQ4_NL_VALUES[nib(2, r)];
    case 'iq4_xs': {
      const sb = r >> 5;
      const ls = ((b[at + 4 + (sb >> 1)] >> (4 * (sb & 1))) & 15) | ((bit(2, 2 * sb) | (bit(2, 2 * sb + 1) << 1)) << 4);
      return half(0) * (ls - 32) * IQ4_NL_VALUES[nib(8 + 16 * sb, l)];
    }
    case 'q2_k': {
      const sc = b[at + (r >> 4)];
      return half(80) * (sc & 15) * ((b[at + 16 + 32 * h + l] >> (2 * j)) & 3) - half(82) * (sc >> 4);
    }
    case 'q3_k': {
      const s = r >> 4;
      const low = s < 8 ? b[at + 96 + s] & 15 : b[at + 96 + s - 8] >> 4;
      const s6 = low | (((b[at + 104 + (s % 4)] >> (2 * Math.floor(s / 4))) & 3) << 4);
      const q = ((b[at + 32 + 32 * h + l] >> (2 * j)) & 3) - (bit(0, 8 * l + (r >> 5)) ? 0 : 4);
      return half(108) * (s6 - 32) * q;
    }
    case 'q5_k': {
      const sj = r >> 5;
      const q = b[at + 4 + sj]; // get_scale_min_k4, read off the packing: sub-blocks 0..3 in 6 bits, 4..7 split
      const sc = sj < 4 ? q & 63 : (b[at + 8 + sj] & 15) | ((b[at + sj] >> 6) << 4);
      const m = sj < 4 ? b[at + 8 + sj] & 63 : (b[at + 8 + sj] >> 4) | ((b[at + 4 + sj] >> 6) << 4);
      const low = sj % 2 === 0 ? b[at + 48 + 32 * (r >> 6) + l] & 15 : b[at + 48 + 32 * (r >> 6) + l] >> 4;
      return half(0) * sc * (low + 16 * bit(16, 8 * l + sj)) - half(2) * m;
    }
    default:
      throw new Error(`no spec for ${scheme}`);
  }
}

/** QuantizedData for [N, K] from whole blocks of random bytes (K padded to whole blocks per row). */
function randomMatrix(scheme: BlockScheme, K: number, N: number, seed: number): QuantizedData {
  const l = quantLayout(scheme, K, N);
  const qweight = new Uint32Array(l.words);
  new Uint8Array(qweight.buffer).set(randomBlocks(scheme, N * l.rowBlocks, seed));
  return { ...l, qweight, scales: new Float32Array(0) };
}

describe('llama.cpp blocks beyond the first five: CPU', () => {
  for (const scheme of NEW) {
    it(`${scheme}: decodeBlock (dequantize_row_* order) equals the layout read by index, on random bytes`, () => {
      const { qk, bytes } = BLOCK[scheme];
      const blocks = 5;
      const raw = randomBlocks(scheme, blocks, 7);
      const q: QuantizedData = {
        ...quantLayout(scheme, qk * blocks, 1),
        qweight: new Uint32Array(Math.ceil(raw.length / 4)),
        scales: new Float32Array(0),
      };
      new Uint8Array(q.qweight.buffer).set(raw);
      const w = dequantize(q);
      let nonzero = 0;
      for (let i = 0; i < qk * blocks; i++) {
        const want = specWeight(scheme, raw, Math.floor(i / qk) * bytes, i % qk);
        expect(w[i], `${scheme} weight ${i}`).toBe(want);
        if (want !== 0) nonzero++;
      }
      expect(nonzero).toBeGreaterThan(qk * blocks * 0.6);
    });

    it(`${scheme}: the CPU quantizer's round trip is within its bound, K padded to whole blocks`, () => {
      const [K, N] = [300, 3];
      const w = randn(K * N, 40).map((v, i) => (i % 97 === 0 ? v * 8 : v)); // [N, K]; outliers widen some blocks
      const q = quantizeCPU(w, K, N, scheme, 'NK');
      expect(q.qweight.length).toBe(Math.ceil((N * Math.ceil(K / BLOCK[scheme].qk) * BLOCK[scheme].bytes) / 4));
      const back = dequantize(q);
      // Per weight, against the largest magnitude of its 32 (q4_1, q5_1, iq4_nl) or its super-block:
      //   q4_1 / q5_1: half a step of range / 15 or / 31 (range ≤ 2 amax), with slack for the f16 d and m
      //   q5_k: the same per 32 (range / 31), with slack for the 6-bit scales and mins
      //   q2_k: half of range / 3 per 16 (≤ amax / 3), with slack for the 4-bit scales and mins
      //   q3_k: half of the step amax16 / 4, with slack for the 6-bit scales
      //   iq4_nl: half the widest gap of the table (24 of 127 → 12 / 127 of amax), with the f16 d;
      //   iq4_xs: the same, with the 6-bit sub-block scales (a level is amax / 127 / 32)
      const rel: Record<string, number> = {
        q4_1: 1.05 / 15,
        q5_1: 1.05 / 31,
        q5_k: 1.3 / 31,
        q2_k: 1.2 / 3,
        q3_k: 0.2,
        iq4_nl: 13 / 127,
        iq4_xs: 14 / 127,
      };
      const span = BLOCK[scheme].qk;
      let sq = 0;
      let sqErr = 0;
      for (let n = 0; n < N; n++) {
        for (let k = 0; k < K; k++) {
          const s0 = k - (k % span);
          const amax = maxAbs(w.subarray(n * K + s0, n * K + Math.min(K, s0 + span)));
          const err = Math.abs(back[n * K + k] - w[n * K + k]);
          expect(err, `${scheme} weight (${n}, ${k})`).toBeLessThanOrEqual(rel[scheme] * amax);
          sq += w[n * K + k] ** 2;
          sqErr += err ** 2;
        }
      }
      // and the RMS error relative to the RMS weight, which grows as bits shrink
      const rms: Record<string, number> = { q4_1: 0.1, q5_1: 0.05, q5_k: 0.05, q2_k: 0.4, q3_k: 0.22, iq4_nl: 0.1, iq4_xs: 0.1 };
      expect(Math.sqrt(sqErr / sq)).toBeLessThan(rms[scheme]);
    });
  }
});

describe('llama.cpp blocks beyond the first five: GEMV, GEMM and embedding', () => {
  let engine: Engine;
  beforeAll(async () => {
    engine = await createTestEngine();
  });
  afterAll(() => engine?.dispose());

  for (const scheme of NEW) {
    it(`${scheme}: random blocks through the GEMV (M = 1), the tiled GEMM (M = 5) and the embedding lookup`, async () => {
      const qk = BLOCK[scheme].qk;
      const [K, N] = [qk === 32 ? 136 : 300, 13]; // the last block of each row padded; N odd
      const data = randomMatrix(scheme, K, N, 11);
      const W = dequantize(data); // [N, K]
      const qt = QuantizedTensor.upload(engine, data, `${scheme} random`);
      const g = engine.graph(scheme);
      const plan = await g.compile({
        gemv: g.dequantMatmul(g.input('x1', [1, K]), qt),
        gemm: g.dequantMatmul(g.input('x5', [5, K]), qt, { name: 'b' }),
      });
      plan.poison();
      const x = randn(5 * K, 12);
      const out = await plan.run({ x1: x.subarray(0, K), x5: x });
      const ref = Float64Array.from({ length: 5 * N }, (_, i) => {
        const [m, n] = [Math.floor(i / N), i % N];
        let s = 0;
        for (let k = 0; k < K; k++) s += W[n * K + k] * x[m * K + k];
        return s;
      });
      // f32 accumulation over K terms: within 1e-5 of the largest output
      expectClose(out.gemv, ref.subarray(0, N), { atol: 1e-5 * maxAbs(ref), rtol: 0 }, `${scheme} gemv`);
      expectClose(out.gemm, ref, { atol: 1e-5 * maxAbs(ref), rtol: 0 }, `${scheme} gemm`);
      plan.dispose();
      qt.dispose();

      // The table [V = N, C = K]: token rows plus positions, against the op's float64 reference.
      const P = 6;
      const { gpu, ref: refE } = await runOp(engine, {
        op: 'dequant_embedding',
        inputs: [
          { shape: [5], data: new Uint32Array([0, 12, 5, 5, 40]) }, // 40: past the table, adds 0
          { shape: [data.qweight.length], data: data.qweight },
          { shape: [P, K], data: randn(P * K, 13) },
        ],
        attrs: { scheme, V: N, C: K, pos: 1, firstId: 0, addPosition: true, scales: false },
      });
      expectClose(gpu, refE, { atol: 1e-6, rtol: 1e-6 }, `${scheme} embedding`);
      // and the reference itself reads row 12 as the decoder does
      for (let c = 0; c < K; c += 37) expect(refE[K + c]).toBeCloseTo(W[12 * K + c] + randn(P * K, 13)[2 * K + c], 5);
    });
  }
});

// Int8 weights: the quantizer's error bound, GPU and CPU quantizers agreeing, and dequant-matmul
// (GEMV and tiled GEMM, both schemes, fused epilogues) and the int8 embedding lookup against float64
// on the dequantised weights.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QuantizedTensor, dequantize, quantizeCPU, type Engine, type QuantScheme } from '../../src/index';
import { dot4Reference } from '../../src/ops/dequant_matmul';
import { swigluRows } from '../../src/ops/matmul';
import { createTestEngine } from '../helpers/engine';
import { expectClose, f64, maxAbs, randn } from '../helpers/numeric';
import { runOp } from '../helpers/ops';

let engine: Engine;
beforeAll(async () => {
  engine = await createTestEngine();
});
afterAll(() => engine?.dispose());

const SCHEMES: QuantScheme[] = ['q8_0', 'per-channel'];
/** Every packed format the kernels read: int8, 16-bit (two per word, no scales) and llama.cpp's blocks. */
const FORMATS: QuantScheme[] = [...SCHEMES, 'f16', 'bf16', 'q4_0', 'q5_0', 'q4_k', 'q6_k'];

describe('quantize', () => {
  for (const scheme of SCHEMES) {
    // q8_0 stores its scale as an f16 (llama.cpp's block): the step the weights were rounded with is
    // off by up to 2^-11 of itself, which moves a weight by at most 127 · that.
    it(`${scheme}: round trip within half a step (absmax / 254) of each weight's block${scheme === 'q8_0' ? ', plus the f16 scale rounding' : ''}`, () => {
      const [K, N] = [100, 7];
      const w = randn(K * N, 3);
      const q = quantizeCPU(w, K, N, scheme, 'KN');
      const back = dequantize(q);
      for (let n = 0; n < N; n++) {
        for (let k = 0; k < K; k++) {
          const span = scheme === 'q8_0' ? 32 : K;
          const b = Math.floor(k / span);
          let amax = 0;
          for (let j = b * span; j < Math.min(K, (b + 1) * span); j++) amax = Math.max(amax, Math.abs(w[j * N + n]));
          const f16Scale = scheme === 'q8_0' ? amax * 2 ** -11 : 0;
          expect(Math.abs(back[n * K + k] - w[k * N + n])).toBeLessThanOrEqual(amax / 254 + f16Scale + 1e-7);
        }
      }
    });

    it(`${scheme}: the GPU quantizer agrees with the CPU one`, async () => {
      const [K, N] = [96, 33];
      const w = randn(K * N, 4);
      for (const layout of ['KN', 'NK'] as const) {
        const gpu = await (await engine.quantize(w, { K, N, scheme, layout })).read();
        const cpu = quantizeCPU(w, K, N, scheme, layout);
        expectClose(gpu.scales, f64(cpu.scales), { atol: 0, rtol: 3e-7 }, 'scales');
        // WGSL division may be an ulp off the CPU's, so a value sitting on a rounding boundary can land
        // one step away; nearly every byte must agree and none may differ by more than one step.
        const bytes = (u: Uint32Array) => new Int8Array(u.buffer, u.byteOffset, u.byteLength);
        const qa = bytes(gpu.qweight);
        const qb = bytes(cpu.qweight);
        let same = 0;
        for (let i = 0; i < qa.length; i++) {
          expect(Math.abs(qa[i] - qb[i])).toBeLessThanOrEqual(1);
          if (qa[i] === qb[i]) same++;
        }
        expect(same / qa.length).toBeGreaterThan(0.999);
      }
    });
  }

  it('malformed packed data or a wrong scale count is refused', () => {
    const q = quantizeCPU(randn(64 * 3, 1), 64, 3, 'per-channel');
    expect(() => QuantizedTensor.upload(engine, { ...q, qweight: q.qweight.subarray(1) })).toThrow(
      /packed data has 47 words, the layout needs 48/,
    );
    expect(() => QuantizedTensor.upload(engine, { ...q, scales: new Float32Array(5) })).toThrow(/5 scales given, the layout needs 3/);
    const q8 = quantizeCPU(randn(64 * 3, 1), 64, 3, 'q8_0'); // 6 blocks of 34 bytes: 51 words
    expect(() => QuantizedTensor.upload(engine, { ...q8, qweight: q8.qweight.subarray(1) })).toThrow(
      /packed data has 50 words, the layout needs 51/,
    );
    expect(() => QuantizedTensor.upload(engine, { ...q, scales: q.scales.map((v, i) => (i ? v : NaN)) })).toThrow(/scale 0 is NaN/);
    expect(() => quantizeCPU(randn(10, 1), 5, 3, 'q8_0')).toThrow(/10 weights do not fill/);
  });
});

describe('llama.cpp blocks', () => {
  // Worst-case bounds of this engine's quantizers (ggml-blocks.ts) per weight, from the sub-block x
  // (32 weights; 16 for q6_k) and its super-block `all`, with 2^-8 of slack for the f16 scales:
  //   q4_0: step d = amax / 8; the far end of the range clamps to 15, one step short: |err| ≤ d
  //   q5_0: the same with d = amax / 16 and q clamped to 31
  //   q4_k: the sub-block's step (range / 15) and min round to multiples of d = max step / 63 and
  //         dmin = max min / 63; in range |err| ≤ (step + d / 2) / 2, at the clamped top ≤ 7.5 d + dmin / 2
  //   q6_k: step (amax / 32) rounds to a multiple of d = max step / 128; the clamped end errs by up to
  //         one step plus 16 d (a sub-block whose scale rounds to 0 reads as zeros)
  const amax = (v: number[]) => Math.max(...v.map(Math.abs));
  const bound: Record<'q4_0' | 'q5_0' | 'q4_k' | 'q6_k', (x: number[], all: number[]) => number> = {
    q4_0: (x) => amax(x) / 8,
    q5_0: (x) => amax(x) / 16,
    q4_k: (x, all) => {
      const subs = Array.from({ length: Math.ceil(all.length / 32) }, (_, j) => all.slice(32 * j, 32 * j + 32));
      const d = Math.max(...subs.map((v) => (Math.max(...v, 0) - Math.min(...v, 0)) / 15)) / 63;
      const dmin = Math.max(...subs.map((v) => -Math.min(...v, 0))) / 63;
      const step = (Math.max(...x, 0) - Math.min(...x, 0)) / 15;
      return Math.max((step + d / 2) / 2, 7.5 * d) + dmin / 2;
    },
    q6_k: (x, all) => amax(x) / 32 + (16 * amax(all)) / 32 / 128,
  };
  for (const scheme of ['q4_0', 'q5_0', 'q4_k', 'q6_k'] as const) {
    it(`${scheme}: round trip within its bound per sub-block, K padded to whole blocks`, () => {
      const [K, N] = [300, 3]; // two q4_k / q6_k blocks per row, the second padded
      const w = randn(K * N, 40).map((v, i) => (i % 97 === 0 ? v * 20 : v)); // outliers widen some blocks
      const q = quantizeCPU(w, K, N, scheme, 'NK');
      expect(q.scales.length).toBe(0);
      const back = dequantize(q);
      const sub = scheme === 'q6_k' ? 16 : 32;
      const superLen = scheme === 'q4_0' || scheme === 'q5_0' ? 32 : 256;
      for (let n = 0; n < N; n++) {
        for (let k = 0; k < K; k++) {
          const s0 = k - (k % sub);
          const b0 = k - (k % superLen);
          const row = Array.from({ length: Math.min(K, b0 + superLen) - b0 }, (_, i) => w[n * K + b0 + i]);
          const x = row.slice(s0 - b0, Math.min(K, s0 + sub) - b0);
          expect(Math.abs(back[n * K + k] - w[n * K + k])).toBeLessThanOrEqual(bound[scheme](x, row) * (1 + 2 ** -8));
        }
      }
    });
  }

  for (const scheme of ['f16', 'bf16', 'q4_0', 'q5_0', 'q4_k'] as const) {
    it(`${scheme}: the GPU quantizer gives the CPU's bytes (both layouts, rows padded, an odd block count)`, async () => {
      const [K, N] = [scheme === 'q4_k' ? 300 : 96, 33]; // q4_0: 3 × 33 = 99 blocks, the last pair half empty
      const w = randn(K * N, 50).map((v, i) => (i % 101 === 0 ? v * 30 : v));
      for (const layout of ['KN', 'NK'] as const) {
        const gpu = await engine.quantize(w, { K, N, scheme, layout, on: 'gpu' });
        const got = await gpu.read();
        const want = quantizeCPU(w, K, N, scheme, layout);
        expect(got.qweight.length).toBe(want.qweight.length);
        const a = new Uint8Array(got.qweight.buffer);
        const b = new Uint8Array(want.qweight.buffer);
        let same = 0;
        for (let i = 0; i < a.length; i++) if (a[i] === b[i]) same++;
        if (scheme === 'f16' || scheme === 'bf16')
          expect(same).toBe(a.length); // one rounding per weight: exact
        // WGSL's division may be an ulp off the CPU's, moving a value on a rounding boundary by a step.
        else expect(same / a.length).toBeGreaterThan(0.999);
        const [dg, dc] = [dequantize(got), dequantize(want)];
        let worst = 0;
        for (let i = 0; i < dg.length; i++) worst = Math.max(worst, Math.abs(dg[i] - dc[i]));
        expect(worst).toBeLessThanOrEqual(scheme.startsWith('q4') ? maxAbs(dc) / 7 : 0);
        gpu.dispose();
      }
    });
  }

  it('a block with a non-finite f16 scale is refused on upload', () => {
    const q = quantizeCPU(randn(256 * 2, 41), 256, 2, 'q4_k', 'NK');
    const bytes = new Uint8Array(q.qweight.buffer);
    bytes[144 + 1] = 0x7c; // block 1's d: +∞
    expect(() => QuantizedTensor.upload(engine, q)).toThrow(/q4_k\): block 1 has a non-finite f16 scale/);
  });
});

describe('16-bit packing', () => {
  it('bf16 round trip: the nearest bfloat16 (relative error ≤ 2^-8), the f32 range kept', () => {
    const [K, N] = [19, 3];
    const w = randn(K * N, 32).map((v, i) => (i === 2 ? 3e38 : i === 3 ? 1e-30 : v));
    const back = dequantize(quantizeCPU(w, K, N, 'bf16', 'KN'));
    for (let n = 0; n < N; n++)
      for (let k = 0; k < K; k++) {
        const v = w[k * N + n];
        expect(Math.abs(back[n * K + k] - v)).toBeLessThanOrEqual(Math.abs(v) * 2 ** -8);
      }
  });

  it('round trip: each weight to the nearest half (relative error ≤ 2^-11), subnormals and overflow as IEEE', () => {
    const [K, N] = [37, 5]; // K not a multiple of 8: rows are padded
    const w = randn(K * N, 31).map((v, i) => (i === 3 ? 1e-6 : i === 4 ? 7e4 : i === 5 ? -0 : v * 10));
    const q = quantizeCPU(w, K, N, 'f16', 'KN');
    expect(q.rowWords).toBe(20);
    expect(q.scales.length).toBe(0);
    const back = dequantize(q);
    for (let n = 0; n < N; n++)
      for (let k = 0; k < K; k++) {
        const v = w[k * N + n];
        const b = back[n * K + k];
        if (Math.abs(v) > 65504) expect(b).toBe(Math.sign(v) * Number.POSITIVE_INFINITY);
        else expect(Math.abs(b - v)).toBeLessThanOrEqual(Math.max(Math.abs(v) * 2 ** -11, 2 ** -25));
      }
  });
});

describe('dequant_matmul', () => {
  const cases: [number, number, number][] = [
    // M, K, N
    [1, 768, 45], // GEMV
    [1, 100, 17], // GEMV, K not a multiple of 32
    [1, 1100, 29], // GEMV with 16 threads per output (K > 1024)
    [1, 13, 9], // K % 4 != 0: tiled path
    [5, 67, 33],
    [37, 96, 130],
  ];
  for (const scheme of FORMATS) {
    for (const [M, K, N] of cases) {
      it(`${scheme} M=${M} K=${K} N=${N}, with fused bias + GELU + residual`, async () => {
        const qt = await engine.quantize(randn(K * N, K + N), { K, N, scheme, label: 'w' });
        const q = await qt.read();
        const x = randn(M * K, 1);
        const bias = randn(N, 2);
        const res = randn(M * N, 3);
        const g = engine.graph('dq');
        const xi = g.input('x', [M, K]);
        const plain = g.dequantMatmul(xi, qt);
        const fusedOut = g.add(g.gelu(g.add(g.dequantMatmul(xi, qt, { name: 'w2' }), g.input('bias', [N]))), g.input('res', [M, N]));
        const plan = await g.compile({ plain, fused: fusedOut });
        expect(plan.fused).toBe(3);
        plan.poison();
        const out = await plan.run({ x, bias, res });
        const w = dequantize(q); // [N, K]
        const ref = new Float64Array(M * N);
        const refFused = new Float64Array(M * N);
        for (let m = 0; m < M; m++)
          for (let n = 0; n < N; n++) {
            let s = 0;
            for (let k = 0; k < K; k++) s += x[m * K + k] * w[n * K + k];
            ref[m * N + n] = s;
            const b = s + bias[n];
            refFused[m * N + n] = 0.5 * b * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (b + 0.044715 * b ** 3))) + res[m * N + n];
          }
        // Relative error ≤ 1e-5 of the largest output (f32 accumulation over K terms).
        expectClose(out.plain, ref, { atol: 1e-5 * maxAbs(ref), rtol: 0 }, 'dequant_matmul');
        expectClose(out.fused, refFused, { atol: 1e-5 * maxAbs(refFused), rtol: 0 }, 'dequant_matmul fused');
        plan.dispose();
        qt.dispose();
      });
    }
  }
});

describe('dequant_matmul, SwiGLU epilogue', () => {
  for (const scheme of ['q8_0', 'f16', 'q5_0', 'q4_k', 'q6_k'] as const) {
    it(`${scheme}: interleaved gate/up rows give silu(gate) · up in the GEMV and the tiled GEMM`, async () => {
      const [K, I] = [256, 21];
      const w = swigluRows(randn(I * K, 5), randn(I * K, 6), K); // [2I, K]
      const qt = await engine.quantize(w, { K, N: 2 * I, layout: 'NK', scheme, label: 'gate_up' });
      const W = dequantize(await qt.read()); // [2I, K]
      for (const M of [1, 6]) {
        const x = randn(M * K, M);
        const g = engine.graph('glu');
        const plan = await g.compile({ y: g.dequantMatmul(g.input('x', [M, K]), qt, { act: 'swiglu' }) });
        plan.poison();
        const { y } = await plan.run({ x });
        const want = new Float64Array(M * I);
        for (let m = 0; m < M; m++)
          for (let j = 0; j < I; j++) {
            let [a, b] = [0, 0];
            for (let k = 0; k < K; k++) {
              a += x[m * K + k] * W[2 * j * K + k];
              b += x[m * K + k] * W[(2 * j + 1) * K + k];
            }
            want[m * I + j] = (a / (1 + Math.exp(-a))) * b;
          }
        expectClose(y, want, { atol: 1e-5 * maxAbs(want), rtol: 0 }, `${scheme} swiglu M=${M}`);
        plan.dispose();
      }
      qt.dispose();
    });
  }
});

describe('dequant_matmul, dot4I8Packed path', () => {
  it('quantized activations: equals its own float64 model, and its accuracy against exact int8 weights is reported', async () => {
    const [K, N] = [768, 301];
    const qt = await engine.quantize(randn(K * N, 9), { K, N, scheme: 'q8_0', label: 'w' });
    const q = await qt.read();
    const x = randn(K, 10);
    const g = engine.graph('dp4a');
    const xi = g.input('x', [1, K]);
    const plan = await g.compile({
      fast: g.dequantMatmul(xi, qt, { dot4: true, name: 'a' }),
      exact: g.dequantMatmul(xi, qt, { name: 'b' }),
    });
    plan.poison();
    const out = await plan.run({ x });
    const w = dequantize(q);
    const exact = new Float64Array(N);
    for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) exact[n] += x[k] * w[n * K + k];
    expectClose(out.exact, exact, { atol: 1e-5 * maxAbs(exact), rtol: 0 }, 'exact path');
    if (engine.features.packedDot4) {
      const model = dot4Reference(x, q, K, N);
      expectClose(out.fast, model, { atol: 1e-5 * maxAbs(model), rtol: 0 }, 'dp4a path against its float64 model');
      let worst = 0;
      for (let n = 0; n < N; n++) worst = Math.max(worst, Math.abs(out.fast[n] - exact[n]));
      console.log(
        `dot4I8Packed GEMV (K=${K}, N=${N}): max |error| ${(worst / maxAbs(exact)).toExponential(2)} of max |y| against exact int8 weights`,
      );
      expect(worst / maxAbs(exact)).toBeLessThan(0.02);
    } else {
      // Without the language feature the request falls back to the exact kernel.
      expectClose(out.fast, exact, { atol: 1e-5 * maxAbs(exact), rtol: 0 }, 'fallback');
    }
    plan.dispose();
    qt.dispose();
  });
});

describe('dequant_embedding', () => {
  for (const scheme of FORMATS) {
    it(`${scheme}: packed token rows + positions equal the float64 lookup on the dequantised table, row blocks included`, async () => {
      const [V, C, P] = [53, 44, 9]; // C not a multiple of 32 (q8_0 rows are padded)
      const table = randn(V * C, 21);
      const wpe = { shape: [P, C], data: randn(P * C, 22) };
      const qt = await engine.quantize(table, { K: C, N: V, layout: 'NK', scheme, label: 'wte' });
      const q = await qt.read();
      const ids = { shape: [6], data: new Uint32Array([0, 52, 7, 7, 30, 99]) }; // 99: past the table, adds 0
      for (const [firstId, addPosition] of [
        [0, true],
        [20, false],
      ] as const) {
        const { gpu, ref } = await runOp(engine, {
          op: 'dequant_embedding',
          inputs: [
            ids,
            { shape: [q.qweight.length], data: q.qweight },
            ...(q.scales.length ? [{ shape: [q.scales.length], data: q.scales }] : []),
            wpe,
          ],
          attrs: { scheme, V, C, pos: 2, firstId, addPosition, scales: q.scales.length > 0 },
        });
        expectClose(gpu, ref, { atol: 1e-6, rtol: 1e-6 }, `dequant_embedding firstId ${firstId}`);
      }
      const g = engine.graph('bad');
      expect(() => g.dequantEmbedding(g.input('ids', [3], 'u32'), qt, g.input('wpe', [P, C + 1]))).toThrow(
        /dequant_embedding: wpe \[9, 45\] must be \[P, 44\]/,
      );
      qt.dispose();
    });
  }
});

// The decode GEMVs (f32 with weights [K, N] and [N, K], int8 q8_0, llama.cpp's q5_0 blocks, and the dot4I8Packed path) under
// every thread-group configuration the tuner may pick: TPR threads per dot product (summed with
// subgroup shuffles — groups numbered by the subgroup_id builtin, or by an atomic counter without it —
// or through workgroup memory on an engine without subgroups) and NR outputs per group. Shapes are odd so the last group runs past N; outputs are poisoned with NaN first.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dequantize, type Engine } from '../../src/index';
import { dot4Reference } from '../../src/ops/dequant_matmul';
import { createTestEngine } from '../helpers/engine';
import { expectClose, maxAbs, randn } from '../helpers/numeric';

const engines: Record<string, Engine> = {};
beforeAll(async () => {
  engines.subgroups = await createTestEngine();
  engines.atomic = await createTestEngine({ disableFeatures: ['subgroupId'] });
  engines.plain = await createTestEngine({ disableFeatures: ['subgroups'] });
});
afterAll(() => {
  for (const e of Object.values(engines)) e.dispose();
});

const CONFIGS = [
  { TPR: 1, NR: 1 },
  { TPR: 2, NR: 3 },
  { TPR: 4, NR: 4 },
  { TPR: 8, NR: 2 },
  { TPR: 32, NR: 1 },
];

describe('GEMV thread groups', () => {
  it('the subgroup library is used where the adapter reports its subgroup sizes', () => {
    const f = engines.subgroups.features;
    if (f.subgroups) {
      // 0 would mean the browser hides GPUAdapterInfo.subgroupMinSize; the GEMVs then fall back to
      // workgroup memory, which is correct but slower. Update the browser to get the fast path.
      expect(f.subgroupMinSize, 'GPUAdapterInfo.subgroupMinSize').toBeGreaterThan(0);
    }
    expect(engines.plain.features.subgroupMinSize).toBe(0);
    expect(engines.atomic.features.subgroupId).toBe(false);
  });

  for (const which of ['subgroups', 'atomic', 'plain']) {
    for (const cfg of CONFIGS) {
      it(`${which}: TPR=${cfg.TPR} NR=${cfg.NR}, f32 [K, N] and [N, K], int8 q8_0, q5_0 and dot4`, async () => {
        const engine = engines[which];
        const [K, N] = [292, 77]; // K % 4 == 0 but not a multiple of 16 or 32; N odd
        const x = randn(K, cfg.TPR);
        const w = randn(N * K, cfg.NR + 10); // [N, K]
        const wT = new Float32Array(K * N);
        for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) wT[k * N + n] = w[n * K + k];
        const qt = await engine.quantize(w, { K, N, scheme: 'q8_0', label: 'w8' });
        const q8 = await qt.read();
        const wq = dequantize(q8);
        // q5_0: 22-byte blocks, rows of ten (K padded to 320) starting on alternate halves of a word
        const q5t = await engine.quantize(w, { K, N, scheme: 'q5_0', layout: 'NK', label: 'w5' });
        const w5 = dequantize(await q5t.read());

        const g = engine.graph('gemv configs');
        const xi = g.input('x', [1, K]);
        const N4 = N - (N % 4); // the vec4 [K, N] GEMV; N itself (odd) takes the scalar-column one
        const outs = {
          nk: g.matmul(xi, g.input('w', [N, K]), { transposeB: true }),
          kn: g.matmul(xi, g.input('wT', [K, N4])),
          knOdd: g.matmul(xi, g.input('wTodd', [K, N]), { bias: g.input('bias', [N]) }),
          int8: g.dequantMatmul(xi, qt, { name: 'a' }),
          dot4: g.dequantMatmul(xi, qt, { name: 'b', dot4: true }),
          q5: g.dequantMatmul(xi, q5t, { name: 'c' }),
        };
        const tuning = { gemv: cfg, dequant_gemv: cfg };
        const plan = await g.compile(outs, { tuning });
        plan.poison();
        const wT4 = new Float32Array(K * N4);
        for (let k = 0; k < K; k++) wT4.set(wT.subarray(k * N, k * N + N4), k * N4);
        const bias = randn(N, 5);
        const out = await plan.run({ x, w, wT: wT4, wTodd: wT, bias });

        const dot = (W: ArrayLike<number>, n: number) => {
          let s = 0;
          for (let k = 0; k < K; k++) s += x[k] * W[n * K + k];
          return s;
        };
        const ref = Float64Array.from({ length: N }, (_, n) => dot(w, n));
        const ref8 = Float64Array.from({ length: N }, (_, n) => dot(wq, n));
        const ref5 = Float64Array.from({ length: N }, (_, n) => dot(w5, n));
        const tol = (r: Float64Array) => ({ atol: 1e-5 * maxAbs(r), rtol: 0 });
        expectClose(out.nk, ref, tol(ref), 'f32 GEMV, weights [N, K]');
        expectClose(out.kn, ref.subarray(0, N4), tol(ref), 'f32 GEMV, weights [K, N]');
        const refBias = ref.map((v, n) => v + bias[n]);
        expectClose(out.knOdd, refBias, tol(refBias), 'f32 GEMV, weights [K, N], N odd, with bias');
        expectClose(out.int8, ref8, tol(ref8), 'int8 GEMV');
        expectClose(out.q5, ref5, tol(ref5), 'q5_0 GEMV');
        if (engine.features.packedDot4) {
          // The dot4 path quantizes the activations too, so it matches its own float64 model, which is
          // measurably away from the exact int8 result: a silent fall-back to the exact kernel fails here.
          const model = dot4Reference(x, q8, K, N);
          let apart = 0;
          for (let n = 0; n < N; n++) apart = Math.max(apart, Math.abs(model[n] - ref8[n]));
          expect(apart).toBeGreaterThan(1e-3 * maxAbs(ref8));
          expectClose(out.dot4, model, tol(model), 'int8 dot4 GEMV against its float64 model');
          expectClose(out.dot4, ref8, { atol: 0.02 * maxAbs(ref8), rtol: 0 }, 'int8 dot4 GEMV against exact int8');
        } else expectClose(out.dot4, ref8, tol(ref8), 'int8 dot4 GEMV (no packed dot4 here: the exact kernel)');
        plan.dispose();
        qt.dispose();
        q5t.dispose();
      });
    }
  }
});

// The matmul family's delta epilogue (a LoRA adapter's low-rank update, added to the product before
// bias, activation and SwiGLU pairing): f32 [K, N] and [N, K] weights and packed ones, in the GEMV
// (M = 1) and the tiled GEMMs (scalar and vec4), with bias, GELU, SwiGLU and a folded residual, against
// float64 on the weights the kernel reads. Outputs are NaN-poisoned first (plan.poison).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dequantize, type Engine, type QuantScheme } from '../../src/index';
import { geluReference, swigluReference } from '../../src/ops/matmul';
import { createTestEngine } from '../helpers/engine';
import { expectClose, maxAbs, randn } from '../helpers/numeric';

let engine: Engine;
beforeAll(async () => {
  engine = await createTestEngine();
});
afterAll(() => engine?.dispose());

/** act(x·Wᵀ + delta + bias) (+ residual), W [N, K], in float64; swiglu pairs adjacent columns. */
function reference(
  x: Float32Array,
  W: ArrayLike<number>,
  M: number,
  K: number,
  N: number,
  o: { delta: Float32Array; bias?: Float32Array; act?: 'gelu' | 'swiglu'; residual?: Float32Array },
): Float64Array {
  const pre = new Float64Array(M * N);
  for (let m = 0; m < M; m++)
    for (let n = 0; n < N; n++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += x[m * K + k] * W[n * K + k];
      s += o.delta[m * N + n] + (o.bias?.[n] ?? 0);
      pre[m * N + n] = o.act === 'gelu' ? geluReference(s) : s;
    }
  const out = o.act === 'swiglu' ? swigluReference(pre) : pre;
  if (o.residual) for (let i = 0; i < out.length; i++) out[i] += o.residual[i];
  return out;
}

// M, K, N: the GEMV, a K past the last vec4 (scalar tiles), and the vec4 tiles.
const SHAPES: [number, number, number][] = [
  [1, 68, 22],
  [3, 13, 10],
  [5, 36, 24],
];

describe('matmul: delta epilogue', () => {
  for (const transposeB of [false, true]) {
    for (const [M, K, N] of SHAPES) {
      for (const act of [undefined, 'gelu', 'swiglu'] as const) {
        if (act === 'swiglu' && !transposeB) continue; // SwiGLU pairs are nn.Linear rows
        it(`${transposeB ? '[N, K]' : '[K, N]'} weights M=${M} K=${K} N=${N} act=${act ?? 'none'}, + bias${act ? '' : ' + residual'}`, async () => {
          const x = randn(M * K, 1);
          const W = randn(N * K, 2); // [N, K]
          const stored = transposeB ? W : Float32Array.from({ length: K * N }, (_, i) => W[(i % N) * K + Math.floor(i / N)]);
          const delta = randn(M * N, 3);
          const bias = randn(N, 4);
          const residual = act ? undefined : randn(M * N, 5);
          const g = engine.graph('delta');
          const w = g.input('w', transposeB ? [N, K] : [K, N]);
          const mm = g.matmul(g.input('x', [M, K]), w, {
            transposeB,
            delta: g.input('delta', [M, N]),
            bias: g.input('bias', [N]),
            ...(act === 'swiglu' ? { act } : {}),
          });
          const y = act === 'gelu' ? g.gelu(mm) : residual ? g.add(mm, g.input('res', [M, N])) : mm;
          const plan = await g.compile({ y });
          expect(plan.dispatches).toBe(1); // GELU or the residual folded in after the delta
          plan.poison();
          const out = await plan.run({ x, w: stored, delta, bias, ...(residual ? { res: residual } : {}) });
          const want = reference(x, W, M, K, N, { delta, bias, act, residual });
          expectClose(out.y, want, { atol: 1e-5 * maxAbs(want), rtol: 0 }, 'matmul delta');
          plan.dispose();
        });
      }
    }
  }
});

describe('dequant_matmul: delta epilogue', () => {
  for (const scheme of ['f16', 'q8_0', 'q4_k'] as QuantScheme[]) {
    for (const [M, act] of [
      [1, undefined],
      [1, 'swiglu'],
      [6, 'swiglu'],
      [6, undefined],
    ] as const) {
      it(`${scheme} M=${M} act=${act ?? 'none'}: delta before the bias and SwiGLU pairs${act ? '' : ', residual after'}`, async () => {
        const [K, N] = [256, 18];
        const qt = await engine.quantize(randn(N * K, 7), { K, N, scheme, layout: 'NK', label: 'w' });
        const W = dequantize(await qt.read()); // [N, K]
        const x = randn(M * K, 8);
        const delta = randn(M * N, 9);
        const bias = randn(N, 10);
        const residual = act ? undefined : randn(M * N, 11);
        const g = engine.graph('dq delta');
        const mm = g.dequantMatmul(g.input('x', [M, K]), qt, { delta: g.input('delta', [M, N]), bias: g.input('bias', [N]), act });
        const y = residual ? g.add(mm, g.input('res', [M, N])) : mm;
        const plan = await g.compile({ y });
        expect(plan.dispatches).toBe(1);
        plan.poison();
        const out = await plan.run({ x, delta, bias, ...(residual ? { res: residual } : {}) });
        const want = reference(x, W, M, K, N, { delta, bias, act, residual });
        expectClose(out.y, want, { atol: 1e-5 * maxAbs(want), rtol: 0 }, `${scheme} delta`);
        plan.dispose();
        qt.dispose();
      });
    }
  }

  it('a delta of the wrong shape is refused naming the op and both shapes', () => {
    const g = engine.graph('bad delta');
    expect(() => g.matmul(g.input('x', [2, 8]), g.input('w', [8, 6]), { delta: g.input('d', [2, 5]) })).toThrow(
      /matmul: delta must be f32 \[2, 6\].*got f32 \[2, 5\]/,
    );
  });
});

// matmul against the float64 reference: a pinned case, odd shapes (not multiples of the tile),
// batched, transposed weights, fused bias / GELU / residual, and the naive baseline.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/index';
import { swigluRows } from '../../src/ops/matmul';
import { createTestEngine } from '../helpers/engine';
import { expectClose, maxAbs, randInt, randn, rng } from '../helpers/numeric';
import { runOp } from '../helpers/ops';

let engine: Engine;
beforeAll(async () => {
  engine = await createTestEngine();
});
afterAll(() => engine?.dispose());

/** f32 accumulation over K terms: |a - r| <= 1e-6 * sqrt(K) * max|r| + 1e-6 (the issue allows 1e-5). */
function tolFor(K: number, ref: Float64Array) {
  return { atol: 1e-6 * Math.sqrt(K) * maxAbs(ref) + 1e-6, rtol: 0 };
}

interface Case {
  batch?: number;
  M: number;
  K: number;
  N: number;
  transposeB?: boolean;
  bias?: boolean;
  act?: 'gelu' | 'swiglu';
  residual?: boolean;
  sharedB?: boolean;
}

async function check(c: Case, seed: number, op = 'matmul') {
  const lead = c.batch ? [c.batch] : [];
  const bLead = c.batch && !c.sharedB ? [c.batch] : [];
  const a = { shape: [...lead, c.M, c.K], data: randn((c.batch ?? 1) * c.M * c.K, seed) };
  const bShape = c.transposeB ? [...bLead, c.N, c.K] : [...bLead, c.K, c.N];
  const b = {
    shape: bShape,
    data: randn(
      bShape.reduce((x, y) => x * y, 1),
      seed + 1,
    ),
  };
  const inputs = [a, b];
  if (c.bias) inputs.push({ shape: [c.N], data: randn(c.N, seed + 2) });
  if (c.residual) inputs.push({ shape: [...lead, c.M, c.N], data: randn((c.batch ?? 1) * c.M * c.N, seed + 3) });
  const attrs = op === 'matmul' ? { transposeB: !!c.transposeB, bias: !!c.bias, act: c.act, residual: !!c.residual } : {};
  const { gpu, ref } = await runOp(engine, { op, inputs, attrs });
  expectClose(gpu, ref, tolFor(c.K, ref), `${op} ${JSON.stringify(c)}`);
}

describe('matmul', () => {
  it('pinned 2×3 · 3×2 case', async () => {
    const { gpu } = await runOp(engine, {
      op: 'matmul',
      inputs: [
        { shape: [2, 3], data: new Float32Array([1, 2, 3, 4, 5, 6]) },
        { shape: [3, 2], data: new Float32Array([7, 8, 9, 10, 11, 12]) },
      ],
    });
    expect(Array.from(gpu)).toEqual([58, 64, 139, 154]);
  });

  const shapes: Case[] = [
    { M: 1, K: 1, N: 1 },
    { M: 67, K: 131, N: 45 },
    { M: 5, K: 768, N: 2304, transposeB: true },
    { M: 64, K: 128, N: 96 }, // vec4 path, exact tiles
    { M: 1, K: 768, N: 300 }, // decode-shaped: gemv
    { M: 1, K: 68, N: 1001, transposeB: true }, // decode-shaped, weights [N, K]: gemv_t
    { M: 1, K: 1100, N: 37, transposeB: true }, // gemv_t with 16 threads per output (K > 1024)
    { M: 1, K: 13, N: 9, transposeB: true }, // decode-shaped but K % 4 != 0: tiled scalar path
    { M: 3, K: 40, N: 24 }, // gemv-class tiles (M ≤ 4)
    { M: 20, K: 36, N: 52 }, // narrow tiles, vec4, partial tiles
    { M: 33, K: 17, N: 70, transposeB: true }, // scalar transposed
    { batch: 3, M: 17, K: 33, N: 29 }, // batched
    { batch: 2, M: 9, K: 12, N: 20, transposeB: true }, // batched, transposed, vec4
    { batch: 3, M: 7, K: 10, N: 6, sharedB: true }, // weights shared across the batch
  ];
  for (const [i, c] of shapes.entries()) {
    it(`shape ${JSON.stringify(c)}`, () => check(c, 100 + i));
  }

  it('fused epilogues: bias, GELU, residual, alone and together, scalar and vec4', async () => {
    await check({ M: 13, K: 19, N: 23, bias: true }, 1);
    await check({ M: 13, K: 19, N: 23, act: 'gelu' }, 2);
    await check({ M: 13, K: 19, N: 23, residual: true }, 3);
    await check({ M: 13, K: 19, N: 23, bias: true, act: 'gelu', residual: true, transposeB: true }, 4);
    await check({ M: 16, K: 32, N: 48, bias: true, act: 'gelu', residual: true }, 5);
    await check({ batch: 2, M: 5, K: 8, N: 12, bias: true, residual: true, sharedB: true }, 6);
    await check({ M: 1, K: 35, N: 44, bias: true, act: 'gelu', residual: true }, 7); // gemv
    await check({ M: 1, K: 36, N: 45, bias: true, act: 'gelu', residual: true, transposeB: true }, 8); // gemv_t
  });

  it('SwiGLU epilogue: silu(x·gateᵀ) · (x·upᵀ) from interleaved rows, in every kernel (tiled, vec4, both GEMVs)', async () => {
    for (const [M, K, I, transposeB] of [
      [7, 19, 11, true], // main
      [9, 32, 24, true], // main_vec4
      [1, 36, 13, true], // gemv_t
      [1, 20, 6, false], // gemv ([K, N] weights: columns interleave)
      [5, 33, 10, false],
    ] as const) {
      const x = randn(M * K, 1);
      const gate = randn(I * K, 2);
      const up = randn(I * K, 3);
      const bias = randn(2 * I, 4);
      let w = swigluRows(gate, up, K); // [2I, K]
      if (!transposeB) w = Float32Array.from({ length: 2 * I * K }, (_, i) => w[(i % (2 * I)) * K + Math.floor(i / (2 * I))]);
      const g = engine.graph('swiglu');
      const xi = g.input('x', [M, K]);
      const wi = g.input('w', transposeB ? [2 * I, K] : [K, 2 * I]);
      const plan = await g.compile({
        y: g.matmul(xi, wi, { transposeB, act: 'swiglu' }),
        yb: g.matmul(xi, wi, { transposeB, act: 'swiglu', bias: g.input('b', [2 * I]) }),
      });
      plan.poison();
      const out = await plan.run({ x, w, b: bias });
      const want = new Float64Array(M * I);
      const wantB = new Float64Array(M * I);
      for (let m = 0; m < M; m++)
        for (let j = 0; j < I; j++) {
          let [a, b] = [0, 0];
          for (let k = 0; k < K; k++) {
            a += x[m * K + k] * gate[j * K + k];
            b += x[m * K + k] * up[j * K + k];
          }
          const silu = (v: number) => v / (1 + Math.exp(-v));
          want[m * I + j] = silu(a) * b;
          wantB[m * I + j] = silu(a + bias[2 * j]) * (b + bias[2 * j + 1]);
        }
      expectClose(out.y, want, tolFor(K, want), `swiglu M=${M} K=${K} I=${I}`);
      expectClose(out.yb, wantB, tolFor(K, wantB), `swiglu + bias M=${M} K=${K} I=${I}`);
      plan.dispose();
    }
    const g = engine.graph('bad');
    expect(() => g.matmul(g.input('x', [2, 4]), g.input('w', [5, 4]), { transposeB: true, act: 'swiglu' })).toThrow(
      /SwiGLU pairs need an even N \(got 5\)/,
    );
  });

  it('random odd shapes (seeded)', async () => {
    const r = rng(7);
    for (let i = 0; i < 6; i++) {
      const c: Case = { M: randInt(r, 1, 90), K: randInt(r, 1, 90), N: randInt(r, 1, 90), transposeB: r() < 0.5 };
      await check(c, 200 + i);
    }
  });

  it('naive baseline matches the reference', async () => {
    await check({ M: 23, K: 41, N: 19 }, 11, 'matmul_naive');
    await check({ batch: 2, M: 5, K: 7, N: 3 }, 12, 'matmul_naive');
  });
});

// matmul against the float64 reference: a pinned case, odd shapes (not multiples of the tile),
// batched, transposed weights, fused bias / GELU / residual, and the naive baseline.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/index';
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
  act?: 'gelu';
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

// layernorm and rmsnorm against the float64 reference: with and without residual, scalar and vec4
// rows, eps as given, and on the workgroup-memory path (no subgroups).
import { expect, it } from 'vitest';
import { fileEngine, withoutSubgroups } from '../helpers/engine';
import { describeOp } from '../helpers/conformance';
import { expectClose, randn } from '../helpers/numeric';
import { runOp } from '../helpers/ops';

const engine = fileEngine();
const TOL = { atol: 5e-5, rtol: 1e-5 };

describeOp('layernorm', () => {
  for (const [rows, C] of [
    [1, 1],
    [3, 7],
    [5, 768],
    [2, 1001],
    [4, 4096],
    [3, 12],
  ]) {
    it(`[${rows}, ${C}]`, async () => {
      const x = randn(rows * C, C, 3);
      for (let i = 0; i < x.length; i++) x[i] += 10; // an offset mean: naive E[x²] - E[x]² would lose digits
      const inputs = [
        { shape: [rows, C], data: x },
        { shape: [C], data: randn(C, 2) },
        { shape: [C], data: randn(C, 3) },
      ];
      const { gpu, ref } = await runOp(engine(), { op: 'layernorm', inputs, attrs: { eps: 1e-5 } });
      expectClose(gpu, ref, TOL, 'layernorm');
      const withRes = await runOp(engine(), {
        op: 'layernorm',
        inputs: [...inputs, { shape: [rows, C], data: randn(rows * C, 4) }],
        attrs: { eps: 1e-3, residual: true },
      });
      expectClose(withRes.gpu, withRes.ref, TOL, 'layernorm + residual');
    });
  }

  // The default engine uses subgroup reductions where the adapter has them; this runs the
  // workgroup-memory version of the same kernel.
  it('agrees with the reference on the shared-memory path (no subgroups)', async () => {
    await withoutSubgroups(async (plain) => {
      const ln = await runOp(plain, {
        op: 'layernorm',
        inputs: [
          { shape: [3, 1001], data: randn(3 * 1001, 1, 3) },
          { shape: [1001], data: randn(1001, 2) },
          { shape: [1001], data: randn(1001, 3) },
        ],
        attrs: { eps: 1e-5 },
      });
      expectClose(ln.gpu, ln.ref, TOL, 'layernorm (shared)');
    });
  });
});

describeOp('rmsnorm', 'LlamaRMSNorm: x / √(mean(x²) + eps) · gamma', () => {
  for (const [rows, C] of [
    [1, 1],
    [3, 7],
    [5, 576],
    [2, 1001],
    [4, 4096],
  ]) {
    it(`[${rows}, ${C}], alone and of x + residual`, async () => {
      const x = randn(rows * C, C, 3);
      const gamma = randn(C, 2);
      const { gpu, ref } = await runOp(engine(), {
        op: 'rmsnorm',
        inputs: [
          { shape: [rows, C], data: x },
          { shape: [C], data: gamma },
        ],
        attrs: { eps: 1e-6 },
      });
      expectClose(gpu, ref, TOL, 'rmsnorm');
      // The reference written out here, independent of the op's: no mean is subtracted.
      for (let r = 0; r < rows; r++) {
        let ms = 0;
        for (let c = 0; c < C; c++) ms += x[r * C + c] ** 2 / C;
        for (let c = 0; c < C; c++) expect(ref[r * C + c]).toBeCloseTo((x[r * C + c] / Math.sqrt(ms + 1e-6)) * gamma[c], 10);
      }
      const withRes = await runOp(engine(), {
        op: 'rmsnorm',
        inputs: [
          { shape: [rows, C], data: x },
          { shape: [C], data: gamma },
          { shape: [rows, C], data: randn(rows * C, 4) },
        ],
        attrs: { eps: 1e-5, residual: true },
      });
      expectClose(withRes.gpu, withRes.ref, TOL, 'rmsnorm + residual');
    });
  }
});

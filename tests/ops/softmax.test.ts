// softmax against the float64 reference: odd rows, a vocabulary-wide row, large and masked values,
// every tunable workgroup size, and the workgroup-memory path (no subgroups).
import { expect, it } from 'vitest';
import { SOFTMAX_WG } from '../../src/ops/softmax';
import { fileEngine, withoutSubgroups } from '../helpers/engine';
import { describeOp } from '../helpers/conformance';
import { expectClose, randn } from '../helpers/numeric';
import { runOp } from '../helpers/ops';

const engine = fileEngine();
const TOL = { atol: 1e-7, rtol: 1e-5 };

describeOp('softmax', () => {
  for (const [rows, N] of [
    [1, 1],
    [3, 17],
    [3, 50257], // rows 0 and 1 get the spikes below, which leave every other value near 0; row 2 does not
    [7, 256],
    [5, 1000], // vec4 entry, a row that is not a multiple of the workgroup
    [3, 4100],
  ]) {
    it(`[${rows}, ${N}]`, async () => {
      const x = randn(rows * N, N, 4);
      x[0] = 80; // large values must not overflow
      x[x.length - 1] = -3.402823e38; // a masked score (causal_mask's -F32_MAX) gets probability 0
      if (N > 8) x[N + 5] = 60; // a new maximum late in a thread's walk rescales its running sum
      const { gpu, ref } = await runOp(engine(), { op: 'softmax', inputs: [{ shape: [rows, N], data: x }] });
      expectClose(gpu, ref, TOL, 'softmax');
    });
  }

  it('every tunable workgroup size, on rows with an unrolled body and a tail (scalar and vec4)', async () => {
    for (const WG of SOFTMAX_WG)
      for (const [rows, N] of [
        [3, 9001], // 9001 % (4 * WG) leaves a scalar tail for every WG
        [2, 4100], // vec4 rows
      ]) {
        const x = randn(rows * N, WG + N, 4);
        x[N + 2 * WG + 1] = 70; // a new maximum in the third load of an unrolled step
        const { gpu, ref } = await runOp(engine(), { op: 'softmax', inputs: [{ shape: [rows, N], data: x }], tuning: { softmax: { WG } } });
        expectClose(gpu, ref, TOL, `softmax WG=${WG} [${rows}, ${N}]`);
      }
  });

  it('a tuning WG it cannot use is an error naming the op and the choices', async () => {
    const run = runOp(engine(), { op: 'softmax', inputs: [{ shape: [2, 5000], data: randn(10000, 1) }], tuning: { softmax: { WG: 96 } } });
    await expect(run).rejects.toThrow(/softmax: tuning WG=96 for rows of 5000 is not one of 32, 64, 128, 256/);
  });

  // The default engine uses subgroup reductions where the adapter has them; this runs the
  // workgroup-memory version of the same kernel.
  it('agrees with the reference on the shared-memory path (no subgroups)', async () => {
    await withoutSubgroups(async (plain) => {
      const sm = await runOp(plain, { op: 'softmax', inputs: [{ shape: [3, 1001], data: randn(3 * 1001, 1, 3) }] });
      expectClose(sm.gpu, sm.ref, TOL, 'softmax (shared)');
      const y = randn(2 * 9001, 5, 3);
      const small = await runOp(plain, { op: 'softmax', inputs: [{ shape: [2, 9001], data: y }], tuning: { softmax: { WG: 32 } } });
      expectClose(small.gpu, small.ref, TOL, 'softmax (shared, WG=32)');
    });
  });
});

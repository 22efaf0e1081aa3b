// slice and assign (strided rows into a state) against the float64 reference (exact: they only move
// values).
import { expect, it } from 'vitest';
import { fileEngine } from '../helpers/engine';
import { describeOp } from '../helpers/conformance';
import { expectClose, f64, randn } from '../helpers/numeric';
import { runOp } from '../helpers/ops';

const engine = fileEngine();

describeOp('slice', () => {
  it('takes rows', async () => {
    const s = await runOp(engine(), { op: 'slice', inputs: [{ shape: [6, 5], data: randn(30, 1) }], attrs: { start: 4, count: 2 } });
    expectClose(s.gpu, s.ref, { atol: 0, rtol: 0 }, 'slice');
  });

  it('takes the row a per-run scalar names (the last real row of a padded prompt)', async () => {
    const g = engine().graph('slice at a scalar');
    const y = g.slice(g.input('x', [9, 5]), g.scalar('last'), 2);
    const plan = await g.compile({ y });
    const x = randn(45, 7);
    for (const last of [0, 3, 7]) {
      plan.poison();
      const { y: out } = await plan.run({ x, last });
      expectClose(out, f64(x.subarray(last * 5, (last + 2) * 5)), { atol: 0, rtol: 0 }, `slice at ${last}`);
    }
    await expect(plan.run({ x, last: 8 })).rejects.toThrow(/first element 40, outside 0\.\.35/);
    plan.dispose();
  });
});

describeOp('assign', () => {
  it('writes strided rows into a state', async () => {
    const a = await runOp(engine(), {
      op: 'assign',
      inputs: [
        { shape: [2, 6, 3], data: randn(36, 2) },
        { shape: [2, 1, 3], data: randn(6, 3) },
      ],
      attrs: { offset: 4 * 3, strided: { outer: 2, rows: 1, rowLen: 3, dstRow: 3, dstOuter: 18 } },
    });
    // runOp feeds the state as a plain input; what matters is which elements the kernel wrote.
    const written = [12, 13, 14, 30, 31, 32];
    expectClose(
      Float32Array.from(written, (i) => a.gpu[i]),
      Float64Array.from(written, (i) => a.ref[i]),
      { atol: 0, rtol: 0 },
      'assign',
    );
  });
});

// slice and assign (strided rows into a state) against the float64 reference (exact: they only move
// values).
import { it } from 'vitest';
import { fileEngine } from '../helpers/engine';
import { describeOp } from '../helpers/conformance';
import { expectClose, randn } from '../helpers/numeric';
import { runOp } from '../helpers/ops';

const engine = fileEngine();

describeOp('slice', () => {
  it('takes rows', async () => {
    const s = await runOp(engine(), { op: 'slice', inputs: [{ shape: [6, 5], data: randn(30, 1) }], attrs: { start: 4, count: 2 } });
    expectClose(s.gpu, s.ref, { atol: 0, rtol: 0 }, 'slice');
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

// normalize against the float64 reference: rows to unit length, zero rows kept zero, on the subgroup
// and the workgroup-memory paths.
import { it } from 'vitest';
import { fileEngine, withoutSubgroups } from '../helpers/engine';
import { describeOp } from '../helpers/conformance';
import { expectClose, randn } from '../helpers/numeric';
import { runOp } from '../helpers/ops';

const engine = fileEngine();
const TOL = { atol: 1e-7, rtol: 1e-6 };

describeOp('normalize', () => {
  it('makes rows unit length (zero rows stay zero)', async () => {
    const x = randn(5 * 37, 3);
    x.fill(0, 37, 74);
    const { gpu, ref } = await runOp(engine(), { op: 'normalize', inputs: [{ shape: [5, 37], data: x }] });
    expectClose(gpu, ref, TOL, 'normalize');
  });

  // The default engine uses subgroup reductions where the adapter has them; this runs the
  // workgroup-memory version of the same kernel.
  it('agrees with the reference on the shared-memory path (no subgroups)', async () => {
    await withoutSubgroups(async (plain) => {
      const nm = await runOp(plain, { op: 'normalize', inputs: [{ shape: [3, 1001], data: randn(3 * 1001, 1, 3) }] });
      expectClose(nm.gpu, nm.ref, TOL, 'normalize (shared)');
    });
  });
});

// add, mul (same shape and trailing broadcast) and GELU against the float64 reference, on odd and
// vec4-aligned lengths.
import { expect, it } from 'vitest';
import { fileEngine } from '../helpers/engine';
import { describeOp } from '../helpers/conformance';
import { expectClose, randn } from '../helpers/numeric';
import { runOp } from '../helpers/ops';

const engine = fileEngine();

// One rounding of an exactly representable operation: f32 epsilon relative.
const ONE_OP = { atol: 0, rtol: 1.2e-7 };
// GELU goes through tanh, whose WGSL precision is implementation-defined: a few ulp.
const GELU = { atol: 2e-6, rtol: 2e-6 };

describeOp(['add', 'mul', 'gelu'], () => {
  it('pinned add and gelu values', async () => {
    const add = await runOp(engine(), {
      op: 'add',
      inputs: [
        { shape: [2, 3], data: new Float32Array([1, 2, 3, 4, 5, 6]) },
        { shape: [3], data: new Float32Array([10, 20, 30]) },
      ],
    });
    expect(Array.from(add.gpu)).toEqual([11, 22, 33, 14, 25, 36]);
    const g = await runOp(engine(), { op: 'gelu', inputs: [{ shape: [3], data: new Float32Array([0, 1, -1]) }] });
    expectClose(g.gpu, new Float64Array([0, 0.8411919906082768, -0.15880800939172324]), GELU, 'gelu pinned');
  });

  for (const shape of [[1], [7], [3, 333], [16, 64]]) {
    it(`add / mul same shape ${JSON.stringify(shape)}`, async () => {
      const n = shape.reduce((a, b) => a * b, 1);
      for (const op of ['add', 'mul'] as const) {
        const { gpu, ref } = await runOp(engine(), {
          op,
          inputs: [
            { shape, data: randn(n, 1) },
            { shape, data: randn(n, 2) },
          ],
        });
        expectClose(gpu, ref, ONE_OP, op);
      }
    });
  }

  it('broadcast a trailing shape over the leading dims', async () => {
    for (const [a, b] of [
      [[5, 7], [7]],
      [
        [2, 3, 8],
        [3, 8],
      ],
      [
        [4, 12],
        [1, 12],
      ],
    ]) {
      const na = a.reduce((x, y) => x * y, 1);
      const nb = b.reduce((x, y) => x * y, 1);
      const { gpu, ref } = await runOp(engine(), {
        op: 'add',
        inputs: [
          { shape: a, data: randn(na, 3) },
          { shape: b, data: randn(nb, 4) },
        ],
      });
      expectClose(gpu, ref, ONE_OP, `add ${a} + ${b}`);
    }
  });

  it('gelu on odd and aligned lengths, including large |x| (no NaN from tanh overflow)', async () => {
    for (const n of [1, 7, 1001, 1024]) {
      const x = randn(n, 5, 4);
      x[0] = 40;
      if (n > 1) x[1] = -40;
      const { gpu, ref } = await runOp(engine(), { op: 'gelu', inputs: [{ shape: [n], data: x }] });
      expectClose(gpu, ref, GELU, `gelu n=${n}`);
    }
  });
});

// The exact GELU goes through exp (a few ulp in WGSL) and a Chebyshev erfc of 1.2e-7 relative error.
const ACT = { atol: 2e-6, rtol: 2e-6 };

describeOp('activation', 'gelu_erf x·Φ(x), relu, silu, tanh against float64', () => {
  it('pinned values: gelu_erf(±1) as torch.nn.functional.gelu gives them, relu, silu, tanh', async () => {
    const x = new Float32Array([0, 1, -1, 3]);
    const want: Record<string, number[]> = {
      gelu_erf: [0, 0.8413447460685429, -0.15865525393145707, 2.99595030590511],
      relu: [0, 1, 0, 3],
      silu: [0, 0.7310585786300049, -0.2689414213699951, 2.8577223804672998],
      tanh: [0, 0.7615941559557649, -0.7615941559557649, 0.9950547536867305],
    };
    for (const fn of ['gelu_erf', 'relu', 'silu', 'tanh'] as const) {
      const r = await runOp(engine(), { op: 'activation', attrs: { fn }, inputs: [{ shape: [4], data: x }] });
      expectClose(r.ref, Float64Array.from(want[fn]), { atol: 1e-15, rtol: 1e-13 }, `${fn} float64 reference`);
      expectClose(r.gpu, Float64Array.from(want[fn]), ACT, `${fn} pinned`);
    }
  });

  it('every function on odd and aligned lengths, both tails included (no NaN from exp or tanh overflow)', async () => {
    for (const fn of ['gelu_erf', 'relu', 'silu', 'tanh'] as const) {
      for (const n of [1, 7, 1001, 1024]) {
        const x = randn(n, 6, 4);
        x[0] = n === 1 ? -9 : 40;
        if (n > 1) x[1] = -40;
        if (n > 2) x[2] = -5.5; // gelu_erf's left tail: -1.04e-7, kept to its relative precision
        const { gpu, ref } = await runOp(engine(), { op: 'activation', attrs: { fn }, inputs: [{ shape: [n], data: x }] });
        expectClose(gpu, ref, ACT, `${fn} n=${n}`);
      }
    }
  });

  it('an unknown function is a ShapeError naming the choices', async () => {
    await expect(
      runOp(engine(), { op: 'activation', attrs: { fn: 'gelu_fast' as 'relu' }, inputs: [{ shape: [3], data: new Float32Array(3) }] }),
    ).rejects.toThrow(/fn must be one of gelu_erf, relu, silu, tanh; got "gelu_fast"/);
  });
});

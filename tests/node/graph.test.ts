// Plans on the device: equal to running each op alone, fusion, reuse, no object creation after the
// first run, chaining on the GPU, shared constants, state and per-run scalars, profiling, memory.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine, SymbolicTensor } from '../../src/index';
import { createTestEngine } from '../helpers/engine';
import { expectClose, f64, randn } from '../helpers/numeric';

let engine: Engine;
beforeAll(async () => {
  engine = await createTestEngine();
});
afterAll(() => engine?.dispose());

/** A two-block MLP: x -> (x·W1 + b1 -> GELU) · W2 + b2 + x, twice. */
function mlp(T: number, C: number, H: number) {
  const g = engine.graph('mlp');
  const x = g.input('x', [T, C]);
  const w: Record<string, Float32Array> = {};
  let h: SymbolicTensor = x;
  for (let l = 0; l < 2; l++) {
    w[`w1.${l}`] = randn(C * H, 10 + l, 0.2);
    w[`b1.${l}`] = randn(H, 20 + l, 0.2);
    w[`w2.${l}`] = randn(H * C, 30 + l, 0.2);
    w[`b2.${l}`] = randn(C, 40 + l, 0.2);
    const up = g.add(g.matmul(h, g.constant(`w1.${l}`, w[`w1.${l}`], [C, H])), g.constant(`b1.${l}`, w[`b1.${l}`]));
    const down = g.add(g.matmul(g.gelu(up), g.constant(`w2.${l}`, w[`w2.${l}`], [H, C])), g.constant(`b2.${l}`, w[`b2.${l}`]));
    h = g.add(down, h);
  }
  return { g, y: h, w };
}

function mlpReference(x: Float32Array, w: Record<string, Float32Array>, T: number, C: number, H: number): Float64Array {
  let h = f64(x);
  for (let l = 0; l < 2; l++) {
    const up = new Float64Array(T * H);
    for (let t = 0; t < T; t++)
      for (let j = 0; j < H; j++) {
        let s = w[`b1.${l}`][j];
        for (let k = 0; k < C; k++) s += h[t * C + k] * w[`w1.${l}`][k * H + j];
        up[t * H + j] = 0.5 * s * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (s + 0.044715 * s ** 3)));
      }
    const next = new Float64Array(T * C);
    for (let t = 0; t < T; t++)
      for (let j = 0; j < C; j++) {
        let s = w[`b2.${l}`][j] + h[t * C + j];
        for (let k = 0; k < H; k++) s += up[t * H + k] * w[`w2.${l}`][k * C + j];
        next[t * C + j] = s;
      }
    h = next;
  }
  return h;
}

describe('plan', () => {
  const T = 7;
  const C = 24;
  const H = 40;

  it('fused and unfused plans both equal the float64 reference, and fusion is counted', async () => {
    const { g, y, w } = mlp(T, C, H);
    const x = randn(T * C, 1);
    const ref = mlpReference(x, w, T, C, H);
    const fused = await g.compile({ y });
    const plain = await g.compile({ y }, { fuse: false });
    expect(fused.fused).toBe(2 * 4); // per block: bias+GELU into the first matmul, bias+residual into the second
    expect(fused.dispatches).toBe(4);
    expect(plain.fused).toBe(0);
    expect(plain.dispatches).toBe(12);
    fused.poison();
    plain.poison();
    const tol = { atol: 1e-5, rtol: 1e-5 };
    expectClose((await fused.run({ x })).y, ref, tol, 'fused');
    expectClose((await plain.run({ x })).y, ref, tol, 'unfused');
    fused.dispose();
    plain.dispose();
  });

  it('creates no pipeline, bind group or buffer after the first run', async () => {
    const { g, y } = mlp(T, C, H);
    const plan = await g.compile({ y });
    await plan.run({ x: randn(T * C, 2) });
    const before = { ...engine.stats };
    for (let i = 0; i < 3; i++) await plan.run({ x: randn(T * C, 3 + i) });
    expect(engine.stats).toEqual(before);
    plan.dispose();
  });

  it('reuses buffers: peak planned bytes are below the sum of the intermediates', async () => {
    const { g, y } = mlp(T, C, H);
    const plan = await g.compile({ y }, { fuse: false });
    expect(plan.memory.peakBytes).toBeLessThan(plan.memory.noReuseBytes);
    expect(plan.memory.buffers).toBeLessThan(13);
    plan.dispose();
  });

  it('runToGPU leaves outputs on the GPU, and a Tensor feeds the next plan without a read-back', async () => {
    const g1 = engine.graph('first');
    const p1 = await g1.compile({ y: g1.gelu(g1.input('x', [5])) });
    const g2 = engine.graph('second');
    const p2 = await g2.compile({ z: g2.add(g2.input('y', [5]), g2.input('one', [5])) });
    const x = new Float32Array([-1, 0, 1, 2, 3]);
    const { y } = await p1.runToGPU({ x });
    const { z } = await p2.run({ y, one: new Float32Array(5).fill(1) });
    const gelu = (v: number) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)));
    expectClose(
      z,
      Float64Array.from(x, (v) => gelu(v) + 1),
      { atol: 1e-6, rtol: 1e-6 },
      'chained',
    );
    p1.dispose();
    p2.dispose();
  });

  it('shares constant buffers between plans built from the same weights', async () => {
    const W = randn(16 * 8, 4);
    const before = engine.memory().liveBytes;
    const build = async () => {
      const g = engine.graph();
      return g.compile({ y: g.matmul(g.input('x', [3, 16]), g.constant('W', W, [16, 8])) });
    };
    const a = await build();
    const withOne = engine.memory().liveBytes;
    const b = await build();
    const withTwo = engine.memory().liveBytes;
    // The second plan adds its own planned buffers but not a second copy of W.
    expect(withTwo - withOne).toBeLessThan(withOne - before);
    expect(a.memory.constantBytes).toBe(16 * 8 * 4);
    const x = randn(48, 5);
    expect((await a.run({ x })).y).toEqual((await b.run({ x })).y);
    a.dispose();
    expect((await b.run({ x })).y.length).toBe(24); // W is still alive for b
    b.dispose();
  });

  it('state survives runs and a per-run scalar picks where assign writes', async () => {
    const cache = engine.empty([4, 3], 'f32', 'cache');
    const g = engine.graph('append');
    const state = g.state('cache', cache);
    const pos = g.scalar('pos');
    const updated = g.assign(state, g.input('row', [3]), { offset: { ...pos, scale: 3 } });
    const plan = await g.compile({ cache: updated });
    let out: ArrayLike<number> | undefined;
    for (let p = 0; p < 4; p++) out = (await plan.run({ row: new Float32Array([p, p + 0.5, -p]), pos: p })).cache;
    expect(Array.from(out!)).toEqual([0, 0.5, -0, 1, 1.5, -1, 2, 2.5, -2, 3, 3.5, -3]);
    await expect(plan.run({ row: new Float32Array(3) })).rejects.toThrow(/scalar 'pos' needs a finite number/);
    plan.dispose();
    cache.dispose();
  });

  it('profile returns per-dispatch GPU times (timestamp-query) and the memory plan', async () => {
    const { g, y } = mlp(T, C, H);
    const plan = await g.compile({ y });
    const p = await plan.profile({ x: randn(T * C, 6) });
    expect(p.dispatches.map((d) => d.op)).toEqual(['matmul', 'matmul', 'matmul', 'matmul']);
    if (engine.features.timestampQuery) {
      for (const d of p.dispatches) expect(d.ms).toBeGreaterThanOrEqual(0);
      expect(p.gpuMs).toBeGreaterThan(0);
    } else {
      expect(p.gpuMs).toBeNull();
    }
    expect(p.wallMs).toBeGreaterThan(0);
    expect(p.memory.peakBytes).toBe(plan.memory.peakBytes);
    plan.dispose();
  });

  it('a plan above the memory budget fails at compile time, naming the largest buffer and the limit', async () => {
    const { g, y } = mlp(T, C, H);
    const before = engine.memory();
    const err = await g.compile({ y }, { maxBytes: 1024 }).catch((e) => e);
    expect(err.name).toBe('LimitError');
    expect(err.message).toMatch(
      /above the memory budget of 1024 bytes; the largest buffer \((matmul|input x)[^)]*\[7, (24|40)\], \d+ bytes\)/,
    );
    expect(engine.memory()).toEqual(before);
  });

  it('an output that is not in the graph is an error', async () => {
    const g = engine.graph();
    const other = engine.graph();
    const y = other.gelu(other.input('x', [2]));
    await expect(g.compile({ y })).rejects.toThrow(/output 'y' is not a tensor of this graph/);
  });

  it('a build / run / dispose loop returns GPU memory to where it started', async () => {
    const start = engine.memory().liveBytes;
    for (let i = 0; i < 3; i++) {
      const { g, y } = mlp(T, C, H);
      const plan = await g.compile({ y });
      await plan.run({ x: randn(T * C, 7) });
      expect(engine.memory().liveBytes).toBeGreaterThan(start);
      plan.dispose();
      expect(engine.memory().liveBytes).toBe(start);
    }
  });
});

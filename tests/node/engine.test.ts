// The device layer and bad input: every error names the op, the shapes or the limit, and nothing
// leaves the device in a bad state.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeviceLostError, Engine, GPUOpError, LimitError, ShapeError, registerOp } from '../../src/index';
import { createTestEngine, withEngine } from '../helpers/engine';

// The ops these tests register, declared as an app declares its own ops so that g.op() takes their names.
declare module '../../src/ops/registry' {
  interface OpAttrs {
    test_broken: Record<string, never>;
    test_named: Record<string, never>;
    test_unnamed: Record<string, never>;
  }
}

let engine: Engine;
beforeAll(async () => {
  engine = await createTestEngine();
});
afterAll(() => engine?.dispose());

describe('engine', () => {
  it("records features and asks for the adapter's larger limits", () => {
    expect(typeof engine.features.subgroups).toBe('boolean');
    expect(typeof engine.features.timestampQuery).toBe('boolean');
    // WebGPU's default is 128 MiB; every adapter we run on offers more, and the engine asks for it.
    expect(engine.limits.maxStorageBufferBindingSize).toBeGreaterThan(128 * 2 ** 20);
    expect(engine.limits.maxComputeWorkgroupStorageSize).toBeGreaterThanOrEqual(16384);
  });

  it('round-trips f32, u32 and i32 tensors through staging buffers', async () => {
    for (const data of [new Float32Array([1.5, -2, 3]), new Uint32Array([7, 0, 4294967295]), new Int32Array([-5, 6, 2 ** 31 - 1])]) {
      const t = engine.tensor(data, [3]);
      expect(Array.from(await t.read())).toEqual(Array.from(data));
      t.dispose();
    }
  });

  it('sizes come from the dtype: f16, i8 and i4 tensors are packed in u32 words', async () => {
    for (const [dtype, n, words] of [
      ['f16', 15, 8],
      ['i8', 10, 3],
      ['i4', 7, 1],
      ['f32', 5, 5],
    ] as const) {
      const data = Uint32Array.from({ length: words }, (_, i) => (i * 2654435761) >>> 0);
      const t = dtype === 'f32' ? engine.tensor(new Float32Array(data.buffer), [n]) : engine.tensor(data, [n], `packed ${dtype}`, dtype);
      expect(t.byteLength, dtype).toBe(4 * words);
      expect(new Uint32Array((await t.read()).buffer)).toEqual(data);
      t.dispose();
    }
    expect(() => engine.tensor(new Uint32Array(2), [15], 'short', 'f16')).toThrow(
      /2 elements do not fill shape \[15\] \(15 f16 in 8 u32 words\)/,
    );
    expect(() => engine.tensor(new Float32Array(8), [15], 'float', 'f16')).toThrow(/f32 data cannot hold f16/);
    // A packed graph input reaches only kernels whose binding holds its element type.
    const g = engine.graph();
    const x = g.input('x', [2, 10], 'i8');
    expect(x.dtype).toBe('i8');
    await expect(g.compile({ y: g.slice(x, 1, 1) })).rejects.toThrow(
      /binding 'value' of entry slice holds f32, its tensor \[2, 10\] is i8/,
    );
  });

  it('matmul with mismatched inner dimensions fails at build time naming the op and both shapes', () => {
    const g = engine.graph();
    const a = g.input('a', [2, 3]);
    const b = g.input('b', [4, 5]);
    expect(() => g.matmul(a, b)).toThrow(ShapeError);
    expect(() => g.matmul(a, b)).toThrow(/matmul.*\[2, 3\].*\[4, 5\]/);
    expect(() => g.add(a, b)).toThrow(/add: shapes \[2, 3\] and \[4, 5\] do not broadcast/);
  });

  it('rejects a missing, unknown, wrong-length or wrong-dtype feed before submitting anything', async () => {
    const g = engine.graph();
    const x = g.input('x', [2, 2]);
    const plan = await g.compile({ y: g.gelu(x) });
    const before = { ...engine.stats };
    await expect(plan.run({})).rejects.toThrow(/missing feed for input 'x' \[2, 2\]/);
    await expect(plan.run({ x: new Float32Array(4), z: new Float32Array(1) })).rejects.toThrow(/unknown feed 'z'/);
    await expect(plan.run({ x: new Float32Array(3) })).rejects.toThrow(/feed 'x' has 3 f32 elements; input \[2, 2\] needs 4 f32/);
    await expect(plan.run({ x: new Uint32Array(4) })).rejects.toThrow(/feed 'x' has 4 u32 elements/);
    expect(engine.stats).toEqual(before);
    // The plan still works afterwards.
    expect((await plan.run({ x: new Float32Array(4) })).y.length).toBe(4);
    plan.dispose();
  });

  it('a tensor beyond maxStorageBufferBindingSize is refused with the limit in the message', () => {
    const g = engine.graph();
    const limit = engine.limits.maxStorageBufferBindingSize;
    const rows = Math.ceil(limit / 4 / 1024) + 1;
    expect(() => g.input('huge', [rows, 1024])).toThrow(LimitError);
    expect(() => g.input('huge2', [rows, 1024])).toThrow(new RegExp(`\\[${rows}, 1024\\].*maxStorageBufferBindingSize of ${limit}`));
  });

  it('a WGSL compile error is raised naming the shader file, line and pipeline', async () => {
    registerOp({
      name: 'test_broken',
      inputs: ['x'],
      shader: { name: 'test_broken', code: '@compute @workgroup_size(1) fn main() { let x: u32 = 1.5; }' },
      infer: (inputs) => inputs[0],
      kernel: () => ({ entry: 'main', grid: [1, 1, 1] }),
      reference: ([a]) => a,
    });
    const g = engine.graph();
    const y = g.op('test_broken', [g.input('x', [4])]);
    const err = await g.compile({ y }).catch((e) => e);
    expect(err).toBeInstanceOf(GPUOpError);
    expect(err.message).toMatch(/test_broken:main/);
    expect(err.message).toMatch(/test_broken\.wgsl:1:/);
    // The device is still usable.
    const ok = engine.graph();
    const p = await ok.compile({ y: ok.gelu(ok.input('x', [4])) });
    expect((await p.run({ x: new Float32Array(4) })).y.length).toBe(4);
    p.dispose();
  });

  it('bindings are matched to inputs by name and element type, optional ones by attribute', async () => {
    const code = `struct P { n: u32 }
@group(0) @binding(0) var<uniform> params: P;
@group(0) @binding(1) var<storage, read> x: array<u32>;
@group(0) @binding(2) var<storage, read> extra: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@compute @workgroup_size(1) fn main() { out[0] = f32(x[0]) + extra[0] + f32(params.n); }`;
    registerOp({
      name: 'test_named',
      inputs: ['x', 'extra?'],
      shader: { name: 'test_named', code },
      infer: (inputs) => ({ shape: inputs[0].shape, dtype: 'f32' }),
      kernel: () => ({ entry: 'main', grid: [1, 1, 1] }), // the uniform field n is not given: zero
      reference: ([a]) => a,
    });
    const g = engine.graph();
    const y = g.op('test_named', [g.input('x', [1], 'u32')]); // 'extra' absent: a dummy buffer
    const plan = await g.compile({ y });
    expect(Array.from((await plan.run({ x: new Uint32Array([7]) })).y)).toEqual([7]);
    plan.dispose();
    const bad = engine.graph();
    const err = await bad.compile({ y: bad.op('test_named', [bad.input('x', [1])]) }).catch((e) => e);
    expect(err).toBeInstanceOf(ShapeError);
    expect(err.message).toMatch(/binding 'x' of entry main holds u32, its tensor \[1\] is f32/);
    registerOp({
      name: 'test_unnamed',
      inputs: ['y'],
      shader: { name: 'test_named', code },
      infer: (i) => ({ shape: i[0].shape, dtype: 'f32' }),
      kernel: () => ({ entry: 'main', grid: [1, 1, 1] }),
      reference: ([a]) => a,
    });
    const g3 = engine.graph();
    await expect(g3.compile({ y: g3.op('test_unnamed', [g3.input('y', [1], 'u32')]) })).rejects.toThrow(
      /binding 'x' of entry main names no input of test_unnamed \(inputs: y\)/,
    );
  });

  it('a tensor used after dispose() is an error naming it', async () => {
    const t = engine.tensor(new Float32Array(4), [2, 2], 'weights');
    t.dispose();
    await expect(t.read()).rejects.toThrow(/tensor 'weights' \[2, 2\] was used after dispose\(\)/);
    expect(() => engine.graph().constant('w', t)).toThrow(/used after dispose/);
  });

  it('running a disposed plan is an error', async () => {
    const g = engine.graph();
    const plan = await g.compile({ y: g.gelu(g.input('x', [4])) });
    plan.dispose();
    await expect(plan.run({ x: new Float32Array(4) })).rejects.toThrow(/the plan was disposed/);
  });

  it('validation errors inside a scope are raised naming the label', async () => {
    const err = await engine
      .scoped('my-op', () => engine.device.createBuffer({ label: 'bad', size: 16, usage: 0x0001 | 0x0080 /* MAP_READ | STORAGE */ }))
      .catch((e) => e);
    expect(err).toBeInstanceOf(GPUOpError);
    expect(err.message).toMatch(/^my-op: WebGPU validation error/);
  });

  it('a shared device is never destroyed by dispose()', async () => {
    const shared = await createTestEngine();
    const guest = await Engine.create({ device: shared.device });
    guest.dispose();
    expect(shared.isLost).toBe(false);
    const t = shared.tensor(new Float32Array([1, 2]));
    expect(Array.from(await t.read())).toEqual([1, 2]);
    shared.dispose();
  });

  it('detects a lost device, refuses work with the fix in the message, and a new engine works after', async () => {
    const doomed = await createTestEngine();
    doomed.device.destroy();
    const info = await doomed.lost;
    expect(info.reason).toBe('destroyed');
    expect(doomed.isLost).toBe(true);
    expect(() => doomed.graph()).toThrow(DeviceLostError);
    expect(() => doomed.graph()).toThrow(/Create a new Engine/);
    await withEngine(async (fresh) => {
      const g = fresh.graph();
      const plan = await g.compile({ y: g.gelu(g.input('x', [2])) });
      expect((await plan.run({ x: new Float32Array([0, 0]) })).y).toEqual(new Float32Array([0, 0]));
    });
  });
});

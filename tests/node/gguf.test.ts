// GGUF: metadata, F32/F16 tensors and Q8_0 matrices from a file written by tools/make_gguf_fixture.py,
// the Q8_0 matrix running through dequant-matmul unchanged, and bad files.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GGUFError, GGUFFile, QuantizedTensor, dequantize, type Engine } from '../../src/index';
import { createTestEngine } from '../helpers/engine';
import { expectClose, maxAbs, randn } from '../helpers/numeric';

const bytes = new Uint8Array(readFileSync('tests/fixtures/gguf/tiny.gguf'));
const want = JSON.parse(readFileSync('tests/fixtures/gguf/tiny.json', 'utf8')) as {
  K: number;
  N: number;
  w: number[];
  v: number[];
  h: number[];
};

let engine: Engine;
beforeAll(async () => {
  engine = await createTestEngine();
});
afterAll(() => engine?.dispose());

describe('GGUF', () => {
  it('reads metadata of every value type, F32 and F16 tensors, and Q8_0 blocks into the q8_0 layout', () => {
    const f = GGUFFile.parse(bytes);
    expect(f.version).toBe(3);
    expect(f.metadata.get('general.architecture')).toBe('test');
    expect(f.metadata.get('general.alignment')).toBe(32);
    expect(f.metadata.get('test.ratio')).toBe(0.5);
    expect(f.metadata.get('test.flag')).toBe(true);
    expect(f.metadata.get('test.list')).toEqual([1, -2, 3]);
    expect(f.metadata.get('test.names')).toEqual(['a', 'bé']);
    expect(Array.from(f.float32('v'))).toEqual(want.v.map(Math.fround));
    expect(Array.from(f.float32('h'))).toEqual(want.h);
    const q = f.q8_0('blk.0.ffn_up.weight');
    expect([q.K, q.N, q.scheme]).toEqual([want.K, want.N, 'q8_0']);
    expect(Array.from(dequantize(q))).toEqual(want.w);
  });

  it('a Q8_0 matrix from GGUF runs through dequant-matmul as is', async () => {
    const q = GGUFFile.parse(bytes).q8_0('blk.0.ffn_up.weight');
    const w = QuantizedTensor.upload(engine, q, 'gguf w');
    const x = randn(want.K, 3);
    const g = engine.graph('gguf');
    const plan = await g.compile({ y: g.dequantMatmul(g.input('x', [1, want.K]), w) });
    const { y } = await plan.run({ x });
    const ref = Float64Array.from({ length: want.N }, (_, n) =>
      want.w.slice(n * want.K, (n + 1) * want.K).reduce((s, v, k) => s + v * x[k], 0),
    );
    expectClose(y, ref, { atol: 1e-5 * maxAbs(ref), rtol: 0 }, 'gguf q8_0 matmul');
    plan.dispose();
    w.dispose();
  });

  it('bad files: not GGUF, truncated, wrong tensor type, missing tensor', () => {
    expect(() => GGUFFile.parse(new Uint8Array(16))).toThrow(/not a GGUF file/);
    expect(() => GGUFFile.parse(bytes.subarray(0, bytes.length - 40))).toThrow(GGUFError);
    expect(() => GGUFFile.parse(bytes.subarray(0, bytes.length - 40))).toThrow(/runs past the end of the file/);
    expect(() => GGUFFile.parse(bytes.subarray(0, 30))).toThrow(/runs past the end of the 30-byte file/);
    const f = GGUFFile.parse(bytes);
    expect(() => f.q8_0('v')).toThrow(/tensor 'v' is F32, not Q8_0/);
    expect(() => f.float32('nope')).toThrow(/missing tensor 'nope'/);
  });
});

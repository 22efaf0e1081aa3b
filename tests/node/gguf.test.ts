// GGUF: metadata, F32/F16 tensors and Q8_0 matrices from a file written by tools/make_gguf_fixture.py,
// the Q8_0 matrix running through dequant-matmul unchanged, a Q4_K_M-style mixed file (Q4_K, Q6_K,
// Q4_0, F16, F32) against the script's own dequantisation, Q5_0 (a hand-made block read as
// dequantize_row_q5_0 says, and a matrix of the CPU encoder's blocks through the kernels), and bad files.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GGUFError, GGUFFile, QuantizedTensor, dequantize, quantizeCPU, type Engine } from '../../src/index';
import { writeGGUF } from '../helpers/files';
import { createTestEngine } from '../helpers/engine';
import { expectClose, maxAbs, randn } from '../helpers/numeric';

const bytes = new Uint8Array(readFileSync('tests/fixtures/gguf/tiny.gguf'));
const mixedBytes = new Uint8Array(readFileSync('tests/fixtures/gguf/mixed.gguf'));
const mixed = JSON.parse(readFileSync('tests/fixtures/gguf/mixed.json', 'utf8')) as Record<string, { K: number; N: number; w: number[] }>;
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

  it('a mixed file (Q4_K, Q6_K, Q4_0, F16, F32): every block decodes as llama.cpp reads it and runs through the kernels as is', async () => {
    const f = GGUFFile.parse(mixedBytes);
    // What the file holds, by type (the norm vector is not a matrix).
    expect(f.typeCounts()).toEqual({ Q4_K: 1, Q6_K: 1, Q4_0: 1, F16: 1, F32: 1 });
    expect(f.typeCounts({ matricesOnly: true })).toEqual({ Q4_K: 1, Q6_K: 1, Q4_0: 1, F16: 1 });
    const schemes: Record<string, string> = {
      'blk.0.attn_q.weight': 'q4_k',
      'blk.0.ffn_down.weight': 'q6_k',
      'blk.0.attn_k.weight': 'q4_0',
      'token_embd.weight': 'f16',
    };
    for (const [name, scheme] of Object.entries(schemes)) {
      const { K, N, w } = mixed[name];
      const q = f.quantized(name);
      expect([q.scheme, q.K, q.N], name).toEqual([scheme, K, N]);
      // The CPU reading is exact (f16 scale times small integers), so it equals the script's float32.
      expect(Array.from(dequantize(q)).map(Math.fround), name).toEqual(w);
      // The same bytes on the GPU: GEMV (M = 1) and the tiled GEMM (M = 3), outputs poisoned first.
      const qt = QuantizedTensor.upload(engine, q, name);
      const g = engine.graph('mixed');
      const x1 = g.input('x1', [1, K]);
      const x3 = g.input('x3', [3, K]);
      const plan = await g.compile({ gemv: g.dequantMatmul(x1, qt), gemm: g.dequantMatmul(x3, qt, { name: 'b' }) });
      plan.poison();
      const x = randn(3 * K, 8);
      const out = await plan.run({ x1: x.subarray(0, K), x3: x });
      const ref = Float64Array.from({ length: 3 * N }, (_, i) => {
        const [m, n] = [Math.floor(i / N), i % N];
        return w.slice(n * K, (n + 1) * K).reduce((s, v, k) => s + v * x[m * K + k], 0);
      });
      expectClose(out.gemv, ref.subarray(0, N), { atol: 1e-5 * maxAbs(ref), rtol: 0 }, `${name} gemv`);
      expectClose(out.gemm, ref, { atol: 1e-5 * maxAbs(ref), rtol: 0 }, `${name} gemm`);
      plan.dispose();
      qt.dispose();
    }
    expect(Array.from(f.float32('output_norm.weight'))).toEqual(mixed['output_norm.weight'].w.map(Math.fround));
  });

  it('Q5_0: a hand-made block decodes as dequantize_row_q5_0 says, and a Q5_0 matrix loads and runs through GEMV and GEMM as is', async () => {
    // block_q5_0 (ggml-common.h): d = 0.5 (f16 0x3800) at byte 0, qh = 0x80010003 little-endian at byte 2
    // (bits 0, 1, 16 and 31: the fifth bits of weights 0, 1, 16 and 31), qs[j] = j | (15 − j) << 4 at byte 6.
    const hand = new Uint8Array([0x00, 0x38, 0x03, 0x00, 0x01, 0x80, ...Array.from({ length: 16 }, (_, j) => j | ((15 - j) << 4))]);
    const want5 = Array.from({ length: 32 }, (_, i) => {
      const j = i % 16;
      const q = i < 16 ? j + (j <= 1 ? 16 : 0) : 15 - j + (j === 0 || j === 15 ? 16 : 0);
      return 0.5 * (q - 16);
    });
    expect([want5[0], want5[1], want5[2], want5[15], want5[16], want5[17], want5[30], want5[31]]).toEqual([
      0, 0.5, -7, -0.5, 7.5, -1, -7.5, 0,
    ]);
    const [K, N] = [96, 5]; // three blocks a row: rows start on alternate halves of a word
    const w = randn(K * N, 60).map((v, i) => (i % 37 === 0 ? v * 10 : v)); // [N, K], as GGUF stores ne = [K, N]
    const enc = quantizeCPU(w, K, N, 'q5_0', 'NK');
    const encBytes = new Uint8Array(enc.qweight.buffer).subarray(0, N * enc.rowBytes);
    const f = GGUFFile.parse(
      writeGGUF(
        [],
        [
          { name: 'hand', dims: [32, 1], type: 6, data: hand },
          { name: 'w', dims: [K, N], type: 6, data: encBytes },
        ],
      ),
    );
    expect(f.typeCounts()).toEqual({ Q5_0: 2 });
    const h = f.quantized('hand');
    expect([h.scheme, h.K, h.N]).toEqual(['q5_0', 32, 1]);
    expect(Array.from(dequantize(h))).toEqual(want5);
    const q = f.quantized('w');
    expect([q.scheme, q.K, q.N]).toEqual(['q5_0', K, N]);
    expect(Array.from(q.qweight)).toEqual(Array.from(enc.qweight));
    // The encoder against the weights: within a step (amax / 16 of the block) of each.
    const W = dequantize(q);
    for (let i = 0; i < K * N; i++) {
      const b = i - (i % 32);
      const amax = Math.max(...Array.from(w.subarray(b, b + 32), Math.abs));
      expect(Math.abs(W[i] - w[i]), `weight ${i}`).toBeLessThanOrEqual((amax / 16) * (1 + 2 ** -8));
    }
    // On the GPU: the hand block and the matrix, GEMV (M = 1) and tiled GEMM (M = 3), outputs poisoned first.
    for (const [name, data] of [
      ['hand', h],
      ['w', q],
    ] as const) {
      const qt = QuantizedTensor.upload(engine, data, `gguf q5_0 ${name}`);
      const Wd = dequantize(data);
      const g = engine.graph('gguf q5_0');
      const plan = await g.compile({
        gemv: g.dequantMatmul(g.input('x1', [1, data.K]), qt),
        gemm: g.dequantMatmul(g.input('x3', [3, data.K]), qt, { name: 'b' }),
      });
      plan.poison();
      const x = randn(3 * data.K, 61);
      const out = await plan.run({ x1: x.subarray(0, data.K), x3: x });
      const ref = Float64Array.from({ length: 3 * data.N }, (_, i) => {
        const [m, n] = [Math.floor(i / data.N), i % data.N];
        let s = 0;
        for (let k = 0; k < data.K; k++) s += Wd[n * data.K + k] * x[m * data.K + k];
        return s;
      });
      expectClose(out.gemv, ref.subarray(0, data.N), { atol: 1e-5 * maxAbs(ref), rtol: 0 }, `${name} q5_0 gemv`);
      expectClose(out.gemm, ref, { atol: 1e-5 * maxAbs(ref), rtol: 0 }, `${name} q5_0 gemm`);
      plan.dispose();
      qt.dispose();
    }
  });

  it('Q4_1, Q5_1, Q2_K, Q3_K, Q5_K, IQ4_NL and IQ4_XS (ggml types 3, 7, 10, 11, 13, 20, 23) read in place, sizes checked', () => {
    // One matrix of each, from the CPU encoder; the GPU paths are tests/ops/ggml_quants.test.ts.
    const types = { q4_1: 3, q5_1: 7, q2_k: 10, q3_k: 11, q5_k: 13, iq4_nl: 20, iq4_xs: 23 } as const;
    const names = { q4_1: 'Q4_1', q5_1: 'Q5_1', q2_k: 'Q2_K', q3_k: 'Q3_K', q5_k: 'Q5_K', iq4_nl: 'IQ4_NL', iq4_xs: 'IQ4_XS' } as const;
    const sizes = {
      q4_1: [32, 20],
      q5_1: [32, 24],
      q2_k: [256, 84],
      q3_k: [256, 110],
      q5_k: [256, 176],
      iq4_nl: [32, 18],
      iq4_xs: [256, 136],
    };
    const N = 3;
    const encoded = Object.entries(types).map(([scheme, type], i) => {
      const K = 2 * sizes[scheme as keyof typeof sizes][0];
      const enc = quantizeCPU(randn(K * N, 70 + i), K, N, scheme as keyof typeof types, 'NK');
      return { scheme, type, K, enc, data: new Uint8Array(enc.qweight.buffer).subarray(0, N * enc.rowBytes) };
    });
    const f = GGUFFile.parse(
      writeGGUF(
        [],
        encoded.map((e) => ({ name: e.scheme, dims: [e.K, N], type: e.type, data: e.data })),
      ),
    );
    expect(f.typeCounts()).toEqual(Object.fromEntries(Object.values(names).map((n) => [n, 1])));
    for (const e of encoded) {
      const q = f.quantized(e.scheme);
      expect([q.scheme, q.K, q.N, q.rowBytes]).toEqual([e.scheme, e.K, N, 2 * sizes[e.scheme as keyof typeof sizes][1]]);
      expect(Array.from(q.qweight)).toEqual(Array.from(e.enc.qweight));
      expect(Array.from(dequantize(q))).toEqual(Array.from(dequantize(e.enc)));
      const name = names[e.scheme as keyof typeof names];
      const [qk, bytes] = sizes[e.scheme as keyof typeof sizes];
      // ne[0] not a whole number of blocks, and data cut short: both named
      expect(() =>
        GGUFFile.parse(writeGGUF([], [{ name: 'w', dims: [qk + 2, 1], type: e.type, data: new Uint8Array(2 * bytes) }])),
      ).toThrow(new RegExp(`tensor 'w' is ${name} with ne\\[0\\] = ${qk + 2}, not a multiple of its block of ${qk}`));
      const cut = writeGGUF([], [{ name: 'w', dims: [qk, 2], type: e.type, data: new Uint8Array(2 * bytes) }]);
      const end = cut.length - ((32 - ((2 * bytes) % 32)) % 32); // the data's last byte, before the file's padding
      expect(GGUFFile.parse(cut.subarray(0, end)).typeCounts()).toEqual({ [name]: 1 });
      expect(() => GGUFFile.parse(cut.subarray(0, end - 1))).toThrow(
        new RegExp(`tensor 'w' \\(${2 * bytes} bytes at data offset 0\\) runs past the end`),
      );
    }
    // A non-finite f16 scale anywhere in a block's halves is named: Q2_K's dmin at byte 82 of block 1.
    const q2 = new Uint8Array(2 * 84);
    q2[84 + 83] = 0x7c;
    const bad = GGUFFile.parse(writeGGUF([], [{ name: 'q2', dims: [256, 2], type: 10, data: q2 }]));
    expect(() => bad.quantized('q2')).toThrow(/Q2_K tensor 'q2' has a non-finite f16 scale in block 0 of row 1/);
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

  it('quantized(): F16 and BF16 matrices keep their bytes (padded rows where K % 8 != 0), Q8_0 maps to q8_0, others are named', async () => {
    for (const [K, N] of [
      [16, 3],
      [12, 5],
    ]) {
      const w = randn(K * N, K); // [N, K] row-major, as GGUF stores ne = [K, N]
      for (const [scheme, type] of [
        ['f16', 1],
        ['bf16', 30],
      ] as const) {
        const ref = quantizeCPU(w, K, N, scheme, 'NK'); // the same halves, in the engine's padded rows
        const halves = new Uint16Array(ref.qweight.buffer);
        const raw = new Uint16Array(K * N);
        for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) raw[n * K + k] = halves[n * 2 * ref.rowWords + k];
        const file = GGUFFile.parse(writeGGUF([], [{ name: 'w', dims: [K, N], type, data: new Uint8Array(raw.buffer) }]));
        const q = file.quantized('w');
        expect([q.scheme, q.K, q.N, q.rowWords]).toEqual([scheme, K, N, ref.rowWords]);
        expect(Array.from(q.qweight)).toEqual(Array.from(ref.qweight));
        // Through the GPU: x · Wᵀ against float64 on the dequantised weights.
        const qt = QuantizedTensor.upload(engine, q, `gguf ${scheme}`);
        const x = randn(K, 5);
        const g = engine.graph('gguf half');
        const plan = await g.compile({ y: g.dequantMatmul(g.input('x', [1, K]), qt) });
        plan.poison();
        const { y } = await plan.run({ x });
        const W = dequantize(q);
        const want = Float64Array.from({ length: N }, (_, n) => W.slice(n * K, (n + 1) * K).reduce((s, v, k) => s + v * x[k], 0));
        expectClose(y, want, { atol: 1e-5 * maxAbs(want), rtol: 0 }, `gguf ${scheme} matmul`);
        plan.dispose();
        qt.dispose();
      }
    }
    const f = GGUFFile.parse(bytes);
    expect(f.quantized('blk.0.ffn_up.weight').scheme).toBe('q8_0');
    expect(() => f.quantized('v')).toThrow(
      /tensor 'v' is F32; quantized\(\) reads F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, IQ4_NL, IQ4_XS \(read F32/,
    );
    const iq3 = GGUFFile.parse(writeGGUF([], [{ name: 'q', dims: [256, 1], type: 21, data: new Uint8Array(110) }]));
    expect(iq3.typeCounts()).toEqual({ IQ3_S: 1 });
    expect(() => iq3.quantized('q')).toThrow(
      /tensor 'q' is IQ3_S; quantized\(\) reads F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, IQ4_NL, IQ4_XS$/,
    );
    const q6 = new Uint8Array(2 * 210);
    q6[210 + 209] = 0x7e; // block 1's d: NaN
    const nan = GGUFFile.parse(writeGGUF([], [{ name: 'q6', dims: [256, 2], type: 14, data: q6 }]));
    expect(() => nan.quantized('q6')).toThrow(/Q6_K tensor 'q6' has a non-finite f16 scale in block 0 of row 1/);
    const inf = new Uint16Array(16).fill(0x3c00);
    inf[9] = 0x7c00;
    const bad = GGUFFile.parse(writeGGUF([], [{ name: 'h', dims: [8, 2], type: 1, data: new Uint8Array(inf.buffer) }]));
    expect(() => bad.quantized('h')).toThrow(/tensor 'h' holds a non-finite F16 value at row 1, column 1/);
  });
});

// Llama.fromGGUF on files whose matrices are the block types common files hold beside Q4_K / Q6_K /
// Q8_0: the Llama fixture (tests/fixtures/llama/llama.gguf, tools/make_llama_fixture.py) rewritten with
// each matrix in Q4_1, Q5_0, Q5_1, IQ4_NL (rows of 128) and Q2_K, Q3_K, Q5_K, IQ4_XS (ffn_down, rows of
// 256), encoded by this engine's CPU quantizer; against its twin holding the same weights decoded to
// F32 (the path tests/node/llama.test.ts checks against float64 PyTorch). The token table in a block
// type also runs the embedding lookup and the tied lm_head. Prefill (GEMM, T = 11) and one-token
// forwards (GEMV) are both compared.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GGUFFile, Llama, dequantize, quantizeCPU, type Engine, type QuantScheme } from '../../src/index';
import { type GGUFMeta, type GGUFTensorSpec, writeGGUF } from '../helpers/files';
import { createTestEngine } from '../helpers/engine';
import { expectClose, f64, maxAbs } from '../helpers/numeric';

const fixture = GGUFFile.parse(new Uint8Array(readFileSync('tests/fixtures/llama/llama.gguf')));
const expected = JSON.parse(readFileSync('tests/fixtures/llama/expected.json', 'utf8')).llama as { ids: number[] };

/** ggml type ids of the engine's block schemes. */
const GGML_TYPE: Partial<Record<QuantScheme, number>> = { q4_1: 3, q5_0: 6, q5_1: 7, q2_k: 10, q3_k: 11, q5_k: 13, iq4_nl: 20, iq4_xs: 23 };

/** The fixture's metadata as writeGGUF takes it (strings, u32, and the two f32 values llama.cpp writes). */
function metadata(): GGUFMeta[] {
  return [...fixture.metadata].map(([key, v]) => {
    if (typeof v === 'string') return [key, 8, v];
    if (typeof v !== 'number') throw new Error(`test: metadata '${key}' is not a string or number`);
    return [key, /freq_base|epsilon/.test(key) ? 6 : 4, v];
  });
}

/** The fixture with matrix `name` (ne = [K, N]) stored as schemes(name); and the twin with those weights as F32. */
function rewrite(schemes: (name: string, K: number) => QuantScheme | undefined): { blocks: Uint8Array; f32: Uint8Array; used: string[] } {
  const blocks: GGUFTensorSpec[] = [];
  const f32: GGUFTensorSpec[] = [];
  const used: string[] = [];
  for (const [name, t] of fixture.tensors) {
    if (t.dims.length === 1) {
      const data = new Uint8Array(Float32Array.from(fixture.float32(name)).buffer);
      blocks.push({ name, dims: t.dims, type: 0, data });
      f32.push({ name, dims: t.dims, type: 0, data });
      continue;
    }
    const [K, N] = t.dims;
    const w = Float32Array.from(dequantize(fixture.quantized(name))); // [N, K]
    const scheme = schemes(name, K);
    if (!scheme) throw new Error(`test: no scheme for ${name}`);
    const q = quantizeCPU(w, K, N, scheme, 'NK');
    used.push(`${name}:${scheme}`);
    blocks.push({ name, dims: t.dims, type: GGML_TYPE[scheme]!, data: new Uint8Array(q.qweight.buffer).subarray(0, N * q.rowBytes) });
    f32.push({ name, dims: t.dims, type: 0, data: new Uint8Array(Float32Array.from(dequantize(q)).buffer) });
  }
  const meta = metadata();
  return { blocks: writeGGUF(meta, blocks), f32: writeGGUF(meta, f32), used };
}

let engine: Engine;
beforeAll(async () => {
  engine = await createTestEngine();
});
afterAll(() => engine?.dispose());

describe('Llama.fromGGUF, every block type', () => {
  const small: QuantScheme[] = ['q4_1', 'q5_0', 'q5_1', 'iq4_nl'];
  for (const [what, k256] of [
    ['Q2_K and Q3_K ffn_down', ['q2_k', 'q3_k']],
    ['Q5_K and IQ4_XS ffn_down', ['q5_k', 'iq4_xs']],
  ] as const) {
    it(`Q4_1 / Q5_0 / Q5_1 / IQ4_NL matrices and token table, ${what}: logits equal the F32 twin's (prefill and one token)`, async () => {
      // Per layer i: q, k and v in one type (one fused projection), o in the next, gate and up in the
      // next (one interleaved matrix: the loader widens a pair stored differently), down a 256 type.
      const { blocks, f32, used } = rewrite((name, K) => {
        const i = name.startsWith('blk.1.') ? 1 : 0;
        if (name === 'token_embd.weight') return small[k256[0] === 'q2_k' ? 0 : 3];
        if (K % 256 === 0) return k256[i];
        const kind = /attn_[qkv]\./.test(name) ? 0 : name.includes('attn_output') ? 1 : 2;
        return small[(i + kind) % small.length];
      });
      const file = GGUFFile.parse(blocks);
      const counts = file.typeCounts({ matricesOnly: true });
      expect(used).toContain(`token_embd.weight:${small[k256[0] === 'q2_k' ? 0 : 3]}`);
      for (const s of [...small, ...k256]) expect(counts[s.toUpperCase()], `${s} in ${JSON.stringify(counts)}`).toBeGreaterThan(0);
      const [packed, twin] = [await Llama.fromGGUF(engine, blocks), await Llama.fromGGUF(engine, f32)];
      for (const ids of [expected.ids, expected.ids.slice(3, 4)]) {
        const [got, want] = [await packed.forward(ids), await twin.forward(ids)];
        expect(got.length).toBe(want.length);
        // both in f32, summed in another order: within 1e-4 of the largest logit
        expectClose(got, f64(want), { atol: 1e-4 * maxAbs(want), rtol: 0 }, `${what}, T = ${ids.length}`);
      }
      packed.dispose();
      twin.dispose();
    }, 600_000); // two models, each type's GEMV and GEMM variants compiled on SwiftShader
  }
});

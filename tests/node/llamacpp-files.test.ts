// Files made by llama.cpp itself: a SmolLM2-shaped Llama (576 wide, 9 heads x 64, 3 KV heads, one layer)
// quantized by llama_model_quantize of node-llama-cpp 3.21.1's prebuilt libllama to Q4_K_M, Q5_K_M,
// Q3_K_M and IQ4_XS (tools/make_llamacpp_quants.mjs). Rows of 576 are not a multiple of 256, so
// llama-quantize falls back from its k-quants for them (Q5_0, Q5_1, Q4_0, Q8_0, IQ4_NL): the mix below is
// the real tool's. Each file loads with Llama.fromGGUF and its logits (prefill, then one KV-cache decode
// step) match a float64 forward on the file's own decoded weights; and llama.cpp's own CPU
// log-probabilities for the same prompt (recorded by the tool) agree with ours. The F32 source itself
// (rebuilt by tests/helpers/llamacpp-model.ts) runs the same checks: llama.cpp there is the same math.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Engine, GGUFFile, Llama } from '../../src/index';
import { createTestEngine } from '../helpers/engine';
import { llamaGGUFReference } from '../helpers/llama-ref';
import { smolLM2ShapedF32 } from '../helpers/llamacpp-model';
import { expectClose, maxAbs } from '../helpers/numeric';

const DIR = 'tests/fixtures/gguf-llamacpp';
const expected = JSON.parse(readFileSync(`${DIR}/expected.json`, 'utf8')) as {
  prompt: number[];
  files: Record<string, { logprobs: number[][] }>;
};

/** The matrix types llama-quantize chose for each file (GGUFFile.typeCounts, matrices only). */
const MIX: Record<string, Record<string, number>> = {
  F32: { F32: 8 },
  Q4_K_M: { Q8_0: 2, Q5_0: 5, Q6_K: 1 },
  Q5_K_M: { Q8_0: 2, Q5_1: 5, Q6_K: 1 },
  Q3_K_M: { Q8_0: 1, Q4_0: 4, Q5_0: 1, Q5_1: 1, Q4_K: 1 },
  IQ4_XS: { Q8_0: 1, IQ4_NL: 6, IQ4_XS: 1 },
};

/**
 * Largest |log p - llama.cpp's log p| allowed. F32: the same math in f32 (measured 5e-6). Block files:
 * llama.cpp rounds activations to 8 bits (Q8_0 / Q8_K) for its block dot products (measured 6e-2 to
 * 7e-2), while llama.cpp on any other of these files is 0.38 or more away from ours.
 */
const LLAMACPP_TOL = (name: string) => (name === 'F32' ? 1e-4 : 0.15);

function logSoftmax(row: ArrayLike<number>): Float64Array {
  const m = Math.max(...Array.from(row));
  const z = Math.log(Array.from(row).reduce((s, x) => s + Math.exp(x - m), 0)) + m;
  return Float64Array.from(row, (x) => x - z);
}

let engine: Engine;
beforeAll(async () => {
  engine = await createTestEngine();
});
afterAll(() => engine?.dispose());

describe('llama-quantize files of a 576-wide Llama', () => {
  for (const name of Object.keys(MIX)) {
    it(`${name}: the tool's type mix loads; prefill and a KV-cache step match float64 on the decoded weights and llama.cpp's CPU log-probabilities`, async () => {
      // F32: the source the tool quantized, rebuilt here (too large to commit beside the files).
      const bytes = name === 'F32' ? smolLM2ShapedF32() : new Uint8Array(readFileSync(`${DIR}/${name}.gguf`));
      const file = GGUFFile.parse(bytes);
      expect(file.typeCounts({ matricesOnly: true })).toEqual(MIX[name]);
      const V = file.tensors.get('token_embd.weight')!.dims[1];
      const prompt = expected.prompt;
      const model = await Llama.fromGGUF(engine, bytes);
      // Prefill: every position's logits, no cache.
      const all = await model.forward(prompt);
      const ref = llamaGGUFReference(file, prompt);
      // f32 on the GPU against float64: within 1e-4 of the largest logit
      expectClose(all, ref, { atol: 1e-4 * maxAbs(ref), rtol: 0 }, `${name} prefill, T = ${prompt.length}`);
      // generate: the last prompt row (prefill plan), then one decode step on the cached K/V.
      const out: number[] = [];
      for await (const id of model.generate(prompt, { maxNewTokens: 2, stopTokens: [], candidates: V })) out.push(id);
      const rows = model.lastGeneration.candidates.map((c) => {
        const row = new Float64Array(V).fill(Number.NaN);
        for (const { id, logit } of c) row[id] = logit;
        return row;
      });
      const ref2 = llamaGGUFReference(file, [...prompt, out[0]]);
      for (const [i, t] of [prompt.length - 1, prompt.length].entries()) {
        const want = ref2.subarray(t * V, (t + 1) * V);
        expectClose(rows[i], want, { atol: 1e-4 * maxAbs(want), rtol: 0 }, `${name} generate step ${i} (position ${t})`);
      }
      // llama.cpp's CPU backend (F32 K/V cache): its next-token log-probabilities after each prefix of the
      // prompt (tools/make_llamacpp_quants.mjs), against ours.
      const ours = Array.from(prompt, (_, t) => logSoftmax(all.subarray(t * V, (t + 1) * V)));
      const theirs = expected.files[name].logprobs;
      const dist = (other: number[][]) => Math.max(...ours.map((row, t) => maxAbs(row.map((x, j) => x - other[t][j]))));
      const worst = dist(theirs);
      const others = Object.keys(MIX)
        .filter((n) => n !== name)
        .map((n) => `${n} ${dist(expected.files[n].logprobs).toExponential(2)}`);
      console.log(
        `${name}: largest |log p - llama.cpp log p| = ${worst.toExponential(2)}; against llama.cpp on the other files: ${others.join(', ')}`,
      );
      expect(worst).toBeLessThan(LLAMACPP_TOL(name));
      // and this file's llama.cpp run is the nearest to ours, by far: the mix read is the one llama.cpp ran
      for (const n of Object.keys(MIX).filter((n) => n !== name)) expect(dist(expected.files[n].logprobs), n).toBeGreaterThan(2 * worst);
      model.dispose();
    }, 600_000);
  }
});

// The Llama family against float64 references computed by tools/make_llama_fixture.py, which follows
// Hugging Face's LlamaForCausalLM / Qwen2ForCausalLM: a Llama-3-style model (GQA, tied embeddings,
// llama3 rope scaling) from safetensors and from the GGUF file llama.cpp's converter would write for it
// (permuted q/k rows, mixed F32 / F16 / Q8_0 / Q4_0 / Q4_K tensors, rope_freqs), and a Qwen2-style one
// (q/k/v biases, untied head, θ = 1e6).
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Llama, type Engine, type LlamaConfig } from '../../src/index';
import { createTestEngine } from '../helpers/engine';
import { expectClose, f64, maxAbs } from '../helpers/numeric';

const dir = 'tests/fixtures/llama';
const expected = JSON.parse(readFileSync(`${dir}/expected.json`, 'utf8')) as Record<
  'llama' | 'qwen2',
  { config: LlamaConfig; ids: number[]; logits: number[]; greedy: number[] }
>;
const file = (name: string) => new Uint8Array(readFileSync(`${dir}/${name}`));

let engine: Engine;
beforeAll(async () => {
  engine = await createTestEngine();
});
afterAll(() => engine?.dispose());

async function collect(it: AsyncIterable<number>): Promise<number[]> {
  const out: number[] = [];
  for await (const x of it) out.push(x);
  return out;
}

describe('Llama family', () => {
  for (const [what, load] of [
    ['llama, safetensors', () => Llama.fromSafetensors(engine, file('llama.safetensors'), expected.llama.config)],
    ['llama, GGUF (permuted q/k, mixed block types)', () => Llama.fromGGUF(engine, file('llama.gguf'))],
    ['qwen2, safetensors', () => Llama.fromSafetensors(engine, file('qwen2.safetensors'), expected.qwen2.config)],
  ] as const) {
    it(`${what}: logits within 1e-4 of float64 PyTorch, KV-cache greedy decoding equals the reference`, async () => {
      const ref = expected[what.startsWith('qwen2') ? 'qwen2' : 'llama'];
      const model = await load();
      const logits = await model.forward(ref.ids);
      expectClose(logits, f64(Float32Array.from(ref.logits)), { atol: 1e-4 * maxAbs(Float64Array.from(ref.logits)), rtol: 0 }, what);
      expect(await collect(model.generate(ref.ids, { maxNewTokens: ref.greedy.length, stopTokens: [] }))).toEqual(ref.greedy);
      model.dispose();
    });
  }
});

// generate({ candidates }): each step's likeliest next tokens with their probabilities at the
// temperature and after top-k / top-p, against a float64 softmax of forward()'s logits for the same
// ids (the Llama fixture of tools/make_llama_fixture.py: vocabulary 97, not a tile multiple).
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Engine, Llama, type LlamaConfig } from '../../src/index';
import { createTestEngine } from '../helpers/engine';

const dir = 'tests/fixtures/llama';
const expected = JSON.parse(readFileSync(`${dir}/expected.json`, 'utf8')) as Record<'llama', { config: LlamaConfig; ids: number[] }>;

let engine: Engine;
beforeAll(async () => {
  engine = await createTestEngine();
});
afterAll(() => engine?.dispose());

/**
 * Float64, written out from the definitions (not the library's code): softmax(row / T); Hugging Face's
 * TopK then TopP warpers (the k largest; then the fewest largest whose mass reaches p); renormalised.
 */
function reference(row: number[], T: number, topK: number, topP: number) {
  const order = row.map((_, i) => i).sort((a, b) => row[b] - row[a] || a - b);
  const z = row.map((x) => x / T);
  const m = Math.max(...z);
  const e = z.map((v) => Math.exp(v - m));
  const Z = e.reduce((a, b) => a + b, 0);
  let kept = topK > 0 ? order.slice(0, topK) : order;
  const massK = kept.reduce((s, i) => s + e[i], 0);
  let cum = 0;
  let n = 0;
  while (n < kept.length && cum < topP * massK) cum += e[kept[n++]];
  kept = kept.slice(0, Math.max(1, n));
  const W = kept.reduce((s, i) => s + e[i], 0);
  return order.map((id) => ({ id, p: e[id] / Z, kept: kept.includes(id) ? e[id] / W : 0 }));
}

it('generate({ candidates }) gives every step the likeliest tokens with probabilities at the temperature and after top-k / top-p (float64 reference)', async () => {
  const cfg = expected.llama.config;
  const V = cfg.vocab_size;
  const m = await Llama.fromSafetensors(engine, new Uint8Array(readFileSync(`${dir}/llama.safetensors`)), cfg);
  const prompt = expected.llama.ids;
  const tol = 2e-5; // GPU logits (decode plan vs forward plan) through a float64 softmax
  for (const s of [
    { temperature: 0.7, topK: 11, topP: 0.6, seed: 5 },
    { temperature: 1.3, topK: 0, topP: 0.9, seed: 2 },
    { temperature: 0, topK: 0, topP: 1, seed: 0 }, // greedy: p at temperature 1, all kept mass on the argmax
  ]) {
    const n = 7;
    const got: number[] = [];
    for await (const id of m.generate(prompt, { ...s, maxNewTokens: 5, stopTokens: [], candidates: n })) got.push(id);
    const steps = m.lastGeneration.candidates;
    expect(steps.length).toBe(got.length);
    const ids = [...prompt];
    for (let step = 0; step < got.length; step++) {
      const logits = await m.forward(ids);
      const row = Array.from(logits.subarray(logits.length - V));
      const want = reference(row, s.temperature || 1, s.topK, s.topP);
      const c = steps[step];
      expect(c.length).toBe(n);
      for (let j = 0; j < n; j++) {
        expect(c[j].id, `step ${step} rank ${j}`).toBe(want[j].id);
        expect(Math.abs(c[j].logit - row[want[j].id])).toBeLessThan(1e-4);
        expect(Math.abs(c[j].p - want[j].p), `step ${step} rank ${j} p`).toBeLessThan(tol);
        const kept = s.temperature > 0 ? want[j].kept : j === 0 ? 1 : 0;
        expect(Math.abs(c[j].kept - kept), `step ${step} rank ${j} kept`).toBeLessThan(tol);
      }
      // The sampled token is one the cut kept (when it ranks among the n shown).
      const drawn = c.find((x) => x.id === got[step]);
      if (drawn) expect(drawn.kept).toBeGreaterThan(0);
      if (s.temperature > 0 && s.topK > 0) expect(c.filter((x) => x.kept > 0).length).toBeLessThanOrEqual(s.topK);
      ids.push(got[step]);
    }
  }
  // The same settings without candidates sample the same tokens (the readback changes nothing) and record none.
  const plain: number[] = [];
  for await (const id of m.generate(prompt, { temperature: 0.7, topK: 11, topP: 0.6, seed: 5, maxNewTokens: 5, stopTokens: [] }))
    plain.push(id);
  const withC: number[] = [];
  for await (const id of m.generate(prompt, {
    temperature: 0.7,
    topK: 11,
    topP: 0.6,
    seed: 5,
    maxNewTokens: 5,
    stopTokens: [],
    candidates: 3,
  }))
    withC.push(id);
  expect(withC).toEqual(plain);
  for await (const _ of m.generate(prompt, { maxNewTokens: 2 })) void _;
  expect(m.lastGeneration.candidates).toEqual([]);
  for (const bad of [-1, 1.5, V + 1])
    await expect(m.generate(prompt, { candidates: bad }).next()).rejects.toThrow(/generate: candidates must be an integer in 0\.\.97/);
  m.dispose();
});

// KV-cache reuse between generate() calls, and chat sessions on top of it: a prompt that begins with the
// previous call's prompt and generated tokens prefills only the rest, and gives the tokens a fresh model
// gives for the whole prompt (greedy). Small models: a random 2-layer GPT-2 and the bundled 4-layer Llama.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Engine, type GenerateOptions, GPT2, type GPT2Config, Llama, randomGPT2Checkpoint } from '../../src/index';
import { createTestEngine } from '../helpers/engine';

let engine: Engine;
beforeAll(async () => {
  engine = await createTestEngine();
});
afterAll(() => engine?.dispose());

const gptConfig: GPT2Config = { n_layer: 2, n_head: 2, n_embd: 32, vocab_size: 97, n_positions: 96 };
const gptBytes = randomGPT2Checkpoint(gptConfig, 3, 0.3);
const llamaDir = 'public/models/kjv-llama';
const llamaFile = (name: string) => new Uint8Array(readFileSync(`${llamaDir}/${name}`));
const llamaConfig = JSON.parse(readFileSync(`${llamaDir}/config.json`, 'utf8'));

const models: [string, (o?: { kvCache?: 'f16' }) => Promise<GPT2 | Llama>][] = [
  ['GPT2', (o = {}) => GPT2.fromSafetensors(engine, gptBytes, gptConfig, o)],
  [
    'Llama',
    (o = {}) => Llama.fromSafetensors(engine, llamaFile('model.safetensors'), llamaConfig, { maxLength: 96, weights: 'f32', ...o }),
  ],
];

async function collect(it: AsyncIterable<number>, upTo = Number.POSITIVE_INFINITY): Promise<number[]> {
  const out: number[] = [];
  for await (const x of it) {
    out.push(x);
    if (out.length >= upTo) break; // return(): a generation stopped by its caller
  }
  return out;
}

/** Deterministic ids in 3..vocab-1. */
const ids = (n: number, seed: number, vocab: number) => Array.from({ length: n }, (_, i) => 3 + ((i * 37 + seed * 11) % (vocab - 3)));

describe('generate(): KV-cache reuse', () => {
  for (const [name, load] of models) {
    it(`${name}: continuing, diverging, stopped early and after an attention change, the tokens of a fresh model; prefilledTokens counts only what ran`, async () => {
      const model = await load();
      const fresh = await load();
      const V = name === 'GPT2' ? gptConfig.vocab_size : llamaConfig.vocab_size;
      const greedy: GenerateOptions = { maxNewTokens: 6, stopTokens: [] };
      const check = async (prompt: number[], want: { prefilled: number }, o: GenerateOptions = greedy) => {
        const got = await collect(model.generate(prompt, o));
        expect(model.lastGeneration.prefilledTokens, 'prefilled').toBe(want.prefilled);
        expect(model.lastGeneration.reusedTokens).toBe(prompt.length - want.prefilled);
        fresh.resetCache();
        const ref = await collect(fresh.generate(prompt, o));
        expect(fresh.lastGeneration.prefilledTokens).toBe(prompt.length);
        expect(got, 'tokens against a fresh prefill').toEqual(ref);
        return got;
      };
      const p1 = ids(9, 1, V);
      const g1 = await check(p1, { prefilled: 9 });
      // The chat case: the previous prompt, its reply, then a new turn. The last reply token's K/V were
      // never written (it was yielded, not fed), so it runs with the 5 new ones.
      const p2 = [...p1, ...g1, ...ids(5, 2, V)];
      const g2 = await check(p2, { prefilled: 6 });
      // A prompt that diverges at position 12 reuses the 12 tokens before it.
      const p3 = [...p2.slice(0, 12), ...ids(7, 3, V)];
      expect(p3[12]).not.toBe(p2[12]);
      await check(p3, { prefilled: 7 });
      // The same prompt again: only its last token runs (its logits are needed).
      await check(p3, { prefilled: 1 });
      // A generation stopped by the caller after 2 tokens: the first was written by the second's step.
      const stopped = await collect(model.generate(p2, greedy), 2);
      expect(stopped).toEqual(g2.slice(0, 2));
      await check([...p2, ...stopped, ...ids(3, 4, V)], { prefilled: 4 });
      // A sliding window computes other K/V: nothing is reused under it, nor after it under dense.
      const p5 = [...p2, ...ids(4, 5, V)];
      await check(p5, { prefilled: p5.length }, { ...greedy, attention: { kind: 'sliding', window: 8, blockSize: 16 } });
      await check(p5, { prefilled: p5.length });
      // resetCache() (weights changed in place) forgets everything.
      model.resetCache();
      await check(p5, { prefilled: p5.length });
      model.dispose();
      fresh.dispose();
    });
  }

  it('f16 KV caches: nothing is reused (the prefill kernel reads f32 caches), the tokens are still a fresh model’s', async () => {
    const model = await models[1][1]({ kvCache: 'f16' });
    const p = ids(10, 6, llamaConfig.vocab_size);
    const g = await collect(model.generate(p, { maxNewTokens: 3, stopTokens: [] }));
    const p2 = [...p, ...g, 5, 6];
    const g2 = await collect(model.generate(p2, { maxNewTokens: 3, stopTokens: [] }));
    expect(model.lastGeneration.prefilledTokens).toBe(p2.length);
    model.resetCache();
    expect(await collect(model.generate(p2, { maxNewTokens: 3, stopTokens: [] }))).toEqual(g2);
    model.dispose();
  });
});

// KV-cache reuse between generate() calls, and chat sessions on top of it: a prompt that begins with the
// previous call's prompt and generated tokens prefills only the rest, and gives the tokens a fresh model
// gives for the whole prompt (greedy). Small models: a random 2-layer GPT-2 and the bundled 4-layer Llama.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ChatCompletionChunk,
  type Engine,
  type GenerateOptions,
  GPT2,
  type GPT2Config,
  Llama,
  ShapeError,
  TextTokenizer,
  randomGPT2Checkpoint,
} from '../../src/index';
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
    }, 900_000);
  }

  it('a LoRA adapter: K/V computed under another adapter (or the base model, or an adapter loaded again) are not reused', async () => {
    const bytes = (path: string) => new Uint8Array(readFileSync(path));
    const config = (JSON.parse(readFileSync('tests/fixtures/gpt2/tiny.json', 'utf8')) as { config: GPT2Config }).config;
    const load = async () => {
      const m = await GPT2.fromSafetensors(engine, bytes('tests/fixtures/gpt2/tiny-a.safetensors'), config);
      await m.loadAdapter('A', bytes('tests/fixtures/lora/gpt2-a.safetensors'), readFileSync('tests/fixtures/lora/gpt2-a.json', 'utf8'));
      return m;
    };
    const [model, fresh] = [await load(), await load()];
    const o = (adapter?: string): GenerateOptions => ({ maxNewTokens: 4, stopTokens: [], adapter });
    const run = async (prompt: number[], adapter: string | undefined, prefilled: number) => {
      const got = await collect(model.generate(prompt, o(adapter)));
      expect(model.lastGeneration.prefilledTokens).toBe(prefilled);
      fresh.resetCache();
      expect(got).toEqual(await collect(fresh.generate(prompt, o(adapter))));
      return got;
    };
    const p1 = ids(7, 8, config.vocab_size);
    const g1 = await run(p1, undefined, 7);
    const p2 = [...p1, ...g1, ...ids(3, 9, config.vocab_size)];
    const g2 = await run(p2, 'A', p2.length); // the base model's K/V: not reused under A
    const p3 = [...p2, ...g2, 5];
    const g3 = await run(p3, 'A', 2); // under A again: reused
    await run([...p3, ...g3, 6], undefined, p3.length + g3.length + 1); // back to the base model
    // 'A' loaded again with other weights: a new adapter under the same name.
    model.unloadAdapter('A');
    await model.loadAdapter('A', bytes('tests/fixtures/lora/gpt2-b.safetensors'), readFileSync('tests/fixtures/lora/gpt2-b.json', 'utf8'));
    fresh.unloadAdapter('A');
    await fresh.loadAdapter('A', bytes('tests/fixtures/lora/gpt2-b.safetensors'), readFileSync('tests/fixtures/lora/gpt2-b.json', 'utf8'));
    const p4 = [...p3, ...g3, 7];
    const g4 = await collect(model.generate(p4, o('A')));
    const p5 = [...p4, ...g4, 8];
    await run(p5, 'A', 2); // this A's cache is reused
    model.unloadAdapter('A');
    await model.loadAdapter('A', bytes('tests/fixtures/lora/gpt2-a.safetensors'), readFileSync('tests/fixtures/lora/gpt2-a.json', 'utf8'));
    fresh.unloadAdapter('A');
    await fresh.loadAdapter('A', bytes('tests/fixtures/lora/gpt2-a.safetensors'), readFileSync('tests/fixtures/lora/gpt2-a.json', 'utf8'));
    await run(p5, 'A', p5.length);
    model.dispose();
    fresh.dispose();
  }, 900_000);

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
  }, 900_000);
});

const tokenizer = TextTokenizer.fromJSON(
  readFileSync(`${llamaDir}/tokenizer.json`, 'utf8'),
  readFileSync(`${llamaDir}/tokenizer_config.json`, 'utf8'),
);
const loadLlama = (maxLength = 128) =>
  Llama.fromSafetensors(engine, llamaFile('model.safetensors'), llamaConfig, { maxLength, weights: 'f32' });

async function drain(it: AsyncGenerator<string, unknown>): Promise<string> {
  let text = '';
  for await (const piece of it) text += piece;
  return text;
}

describe('model.chat()', () => {
  it('a two-turn chat prefills only the second turn and replies as a fresh model given the whole conversation', async () => {
    const model = await loadLlama();
    const chat = model.chat({ tokenizer, system: 'Thou art a scribe.' });
    const t1 = await drain(chat.send('In the beginning', { maxNewTokens: 8 }));
    const first = chat.lastTurn!;
    expect(first.text).toBe(t1);
    expect(first.prefilledTokens).toBe(first.promptTokens);
    const t2 = await drain(chat.send('And God said', { maxNewTokens: 8 }));
    const second = chat.lastTurn!;
    // What ran: the template's new text, plus the first reply's last token (yielded, never fed).
    const carried = first.promptTokens + first.completionTokens;
    expect(second.promptIds.slice(0, carried)).toEqual([...first.promptIds, ...first.replyIds]);
    expect(second.prefilledTokens).toBe(second.promptTokens - carried + 1);
    expect(second.prefilledTokens).toBeLessThan(second.promptTokens / 2);
    expect(chat.messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'user', 'assistant']);
    expect(chat.messages[4].content).toBe(t2);
    // The prompt is what the template renders for the conversation, and a fresh model gives the same reply.
    expect(tokenizer.decode(second.promptIds)).toBe(tokenizer.applyChatTemplate(chat.messages.slice(0, 4)));
    const fresh = await loadLlama();
    const ref: number[] = [];
    for await (const id of fresh.generate(second.promptIds, { maxNewTokens: 8, stopTokens: tokenizer.stopTokens })) ref.push(id);
    expect(second.replyIds).toEqual(ref);
    fresh.dispose();
    model.dispose();
  }, 900_000);

  it("a full context: 'error' names the sizes; 'drop-oldest' drops the oldest turn (the system message stays) and rebuilds the cache once", async () => {
    const model = await loadLlama(96);
    const system = { role: 'system', content: 'Be brief.' };
    const [u1, u2] = ['And the earth was without form, and void', 'Light'];
    // Room for the reply of turn 2: it fits after the system message and turn 2 alone, with 20 to spare.
    const reserve = 96 - tokenizer.encodeChat([system, { role: 'user', content: u2 }]).length - 20;
    for (const contextPolicy of ['error', 'drop-oldest'] as const) {
      const chat = model.chat({ tokenizer, system: system.content, contextPolicy });
      await drain(chat.send(u1, { maxNewTokens: 6 }));
      const before = [...chat.messages];
      const whole = tokenizer.encodeChat([...before, { role: 'user', content: u2 }]).length;
      expect(whole + reserve).toBeGreaterThan(96); // the conversation so far does not leave that room
      if (contextPolicy === 'error') {
        await expect(drain(chat.send(u2, { maxNewTokens: reserve }))).rejects.toThrow(ShapeError);
        await expect(drain(chat.send(u2, { maxNewTokens: reserve }))).rejects.toThrow(
          new RegExp(
            `the conversation is ${whole} tokens, and the reply needs room for ${reserve} more: above the context of 96; .*'drop-oldest'`,
          ),
        );
        expect(chat.messages).toEqual(before); // a refused turn leaves the conversation as it was
        continue;
      }
      const previous = [...chat.lastTurn!.promptIds, ...chat.lastTurn!.replyIds];
      await drain(chat.send(u2, { maxNewTokens: reserve }));
      const turn = chat.lastTurn!;
      expect(turn.dropped).toEqual(before.slice(1));
      expect(chat.dropped).toEqual(turn.dropped);
      expect(chat.messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant']);
      // Rebuilt once: everything after the tokens the two conversations share (the system message, then
      // the template's opening of a user turn) ran, and the next turn reuses it again.
      const sys = tokenizer.encodeChat([system], { addGenerationPrompt: false }).length;
      let shared = 0;
      while (previous[shared] === turn.promptIds[shared]) shared++;
      expect(shared).toBeGreaterThanOrEqual(sys);
      expect(shared).toBeLessThan(sys + tokenizer.encodeChat([{ role: 'user', content: '' }], { addGenerationPrompt: false }).length);
      expect(turn.prefilledTokens).toBe(turn.promptTokens - shared);
      await drain(chat.send('Let there be light', { maxNewTokens: 1 }));
      expect(chat.lastTurn!.dropped).toEqual([]);
      // The previous prompt is not run again (its reply's tokens are reused too where its text renders
      // back through the template unchanged; a reply holding special tokens does not).
      const next = chat.lastTurn!;
      expect(next.promptIds.slice(0, turn.promptTokens)).toEqual(turn.promptIds);
      expect(next.prefilledTokens).toBeLessThanOrEqual(next.promptTokens - turn.promptTokens);
    }
    model.dispose();
  }, 900_000);

  it('chat.completions.create: OpenAI chunk shapes, the same text streamed and not, usage, and the cache reused by a longer conversation', async () => {
    const model = await loadLlama();
    const { completions } = model.chat({ tokenizer, model: 'kjv-llama' });
    const messages = [{ role: 'user', content: 'In the beginning' }];
    const whole = await completions.create({ messages, max_tokens: 6, temperature: 0 });
    expect(whole).toMatchObject({ object: 'chat.completion', model: 'kjv-llama' });
    expect(whole.id).toMatch(/^chatcmpl-/);
    expect(Number.isInteger(whole.created)).toBe(true);
    expect(whole.choices).toHaveLength(1);
    expect(whole.choices[0].message.role).toBe('assistant');
    expect(['stop', 'length']).toContain(whole.choices[0].finish_reason);
    const u = whole.usage;
    expect(u.total_tokens).toBe(u.prompt_tokens + u.completion_tokens);
    expect(u.completion_tokens).toBeGreaterThan(0);

    const chunks: ChatCompletionChunk[] = [];
    for await (const c of await completions.create({ messages, max_tokens: 6, temperature: 0, stream: true })) chunks.push(c);
    for (const c of chunks) {
      expect(c.object).toBe('chat.completion.chunk');
      expect(c.id).toBe(chunks[0].id);
      expect(c.model).toBe('kjv-llama');
      expect(typeof c.created).toBe('number');
    }
    expect(chunks[0].choices[0].delta).toEqual({ role: 'assistant', content: '' });
    const last = chunks.at(-1)!;
    expect(last.choices).toEqual([]);
    expect(last.usage).toMatchObject({ prompt_tokens: u.prompt_tokens, completion_tokens: u.completion_tokens });
    const finish = chunks.at(-2)!;
    expect(finish.choices[0]).toMatchObject({ delta: {}, finish_reason: whole.choices[0].finish_reason });
    const body = chunks.slice(1, -2);
    for (const c of body) expect(c.choices[0].finish_reason).toBeNull();
    expect(body.map((c) => c.choices[0].delta.content).join('')).toBe(whole.choices[0].message.content);
    // The same request again: only its last token runs.
    expect(last.usage!.extra.prefilled_tokens).toBe(1);
    // The conversation continued: the earlier prompt and reply come from the cache.
    const next = await completions.create({
      messages: [...messages, { role: 'assistant', content: whole.choices[0].message.content }, { role: 'user', content: 'Light' }],
      max_tokens: 4,
      temperature: 0,
    });
    expect(next.usage.extra.prefilled_tokens).toBeLessThan(next.usage.prompt_tokens - u.prompt_tokens);
    // A stop string ends the reply before it.
    const cut = whole.choices[0].message.content.slice(2, 4);
    if (cut.trim()) {
      const stopped = await completions.create({ messages, max_tokens: 6, temperature: 0, stop: cut });
      expect(stopped.choices[0]).toMatchObject({ finish_reason: 'stop' });
      expect(stopped.choices[0].message.content).toBe(
        whole.choices[0].message.content.slice(0, whole.choices[0].message.content.indexOf(cut)),
      );
    }
    await expect(completions.create({ messages, n: 2 })).rejects.toThrow(/n must be 1/);
    await expect(completions.create({ messages, logit_bias: {} } as never)).rejects.toThrow(/'logit_bias' is not supported/);
    model.dispose();
  }, 900_000);
});

describe('model.warmup()', () => {
  it('compiles the decode and prefill-bucket pipelines with progress; a generation after it creates no pipeline, a cold one does', async () => {
    const fresh = await createTestEngine();
    const cold = await createTestEngine();
    try {
      const model = await GPT2.fromSafetensors(fresh, gptBytes, gptConfig);
      const progress: { done: number; total: number; text: string }[] = [];
      const r = await model.warmup({ maxPromptTokens: 16, onProgress: (p) => progress.push(p) });
      expect(r.plans).toBe(2); // decode, prefill 16
      expect(r.kernels).toBeGreaterThan(5);
      expect(progress[0]).toEqual({ done: 0, total: r.kernels, text: `compiling kernels 0 / ${r.kernels}` });
      expect(progress.at(-1)).toEqual({ done: r.kernels, total: r.kernels, text: `compiling kernels ${r.kernels} / ${r.kernels}` });
      expect(progress.map((p) => p.done)).toEqual([...Array(r.kernels + 1).keys()]);
      const before = fresh.stats.pipelinesCreated;
      const prompt = ids(13, 7, gptConfig.vocab_size);
      for await (const _ of model.generate(prompt, { maxNewTokens: 3 })) {
      }
      expect(fresh.stats.pipelinesCreated).toBe(before);
      expect(model.lastGeneration.prefillBucket).toBe(16);
      // The same generation on a cold engine compiles its pipelines then.
      const other = await GPT2.fromSafetensors(cold, gptBytes, gptConfig);
      for await (const _ of other.generate(prompt, { maxNewTokens: 3 })) {
      }
      expect(cold.stats.pipelinesCreated).toBeGreaterThan(0);
      await expect(model.warmup({ maxPromptTokens: 0 })).rejects.toThrow(/maxPromptTokens must be a positive integer/);
    } finally {
      fresh.dispose();
      cold.dispose();
    }
  }, 900_000);
});

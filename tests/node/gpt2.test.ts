// GPT-2 against PyTorch golden fixtures (tools/make_gpt2_fixture.py): logits in both checkpoint
// layouts, KV-cache greedy decoding equal to full recomputation, sampling, and bad input.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GPT2, GPT2Tokenizer, SafetensorsError, SafetensorsFile, dequantize, randomGPT2Checkpoint, type Engine } from '../../src/index';
import { rewriteSafetensors } from '../helpers/files';
import { createTestEngine } from '../helpers/engine';
import { expectClose, f64, maxAbs } from '../helpers/numeric';

const dir = 'tests/fixtures/gpt2';
const fixture = JSON.parse(readFileSync(`${dir}/tiny.json`, 'utf8')) as {
  config: { n_layer: number; n_head: number; n_embd: number; vocab_size: number; n_positions: number; layer_norm_epsilon: number };
  ids: number[];
  logits_a: number[];
  logits_b: number[];
  greedy_a: number[];
};
const fileA = new Uint8Array(readFileSync(`${dir}/tiny-a.safetensors`));
const fileB = new Uint8Array(readFileSync(`${dir}/tiny-b.safetensors`));

let engine: Engine;
beforeAll(async () => {
  engine = await createTestEngine();
});
afterAll(() => engine?.dispose());

/** |a - r| <= 1e-4 · max|r| for every logit. */
function expectLogits(got: Float32Array, want: number[]) {
  expect(got.length).toBe(want.length);
  const bound = 1e-4 * maxAbs(want);
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
  expect(worst).toBeLessThanOrEqual(bound);
}

async function collect(it: AsyncIterable<number>): Promise<number[]> {
  const out: number[] = [];
  for await (const id of it) out.push(id);
  return out;
}

describe('GPT-2', () => {
  it('original layout (no prefix, F32, attn.bias buffers ignored): logits match PyTorch', async () => {
    const gpt = await GPT2.fromSafetensors(engine, fileA, fixture.config);
    expectLogits(await gpt.forward(fixture.ids), fixture.logits_a);
    gpt.dispose();
  });

  it("'transformer.' layout with F16 weights: logits match PyTorch", async () => {
    const gpt = await GPT2.fromSafetensors(engine, fileB, fixture.config);
    expectLogits(await gpt.forward(fixture.ids), fixture.logits_b);
    gpt.dispose();
  });

  it('KV-cache greedy decoding equals recomputing the full forward pass at every step', async () => {
    const gpt = await GPT2.fromSafetensors(engine, fileA, fixture.config);
    const n = fixture.greedy_a.length;
    const cached = await collect(gpt.generate(fixture.ids, { maxNewTokens: n, temperature: 0 }));
    const V = fixture.config.vocab_size;
    const recomputed: number[] = [];
    const ids = [...fixture.ids];
    for (let i = 0; i < n; i++) {
      const logits = await gpt.forward(ids);
      const last = logits.subarray(logits.length - V);
      let best = 0;
      for (let j = 1; j < V; j++) if (last[j] > last[best]) best = j;
      recomputed.push(best);
      ids.push(best);
    }
    expect(cached).toEqual(recomputed);
    expect(cached).toEqual(fixture.greedy_a);
    gpt.dispose();
  });

  it('int8 weights: top-1 next token agrees with f32 at ≥ 99% of the positions of a test text', async () => {
    const f32 = await GPT2.fromSafetensors(engine, fileA, fixture.config);
    const text = Array.from({ length: 40 }, (_, i) => (i * 37 + 11) % fixture.config.vocab_size);
    const want = await f32.forward(text);
    let linearOnly = 0;
    for (const [scheme, quantizeEmbedding] of [
      ['q8_0', false],
      ['per-channel', false],
      ['q8_0', true],
    ] as const) {
      const int8 = await GPT2.fromSafetensors(engine, fileA, fixture.config, { weights: 'int8', scheme, quantizeEmbedding });
      const got = await int8.forward(text);
      const V = fixture.config.vocab_size;
      let agree = 0;
      let maxDelta = 0;
      for (let t = 0; t < text.length; t++) {
        const row = (a: Float32Array) => a.subarray(t * V, (t + 1) * V);
        const arg = (r: Float32Array) => r.reduce((best, v, i) => (v > r[best] ? i : best), 0);
        if (arg(row(got)) === arg(row(want))) agree++;
        for (let j = 0; j < V; j++) maxDelta = Math.max(maxDelta, Math.abs(got[t * V + j] - want[t * V + j]));
      }
      const mem = int8.memoryBytes().weights / f32.memoryBytes().weights;
      const what = `${scheme}${quantizeEmbedding ? ' + int8 wte' : ''}`;
      console.log(
        `GPT-2 fixture, ${what}: top-1 agreement ${agree}/${text.length}, max |Δlogit| ${maxDelta.toFixed(4)}, weight bytes ${mem.toFixed(3)}× f32`,
      );
      expect(agree / text.length).toBeGreaterThanOrEqual(0.99);
      if (!quantizeEmbedding) {
        expect(mem).toBeLessThan(0.6); // wte stays f32, a large share of this tiny model
        if (scheme === 'q8_0') linearOnly = mem;
      } else {
        expect(mem).toBeLessThan(Math.min(0.35, linearOnly)); // everything but biases, norms and wpe in int8
      }
      int8.dispose();
    }
    f32.dispose();
  });

  it('4-bit weights (q4_0; q4_k with a q6_k token table): equal to f32 on the same dequantised weights; agreement with f32 reported', async () => {
    const src = SafetensorsFile.parse(fileA);
    const f32 = await GPT2.fromSafetensors(engine, fileA, fixture.config);
    const text = Array.from({ length: 40 }, (_, i) => (i * 37 + 11) % fixture.config.vocab_size);
    const want = await f32.forward(text);
    const V = fixture.config.vocab_size;
    for (const weights of ['q4_0', 'q4_k'] as const) {
      // The checkpoint with every packed matrix replaced by what its packing stands for: Conv1D weights
      // [K, N] packed per output column, wte [V, C] per row (q6_k for q4_k, as in Q4_K_M files).
      // Rounded by engine.quantize, the path the model's loader takes (the GPU for q4_0 and q4_k).
      const back = new Map<string, Float32Array>();
      for (const [name, e] of src.entries) {
        if (e.shape.length !== 2 || name === 'wpe.weight') continue;
        const [rows, cols] = e.shape;
        const wte = name === 'wte.weight';
        const scheme = wte && weights === 'q4_k' ? 'q6_k' : weights;
        const q = await engine.quantize(src.float32(name), wte ? { K: cols, N: rows, scheme, layout: 'NK' } : { K: rows, N: cols, scheme });
        const d = dequantize(await q.read()); // [N, K]; Conv1D weights go back to [K, N]
        q.dispose();
        back.set(
          name,
          wte ? Float32Array.from(d) : Float32Array.from({ length: rows * cols }, (_, i) => d[(i % cols) * rows + Math.floor(i / cols)]),
        );
      }
      const rounded = rewriteSafetensors(src, (name, _shape, data) => back.get(name) ?? data);
      const same = await GPT2.fromSafetensors(engine, rounded, fixture.config);
      const q4 = await GPT2.fromSafetensors(engine, fileA, fixture.config, { weights, quantizeEmbedding: true });
      const [got, exact] = [await q4.forward(text), await same.forward(text)];
      expectClose(got, f64(exact), { atol: 1e-4 * maxAbs(exact), rtol: 0 }, `${weights} against f32 on its dequantised weights`);
      let agree = 0;
      for (let t = 0; t < text.length; t++) {
        const row = (a: Float32Array) => a.subarray(t * V, (t + 1) * V);
        const arg = (r: Float32Array) => r.reduce((best, v, i) => (v > r[best] ? i : best), 0);
        if (arg(row(got)) === arg(row(want))) agree++;
      }
      let maxDelta = 0;
      for (let i = 0; i < want.length; i++) maxDelta = Math.max(maxDelta, Math.abs(got[i] - want[i]));
      console.log(
        `GPT-2 fixture, ${weights} (+ ${weights === 'q4_k' ? 'q6_k' : weights} wte): top-1 agreement with f32 ${agree}/${text.length}, ` +
          `max |Δlogit| ${maxDelta.toFixed(4)} of max |logit| ${maxAbs(want).toFixed(2)}`,
      );
      expect((await collect(q4.generate(fixture.ids, { maxNewTokens: 5 }))).length).toBe(5);
      q4.dispose();
      same.dispose();
    }
    f32.dispose();
  });

  for (const weights of ['f16', 'bf16'] as const)
    it(`${weights} weights (linear layers and token table, no shader-f16): top-1 agreement ≥ 99% at half the bytes`, async () => {
      const f32 = await GPT2.fromSafetensors(engine, fileA, fixture.config);
      const half = await GPT2.fromSafetensors(engine, fileA, fixture.config, { weights, quantizeEmbedding: true });
      const text = Array.from({ length: 40 }, (_, i) => (i * 37 + 11) % fixture.config.vocab_size);
      const [want, got] = [await f32.forward(text), await half.forward(text)];
      const V = fixture.config.vocab_size;
      let agree = 0;
      for (let t = 0; t < text.length; t++) {
        const row = (a: Float32Array) => a.subarray(t * V, (t + 1) * V);
        const arg = (r: Float32Array) => r.reduce((best, v, i) => (v > r[best] ? i : best), 0);
        if (arg(row(got)) === arg(row(want))) agree++;
      }
      // Halves keep 11 significant bits, bfloat16 8: logits within 1e-2 (f16) or 5e-2 (bf16) of the largest.
      expectClose(got, f64(want), { atol: (weights === 'f16' ? 1e-2 : 5e-2) * maxAbs(want), rtol: 0 }, `${weights} logits`);
      const mem = half.memoryBytes().weights / f32.memoryBytes().weights;
      console.log(
        `GPT-2 fixture, ${weights} + ${weights} wte: top-1 agreement ${agree}/${text.length}, weight bytes ${mem.toFixed(3)}× f32`,
      );
      expect(agree / text.length).toBeGreaterThanOrEqual(0.99);
      expect(mem).toBeLessThan(0.56); // all but biases, norms and wpe at 2 bytes
      // Decoding with the KV cache runs the 16-bit GEMVs and the 16-bit embedding lookup.
      expect((await collect(half.generate(fixture.ids, { maxNewTokens: 5 }))).length).toBe(5);
      f32.dispose();
      half.dispose();
    });

  it('sliding-window attention: equals dense when the window covers the context, and KV-cache decoding agrees with recomputation', async () => {
    const gpt = await GPT2.fromSafetensors(engine, fileA, fixture.config);
    const wide = { kind: 'sliding' as const, window: 64, blockSize: 16 as const };
    expectLogits(await gpt.forward(fixture.ids, { attention: wide }), fixture.logits_a);
    const narrow = { kind: 'sliding' as const, window: 8, blockSize: 16 as const };
    const text = Array.from({ length: 40 }, (_, i) => (i * 37 + 11) % fixture.config.vocab_size);
    const dense = await gpt.forward(text);
    const sparse = await gpt.forward(text, { attention: narrow });
    let drift = 0;
    for (let i = 0; i < dense.length; i++) drift = Math.max(drift, Math.abs(dense[i] - sparse[i]));
    expect(drift).toBeGreaterThan(1e-3); // positions past the window really see fewer keys
    const n = 6;
    const prompt = text.slice(0, 20);
    const cached: number[] = [];
    for await (const id of gpt.generate(prompt, { maxNewTokens: n, attention: narrow })) cached.push(id);
    const ids = [...prompt];
    const V = fixture.config.vocab_size;
    for (let i = 0; i < n; i++) {
      const logits = await gpt.forward(ids, { attention: narrow });
      const last = logits.subarray(logits.length - V);
      ids.push(last.reduce((best, v, j) => (v > last[best] ? j : best), 0));
    }
    expect(cached).toEqual(ids.slice(prompt.length));
    gpt.dispose();
  });

  it('attention weights under a sliding window: masked keys are 0, the rest are the dense softmax renormalised (layer 0)', async () => {
    const gpt = await GPT2.fromSafetensors(engine, fileA, fixture.config);
    const narrow = { kind: 'sliding' as const, window: 8, blockSize: 16 as const };
    const text = Array.from({ length: 40 }, (_, i) => (i * 37 + 11) % fixture.config.vocab_size);
    const T = text.length;
    const mask = gpt.attentionMask(T, narrow)!;
    expect(gpt.attentionMask(T, { kind: 'dense' })).toBeNull();
    // Query 39 (block 2) sees key blocks 1 and 2 (the window of 8 rounds up to one block each side): keys 16..39.
    expect(Array.from(mask.subarray(39 * T, 40 * T)).join('')).toBe(`${'0'.repeat(16)}${'1'.repeat(24)}`);
    for (const head of [0, 1]) {
      const dense = await gpt.attentionWeights(text, 0, head);
      const sparse = await gpt.attentionWeights(text, 0, head, { attention: narrow });
      let worst = 0;
      for (let q = 0; q < T; q++) {
        let allowed = 0;
        for (let k = 0; k < T; k++) if (mask[q * T + k]) allowed += dense[q * T + k];
        for (let k = 0; k < T; k++) {
          const want = mask[q * T + k] ? dense[q * T + k] / allowed : 0;
          if (!mask[q * T + k]) expect(sparse[q * T + k]).toBe(0);
          worst = Math.max(worst, Math.abs(sparse[q * T + k] - want));
        }
      }
      expect(worst).toBeLessThan(1e-6);
    }
    gpt.dispose();
  });

  it('a token table larger than one binding is split into row blocks (f32 and int8) with the same results', async () => {
    const cfg = { n_layer: 1, n_head: 2, n_embd: 16, vocab_size: 600, n_positions: 16 };
    const bytes = randomGPT2Checkpoint(cfg, 3, 0.3);
    const whole = await GPT2.fromSafetensors(engine, bytes, cfg);
    // wte is 600 × 16 × 4 = 38,400 bytes; a 20,480-byte cap leaves every other tensor whole.
    const capped = await createTestEngine({ maxBindingSize: 20480 });
    const split = await GPT2.fromSafetensors(capped, bytes, cfg);
    expect(split.memoryBytes().weights).toBe(whole.memoryBytes().weights);
    const ids = [5, 599, 320, 319, 1, 77, 450];
    expect(await split.forward(ids)).toEqual(await whole.forward(ids));
    const gen = async (m: GPT2) => {
      const out: number[] = [];
      for await (const id of m.generate(ids, { maxNewTokens: 5, temperature: 0.9, seed: 4 })) out.push(id);
      return out;
    };
    expect(await gen(split)).toEqual(await gen(whole));
    // An int8 table (600 rows × 32 bytes = 19,200) splits the same way under a 17,408-byte cap (which
    // still holds the 7 × 600 logits); its f32 rows exceed the cap, so they are quantized on the CPU.
    const q = { weights: 'int8', quantizeEmbedding: true } as const;
    const qWhole = await GPT2.fromSafetensors(engine, bytes, cfg, q);
    const small = await createTestEngine({ maxBindingSize: 17408 });
    const qSplit = await GPT2.fromSafetensors(small, bytes, cfg, q);
    // The whole table was quantized on the GPU, the blocks on the CPU: the same rules, but WGSL's
    // division may round a weight to the neighbouring step (see the quantizer test), so not bit-equal.
    const a = await qSplit.forward(ids);
    const b = await qWhole.forward(ids);
    expectClose(a, f64(b), { atol: 1e-3 * maxAbs(b), rtol: 0 }, 'int8 wte in row blocks');
    for (const m of [qSplit, qWhole, small]) m.dispose();
    // Other weights are not split: a cap below them is a clear error naming the tensor and the limit.
    const tiny = await createTestEngine({ maxBindingSize: 2048 });
    await expect(GPT2.fromSafetensors(tiny, bytes, cfg)).rejects.toThrow(
      /tensor 'h.0.attn.c_attn.weight': tensor \[16, 48\] needs 3072 bytes, above this device's maxStorageBufferBindingSize of 2048/,
    );
    tiny.dispose();
    split.dispose();
    whole.dispose();
    capped.dispose();
  });

  it('sampling is reproducible for a seed and varies across seeds', async () => {
    const gpt = await GPT2.fromSafetensors(engine, fileA, fixture.config);
    const opts = { maxNewTokens: 8, temperature: 1.5, topK: 40, topP: 0.95 };
    const a = await collect(gpt.generate(fixture.ids, { ...opts, seed: 1 }));
    const b = await collect(gpt.generate(fixture.ids, { ...opts, seed: 1 }));
    const c = await collect(gpt.generate(fixture.ids, { ...opts, seed: 2 }));
    expect(a).toEqual(b);
    expect(a.length).toBe(8);
    expect(a).not.toEqual(c);
    gpt.dispose();
  });

  it('bad input: corrupt files, shapes that disagree with the config, long prompts, unknown ids', async () => {
    const cfg = fixture.config;
    await expect(GPT2.fromSafetensors(engine, fileA.subarray(0, 4), cfg)).rejects.toThrow(/too short/);
    await expect(GPT2.fromSafetensors(engine, fileA.subarray(0, fileA.length - 100), cfg)).rejects.toThrow(SafetensorsError);
    await expect(GPT2.fromSafetensors(engine, fileA.subarray(0, fileA.length - 100), cfg)).rejects.toThrow(/data_offsets .* run past/);
    const huge = fileA.slice();
    new DataView(huge.buffer).setUint32(0, 0xfffffff, true);
    await expect(GPT2.fromSafetensors(engine, huge, cfg)).rejects.toThrow(/header length .* runs past the end/);
    await expect(GPT2.fromSafetensors(engine, fileA, { ...cfg, n_embd: 64 })).rejects.toThrow(
      /'wte.weight' is \[101, 32\], the config needs \[101, 64\]/,
    );
    await expect(GPT2.fromSafetensors(engine, fileA, { ...cfg, n_layer: 3 })).rejects.toThrow(/missing tensor 'h.2.ln_1.weight'/);
    const before = engine.memory().liveBytes;
    const gpt = await GPT2.fromSafetensors(engine, fileA, cfg);
    await expect(gpt.forward(new Array(cfg.n_positions + 1).fill(1))).rejects.toThrow(
      /49 prompt tokens exceed the context of 48 positions/,
    );
    await expect(gpt.forward([1, 2, cfg.vocab_size])).rejects.toThrow(
      /token id 101 at position 2 is outside the vocabulary \(vocab_size 101\)/,
    );
    await gpt.forward([1, 2, 3]);
    gpt.dispose();
    await new Promise((r) => setTimeout(r, 0));
    expect(engine.memory().liveBytes).toBe(before);
  });

  it('safetensors headers with unknown dtypes or overlapping tensors are refused', async () => {
    const make = (header: object, dataBytes: number) => {
      const h = new TextEncoder().encode(JSON.stringify(header));
      const out = new Uint8Array(8 + h.length + dataBytes);
      new DataView(out.buffer).setUint32(0, h.length, true);
      out.set(h, 8);
      return out;
    };
    const { SafetensorsFile } = await import('../../src/index');
    expect(() => SafetensorsFile.parse(make({ a: { dtype: 'Q4', shape: [2], data_offsets: [0, 8] } }, 8))).toThrow(
      /tensor 'a' has unknown dtype 'Q4'/,
    );
    expect(() =>
      SafetensorsFile.parse(
        make({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, 12),
      ),
    ).toThrow(/'a' and 'b' overlap/);
    expect(() => SafetensorsFile.parse(make({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, 8))).toThrow(/needs 12 bytes/);
  });
});

describe('GPT-2 tokenizer', () => {
  it('round-trips text with emoji and accented characters', async () => {
    const tok = await GPT2Tokenizer.load();
    const text = 'Héllo wörld — naïve café 🙂🚀 日本語 <|endoftext|>';
    const ids = tok.encode(text);
    expect(ids.length).toBeGreaterThan(10);
    expect(ids[ids.length - 1]).toBe(GPT2Tokenizer.EOT);
    expect(tok.decode(ids)).toBe(text);
    expect(tok.encode('Hello world')).toEqual([15496, 995]);
  });
});

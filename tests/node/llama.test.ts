// The Llama family against float64 references computed by tools/make_llama_fixture.py, which follows
// Hugging Face's LlamaForCausalLM / Qwen2ForCausalLM: a Llama-3-style model (GQA, tied embeddings,
// llama3 rope scaling) from safetensors and from the GGUF file llama.cpp's converter would write for it
// (permuted q/k rows, mixed F32 / F16 / Q8_0 / Q4_0 / Q4_K tensors, rope_freqs), and a Qwen2-style one
// (q/k/v biases, untied head, θ = 1e6).
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  GGUFFile,
  Llama,
  SafetensorsFile,
  TextTokenizer,
  dequantize,
  ggufConfig,
  resolveLlamaConfig,
  ropeAttentionFactor,
  ropeInvFreq,
  type Engine,
  type LlamaConfig,
} from '../../src/index';
import { rewriteSafetensors } from '../helpers/files';
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

describe('Llama: options, generation control and bad input', () => {
  const cfg = expected.llama.config;
  const st = () => file('llama.safetensors');

  it('f16 and q4_k weights from a safetensors checkpoint equal f32 on the same rounded weights; GQA attention maps are causal distributions', async () => {
    const ref = expected.llama;
    const src = SafetensorsFile.parse(st());
    for (const weights of ['f16', 'q4_k'] as const) {
      // The checkpoint with every matrix replaced by what its packing stands for (rows are packed one by
      // one, so fusing q/k/v or interleaving gate/up changes nothing); the token table is q6_k with q4_k.
      // Rounded by engine.quantize, the path the model's loader takes (the GPU for f16 and q4_k).
      const back = new Map<string, Float32Array>();
      for (const [name, e] of src.entries) {
        if (e.shape.length !== 2) continue;
        const [N, K] = e.shape;
        // The loader's choices: q6_k for the table with q4_k, and llama-quantize's 32-weight fallbacks
        // (q5_0, q8_0) for rows that are not whole k-quant blocks (this fixture's 128).
        const asked = weights === 'q4_k' && name === 'model.embed_tokens.weight' ? 'q6_k' : weights;
        const scheme = K % 256 === 0 ? asked : asked === 'q4_k' ? 'q5_0' : asked === 'q6_k' ? 'q8_0' : asked;
        const q = await engine.quantize(src.float32(name), { K, N, scheme, layout: 'NK' });
        back.set(name, Float32Array.from(dequantize(await q.read())));
        q.dispose();
      }
      const rounded = rewriteSafetensors(src, (name, _shape, data) => back.get(name) ?? data);
      const same = await Llama.fromSafetensors(engine, rounded, cfg);
      const packed = await Llama.fromSafetensors(engine, st(), cfg, { weights });
      const [got, exact] = [await packed.forward(ref.ids), await same.forward(ref.ids)];
      expectClose(got, f64(exact), { atol: 1e-4 * maxAbs(exact), rtol: 0 }, `${weights} against f32 on its rounded weights`);
      let worst = 0;
      for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - ref.logits[i]));
      const ratio = packed.memoryBytes().weights / same.memoryBytes().weights;
      console.log(
        `Llama fixture, ${weights} weights: max |Δlogit| against f32 ${worst.toFixed(4)} of max |logit| ${maxAbs(exact).toFixed(2)}, weight bytes ${ratio.toFixed(3)}× f32`,
      );
      expect(ratio).toBeLessThan(weights === 'f16' ? 0.56 : 0.5);
      packed.dispose();
      same.dispose();
    }
    const m = await Llama.fromSafetensors(engine, st(), cfg);
    const T = ref.ids.length;
    const p = await m.attentionWeights(ref.ids, 1, 3); // head 3 reads KV head 1
    for (let t = 0; t < T; t++) {
      let sum = 0;
      for (let j = 0; j < T; j++) {
        if (j > t) expect(p[t * T + j]).toBe(0);
        sum += p[t * T + j];
      }
      expect(sum).toBeCloseTo(1, 5);
    }
    m.dispose();
  });

  it('generation stops at the config eos ids unless stopTokens says otherwise, and an AbortSignal ends it between tokens', async () => {
    const ref = expected.llama;
    const eos = ref.greedy[2]; // pretend the third greedy token is end-of-sequence
    const m = await Llama.fromSafetensors(engine, st(), { ...cfg, eos_token_id: [eos] });
    expect(await collect(m.generate(ref.ids, { maxNewTokens: 8 }))).toEqual(ref.greedy.slice(0, 3));
    expect(m.lastGeneration.stopReason).toBe('stop');
    expect(await collect(m.generate(ref.ids, { maxNewTokens: 8, stopTokens: [] }))).toEqual(ref.greedy);
    expect(m.lastGeneration.stopReason).toBe('length');
    const ac = new AbortController();
    const got: number[] = [];
    for await (const id of m.generate(ref.ids, { maxNewTokens: 8, stopTokens: [], signal: ac.signal })) {
      got.push(id);
      if (got.length === 2) ac.abort();
    }
    expect(got).toEqual(ref.greedy.slice(0, 2));
    expect(m.lastGeneration.stopReason).toBe('abort');
    // The model is ready again at once, with the same results.
    expect(await collect(m.generate(ref.ids, { maxNewTokens: 8, stopTokens: [] }))).toEqual(ref.greedy);
    ac.abort();
    expect(await collect(m.generate(ref.ids, { signal: ac.signal }))).toEqual([]);
    await expect(collect(m.generate(ref.ids, { stopTokens: [cfg.vocab_size] }))).rejects.toThrow(/stop token 97 is outside the vocabulary/);
    m.dispose();
  });

  it('repetition penalty (Hugging Face semantics) on the GPU equals penalising forward() logits on the CPU, step by step', async () => {
    const ref = expected.llama;
    const m = await Llama.fromSafetensors(engine, st(), cfg);
    const penalty = 1.8;
    const ids = [...ref.ids];
    const want: number[] = [];
    for (let step = 0; step < 8; step++) {
      const logits = await m.forward(ids);
      const row = Array.from(logits.subarray(logits.length - cfg.vocab_size));
      for (const id of new Set(ids)) row[id] = row[id] > 0 ? row[id] / penalty : row[id] * penalty;
      const next = row.reduce((best, v, i) => (v > row[best] ? i : best), 0);
      want.push(next);
      ids.push(next);
    }
    const got = await collect(m.generate(ref.ids, { maxNewTokens: 8, stopTokens: [], repetitionPenalty: penalty }));
    expect(got).toEqual(want);
    expect(got).not.toEqual(ref.greedy); // the penalty changed a choice (greedy repeats token 27)
    // Without the option the plans without the penalty run again, unchanged.
    expect(await collect(m.generate(ref.ids, { maxNewTokens: 8, stopTokens: [] }))).toEqual(ref.greedy);
    await expect(collect(m.generate(ref.ids, { repetitionPenalty: 0 }))).rejects.toThrow(/repetitionPenalty must be a finite number > 0/);
    m.dispose();
  });

  it('an f16 KV cache takes half the memory and decodes the same greedy tokens, dense and sliding-window', async () => {
    const ref = expected.llama;
    const f32 = await Llama.fromSafetensors(engine, st(), cfg, { maxLength: 32 });
    const f16 = await Llama.fromSafetensors(engine, st(), cfg, { maxLength: 32, kvCache: 'f16' });
    expect(f16.memoryBytes().kvCache).toBe(f32.memoryBytes().kvCache / 2);
    expect(await collect(f16.generate(ref.ids, { maxNewTokens: 8, stopTokens: [] }))).toEqual(ref.greedy);
    const sliding = { kind: 'sliding', window: 16, blockSize: 16 } as const;
    expect(await collect(f16.generate(ref.ids, { maxNewTokens: 8, stopTokens: [], attention: sliding }))).toEqual(
      await collect(f32.generate(ref.ids, { maxNewTokens: 8, stopTokens: [], attention: sliding })),
    );
    await expect(Llama.fromSafetensors(engine, st(), cfg, { kvCache: 'f8' as 'f16' })).rejects.toThrow(
      /kvCache must be 'f32' or 'f16', got "f8"/,
    );
    f32.dispose();
    f16.dispose();
  });

  it('bad input: unsupported architecture, shapes that disagree with the config, missing tensors, long prompts; nothing leaks', async () => {
    const before = engine.memory().liveBytes;
    await expect(Llama.fromSafetensors(engine, st(), { ...cfg, model_type: 'mistral' })).rejects.toThrow(
      /model_type "mistral" is not supported; supported: llama, qwen2/,
    );
    await expect(Llama.fromSafetensors(engine, st(), { ...cfg, intermediate_size: 320 })).rejects.toThrow(
      /'model.layers.0.mlp.gate_proj.weight' is \[256, 128\], the config needs \[320, 128\]/,
    );
    await expect(Llama.fromSafetensors(engine, st(), { ...cfg, num_hidden_layers: 3 })).rejects.toThrow(
      /the checkpoint has no tensor 'model.layers.2.self_attn.q_proj.weight'/,
    );
    await expect(Llama.fromSafetensors(engine, st(), { ...cfg, num_key_value_heads: 3 })).rejects.toThrow(
      /num_key_value_heads 3 must divide num_attention_heads 4/,
    );
    await expect(Llama.fromSafetensors(engine, st(), { ...cfg, rope_scaling: { rope_type: 'longrope', factor: 4 } })).rejects.toThrow(
      /rope_scaling rope_type 'longrope' is not supported; supported: default, linear, dynamic, llama3, yarn/,
    );
    expect(engine.memory().liveBytes).toBe(before);
    const m = await Llama.fromSafetensors(engine, st(), cfg, { maxLength: 16 });
    await expect(m.forward(new Array(17).fill(1))).rejects.toThrow(/17 prompt tokens exceed the context of 16 positions/);
    await expect(collect(m.generate([1, 2, 3], { maxNewTokens: 15 }))).rejects.toThrow(
      /3 prompt tokens \+ 14 new exceed the context of 16/,
    );
    m.dispose();
    expect(engine.memory().liveBytes).toBe(before);
  });

  // transformers 5 writes RoPE as rope_parameters: { rope_theta, rope_type, ...the scaling fields },
  // with no top-level rope_theta or rope_scaling.
  const { rope_theta, rope_scaling, ...rest } = cfg;
  const v5: LlamaConfig = { ...rest, rope_parameters: { rope_theta, ...rope_scaling } };

  it('a transformers 5 config (rope_parameters) resolves as its 4.x twin; what it cannot follow is an error', () => {
    expect(v5).not.toHaveProperty('rope_theta');
    expect(resolveLlamaConfig(v5)).toEqual(resolveLlamaConfig(cfg));
    expect(resolveLlamaConfig({ ...v5, layer_types: ['full_attention', 'full_attention'] })).toEqual(resolveLlamaConfig(cfg));
    expect(resolveLlamaConfig(v5).rope_theta).toBe(500000);
    expect(resolveLlamaConfig(v5).rope_scaling?.rope_type).toBe('llama3');
    // A plain default rope_parameters, and the old 'type' key.
    expect(resolveLlamaConfig({ ...rest, rope_parameters: { rope_type: 'default', rope_theta: 1e6 } })).toMatchObject({
      rope_theta: 1e6,
      rope_scaling: null,
    });
    expect(resolveLlamaConfig({ ...cfg, rope_scaling: { type: 'linear', factor: 2 } }).rope_scaling).toEqual({
      type: 'linear',
      factor: 2,
      rope_type: 'linear',
    });
    // Dynamic NTK changes θ only past max_position_embeddings, which the KV cache never reaches.
    expect(resolveLlamaConfig({ ...rest, rope_parameters: { rope_type: 'dynamic', rope_theta: 1e4, factor: 2 } })).toMatchObject({
      rope_theta: 1e4,
      rope_scaling: null,
    });
    const bad: [Partial<LlamaConfig>, RegExp][] = [
      [{ rope_parameters: { rope_theta, rope_type: 'yarn' } }, /rope_parameters rope_type 'yarn' needs a number factor/],
      [{ rope_parameters: { rope_theta, rope_type: 'yarn', factor: 4, beta_fast: '32' as never } }, /'yarn' beta_fast must be a number/],
      [
        { rope_parameters: { rope_theta, rope_type: 'dynamic', factor: 2, original_max_position_embeddings: 16 } },
        /dynamic rope with original_max_position_embeddings 16 below max_position_embeddings is not supported/,
      ],
      [
        { rope_parameters: { rope_theta, rope_type: 'longrope' } },
        /rope_type 'longrope' is not supported; supported: default, linear, dynamic, llama3, yarn/,
      ],
      [{ rope_parameters: { rope_theta, rope_type: 'llama3', factor: 8 } }, /rope_type 'llama3' needs a number low_freq_factor/],
      [{ rope_parameters: { rope_theta, rope_type: 'default', partial_rotary_factor: 0.5 } }, /partial_rotary_factor 0.5 is not supported/],
      [
        { rope_parameters: { full_attention: { rope_type: 'default' }, sliding_attention: { rope_type: 'default' } } as never },
        /rope_parameters per layer type \(full_attention, sliding_attention\) is not supported/,
      ],
      [{ rope_theta: 1e4 }, /rope_parameters says rope_theta 500000, rope_theta says 10000/],
      [{ rope_scaling: { rope_type: 'linear', factor: 2 } }, /rope_parameters says rope_type 'llama3', rope_scaling says 'linear'/],
      [{ hidden_act: 'gelu' }, /hidden_act 'gelu' \(only 'silu'\) is not supported/],
      [{ mlp_bias: true }, /mlp_bias true/],
      [{ use_sliding_window: true }, /use_sliding_window true/],
      [
        { layer_types: ['full_attention', 'sliding_attention'] },
        /layer_types 'sliding_attention' \(only 'full_attention'\) is not supported/,
      ],
    ];
    for (const [patch, message] of bad) expect(() => resolveLlamaConfig({ ...v5, ...patch }), message.source).toThrow(message);
  });

  it('yarn rope (transformers 5 _compute_yarn_parameters): the ramp and attention factor on hand-computed values, both layouts', () => {
    // D = 32, θ = 5e5, original context 16: pair index D·ln(16 / (2π·r)) / (2 ln θ) is −3.09 for
    // beta_fast (r = 32) and 1.14 for beta_slow (r = 1), floored / ceiled to 0 and 2: pair 0 keeps its
    // frequency, pair 1 is halfway, pairs 2.. are divided by factor 4.
    const yarn = { rope_type: 'yarn', factor: 4, original_max_position_embeddings: 16 };
    const c5 = resolveLlamaConfig({ ...rest, rope_parameters: { rope_theta, ...yarn } });
    expect(
      resolveLlamaConfig({ ...rest, rope_theta, rope_scaling: { type: 'yarn', factor: 4, original_max_position_embeddings: 16 } }),
    ).toEqual({
      ...c5,
      rope_scaling: { ...c5.rope_scaling, type: 'yarn' },
    });
    const plain = Array.from({ length: 16 }, (_, i) => 1 / 500000 ** ((2 * i) / 32));
    const inv = ropeInvFreq(c5);
    expect(inv[0]).toBe(plain[0]);
    expect(inv[1]).toBeCloseTo(0.625 * plain[1], 15);
    for (let i = 2; i < 16; i++) expect(inv[i] / (plain[i] / 4)).toBeCloseTo(1, 12);
    expect(ropeAttentionFactor(c5)).toBeCloseTo(0.1 * Math.log(4) + 1, 12); // 1.1386
    // truncate false: the ramp runs from 0 to 1.1397, so pair 1 is 1 / 1.1397 = 0.8774 of the way
    const loose = resolveLlamaConfig({ ...rest, rope_parameters: { rope_theta, ...yarn, truncate: false } });
    const t = 1 / 1.1396869651574324;
    expect(ropeInvFreq(loose)[1] / plain[1]).toBeCloseTo(t / 4 + (1 - t), 9);
    // attention_factor given, or mscale over mscale_all_dim: (0.1 ln 4 + 1) / (0.05 ln 4 + 1) = 1.0648
    expect(ropeAttentionFactor(resolveLlamaConfig({ ...rest, rope_parameters: { rope_theta, ...yarn, attention_factor: 0.5 } }))).toBe(0.5);
    const ms = resolveLlamaConfig({ ...rest, rope_parameters: { rope_theta, ...yarn, mscale: 1, mscale_all_dim: 0.5 } });
    expect(ropeAttentionFactor(ms)).toBeCloseTo(1.0648216253695715, 12);
    // original_max_position_embeddings defaults to max_position_embeddings (standardize_rope_params)
    const dflt = resolveLlamaConfig({ ...rest, rope_parameters: { rope_theta, rope_type: 'yarn', factor: 4 } });
    expect(dflt.rope_scaling?.original_max_position_embeddings).toBe(cfg.max_position_embeddings);
    expect(ropeAttentionFactor(resolveLlamaConfig(cfg))).toBe(1);
  });

  it('yarn in a model: factor 1 is plain RoPE (the float64 reference), and the attention factor scales cos and sin', async () => {
    const ref = expected.qwen2;
    const q = ref.config;
    const want = f64(Float32Array.from(ref.logits));
    const tol = { atol: 1e-4 * maxAbs(want), rtol: 0 };
    const rope = (extra: object) => ({ ...q, rope_scaling: { rope_type: 'yarn', factor: 1, ...extra } });
    const same = await Llama.fromSafetensors(engine, file('qwen2.safetensors'), rope({}));
    expectClose(await same.forward(ref.ids), want, tol, 'yarn factor 1');
    same.dispose();
    // q and k both scaled by 1.5: scores by 2.25, so the logits move well past the tolerance
    const scaled = await Llama.fromSafetensors(engine, file('qwen2.safetensors'), rope({ attention_factor: 1.5 }));
    const got = await scaled.forward(ref.ids);
    let worst = 0;
    for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
    expect(worst).toBeGreaterThan(100 * tol.atol);
    scaled.dispose();
  });

  it('GGUF metadata that changes the math and is not followed is an error: partial RoPE, yarn scaling, experts', () => {
    const f = GGUFFile.parse(file('llama.gguf'));
    expect(resolveLlamaConfig(ggufConfig(f))).toMatchObject({ head_dim: 32, rope_theta: 500000 });
    f.metadata.set('llama.rope.dimension_count', 16);
    expect(() => resolveLlamaConfig(ggufConfig(f))).toThrow(/partial_rotary_factor 0.5 is not supported/);
    f.metadata.set('llama.rope.dimension_count', 32);
    f.metadata.set('llama.rope.scaling.type', 'yarn');
    expect(() => ggufConfig(f)).toThrow(/GGUF llama.rope.scaling.type 'yarn' is not supported/);
    f.metadata.delete('llama.rope.scaling.type');
    f.metadata.set('llama.expert_count', 8);
    expect(() => ggufConfig(f)).toThrow(/GGUF 'llama' with 8 experts \(mixture of experts\) is not supported/);
  });

  it('a transformers 5 config gives the logits of its 4.x twin (float64 PyTorch)', async () => {
    const ref = expected.llama;
    const m = await Llama.fromSafetensors(engine, st(), v5);
    expectClose(
      await m.forward(ref.ids),
      f64(Float32Array.from(ref.logits)),
      { atol: 1e-4 * maxAbs(Float64Array.from(ref.logits)), rtol: 0 },
      'v5',
    );
    m.dispose();
  });

  it('a sharded checkpoint loads from its shards in any order', async () => {
    // Split the single file into two shards by tensor name, as model.safetensors.index.json would list them.
    const src = SafetensorsFile.parse(st());
    const names = [...src.entries.keys()];
    const shard = (part: string[]) => rewriteSafetensors(src, undefined, part);
    const half = Math.floor(names.length / 2);
    const m = await Llama.fromSafetensors(engine, [shard(names.slice(half)), shard(names.slice(0, half))], cfg);
    const logits = await m.forward(expected.llama.ids);
    expectClose(
      logits,
      f64(Float32Array.from(expected.llama.logits)),
      { atol: 1e-4 * maxAbs(Float64Array.from(expected.llama.logits)), rtol: 0 },
      'shards',
    );
    m.dispose();
    await expect(Llama.fromSafetensors(engine, [shard(names), shard(names.slice(0, 1))], cfg)).rejects.toThrow(/appears in two shards/);
  });
});

describe('the bundled tiny Llama (public/models/kjv-llama) and its GGUF export', () => {
  it('the Hugging Face folder and the Q8_0 GGUF (permuted q/k, tokenizer inside) agree: tokens, logits, greedy text', async () => {
    const dirB = 'public/models/kjv-llama';
    const config = JSON.parse(readFileSync(`${dirB}/config.json`, 'utf8')) as LlamaConfig;
    const tok = TextTokenizer.fromJSON(
      readFileSync(`${dirB}/tokenizer.json`, 'utf8'),
      readFileSync(`${dirB}/tokenizer_config.json`, 'utf8'),
    );
    const ggufBytes = file('kjv-llama-q8_0.gguf');
    const ggufTok = TextTokenizer.fromGGUF(ggufBytes);
    const prompt = 'And God said, Let there be light';
    const ids = tok.encode(prompt);
    expect(ggufTok.encode(prompt)).toEqual(ids);
    const hf = await Llama.fromSafetensors(engine, new Uint8Array(readFileSync(`${dirB}/model.safetensors`)), config);
    const gg = await Llama.fromGGUF(engine, ggufBytes);
    expect(hf.memoryBytes().weights).toBeGreaterThan(1.7 * gg.memoryBytes().weights); // f16 against q8_0
    const [a, b] = [await hf.forward(ids), await gg.forward(ids)];
    // Q8_0 rounds each weight to 1/254 of its block's largest: the logits stay within 5% of the largest.
    expectClose(b, f64(a), { atol: 0.05 * maxAbs(a), rtol: 0 }, 'GGUF Q8_0 against the F16 folder');
    const V = config.vocab_size;
    let agree = 0;
    for (let t = 0; t < ids.length; t++) {
      const arg = (x: Float32Array) => x.subarray(t * V, (t + 1) * V).reduce((best, v, i, r) => (v > r[best] ? i : best), 0);
      if (arg(a) === arg(b)) agree++;
    }
    console.log(`bundled tiny Llama: GGUF Q8_0 top-1 agreement with the F16 folder ${agree}/${ids.length}`);
    expect(agree / ids.length).toBeGreaterThanOrEqual(0.8);
    // Greedy generation (KV cache, a token a step) picks at every step the largest logit of a full
    // forward pass over the prompt and the tokens so far (a near-tie may go either way: 1e-3 of max |row|).
    const text = await collect(hf.generate(ids, { maxNewTokens: 12, stopTokens: [] }));
    expect(text.length).toBe(12);
    const all = await hf.forward([...ids, ...text.slice(0, -1)]);
    for (const [j, id] of text.entries()) {
      const row = all.subarray((ids.length - 1 + j) * V, (ids.length + j) * V);
      expect(row[id], `step ${j}: token ${id}`).toBeGreaterThanOrEqual(Math.max(...row) - 1e-3 * maxAbs(row));
    }
    // The tokenizer inside the GGUF turns those ids into the folder tokenizer's text, which is not empty.
    const decoded = tok.decode(text);
    expect(decoded.trim()).not.toBe('');
    expect(ggufTok.decode(text)).toBe(decoded);
    hf.dispose();
    gg.dispose();
  });
});

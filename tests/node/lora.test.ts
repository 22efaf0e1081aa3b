// LoRA adapters at inference against float64 references with the adapter merged, computed by
// tools/make_lora_fixture.py (PEFT's merge semantics written out: scale alpha / r or alpha / √r with
// rsLoRA, rank_pattern / alpha_pattern, GPT-2's fan_in_fan_out): PEFT adapters on Llama, Qwen2 and
// GPT-2, llama.cpp GGUF adapters on the GGUF base (mixed Q8_0 / Q4_0 / Q4_K / F16 blocks: the packed
// base against its own dequantised weights plus the adapter), switching base → A → B → base in one
// model, greedy generation, a q4_k-packed base against f32 on its rounded weights with the adapter
// merged, and the load errors.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  Encoder,
  GPT2,
  Llama,
  SafetensorsFile,
  dequantize,
  type Engine,
  type EncoderConfig,
  type GPT2Config,
  type LlamaConfig,
} from '../../src/index';
import { fitScheme } from '../../src/models/checkpoint';
import { createTestEngine } from '../helpers/engine';
import { rewriteSafetensors, writeSafetensors } from '../helpers/files';
import { expectClose, f64, maxAbs } from '../helpers/numeric';

type Case = { logits: number[]; greedy: number[] };
const expected = JSON.parse(readFileSync('tests/fixtures/lora/expected.json', 'utf8')) as Record<
  'llama' | 'qwen2' | 'gpt2',
  { ids: number[]; base: number[]; a: Case; b: Case }
> &
  Record<'bert' | 'distilbert', { hidden: number[][] }>;
const llamaFixture = JSON.parse(readFileSync('tests/fixtures/llama/expected.json', 'utf8')) as Record<
  'llama' | 'qwen2',
  { config: LlamaConfig }
>;
const gpt2Config = (JSON.parse(readFileSync('tests/fixtures/gpt2/tiny.json', 'utf8')) as { config: GPT2Config }).config;
const bytes = (path: string) => new Uint8Array(readFileSync(path));
const lora = (name: string) => bytes(`tests/fixtures/lora/${name}`);
const loraConfig = (name: string) => readFileSync(`tests/fixtures/lora/${name}.json`, 'utf8');

// Each model compiles its base and adapter plans on SwiftShader: minutes on a loaded 2-core machine.
vi.setConfig({ testTimeout: 600_000 });

let engine: Engine;
beforeAll(async () => {
  engine = await createTestEngine();
});
afterAll(() => engine?.dispose());

/** ≤ 1e-4 of the largest |logit|, the bound. */
function expectLogits(got: Float32Array, want: number[], what: string): void {
  const ref = Float64Array.from(want);
  expectClose(got, ref, { atol: 1e-4 * maxAbs(ref), rtol: 0 }, what);
}

async function collect(it: AsyncIterable<number>): Promise<number[]> {
  const out: number[] = [];
  for await (const x of it) out.push(x);
  return out;
}

type Model = Llama | GPT2;
const MODELS: [string, 'llama' | 'qwen2' | 'gpt2', () => Promise<Model>][] = [
  [
    'Llama (f32 safetensors base)',
    'llama',
    () => Llama.fromSafetensors(engine, bytes('tests/fixtures/llama/llama.safetensors'), llamaFixture.llama.config),
  ],
  [
    'Qwen2 (f32 safetensors base, q/k/v biases)',
    'qwen2',
    () => Llama.fromSafetensors(engine, bytes('tests/fixtures/llama/qwen2.safetensors'), llamaFixture.qwen2.config),
  ],
  [
    'GPT-2 (Conv1D, fan_in_fan_out)',
    'gpt2',
    () => GPT2.fromSafetensors(engine, bytes('tests/fixtures/gpt2/tiny-a.safetensors'), gpt2Config),
  ],
];

describe('PEFT adapters, unmerged', () => {
  for (const [title, key, load] of MODELS) {
    it(`${title}: base → A → B → base each give their own logits (A plain, B rsLoRA); greedy generation matches`, async () => {
      const ref = expected[key];
      const m = await load();
      await m.loadAdapter('A', lora(`${key}-a.safetensors`), loraConfig(`${key}-a`)); // config as text
      await m.loadAdapter('B', lora(`${key}-b.safetensors`), JSON.parse(loraConfig(`${key}-b`))); // parsed
      expect(m.adapters).toEqual(['A', 'B']);
      expectLogits(await m.forward(ref.ids), ref.base, 'base');
      expectLogits(await m.forward(ref.ids, { adapter: 'A' }), ref.a.logits, 'adapter A');
      expectLogits(await m.forward(ref.ids, { adapter: 'B' }), ref.b.logits, 'adapter B');
      expectLogits(await m.forward(ref.ids, { adapter: null }), ref.base, 'base again');
      expectLogits(await m.forward(ref.ids, { adapter: 'A' }), ref.a.logits, 'adapter A again');
      // Generation reuses the KV caches of a previous call only under the same adapter.
      const g = { maxNewTokens: 6, stopTokens: [] };
      await collect(m.generate(ref.ids, g));
      expect(await collect(m.generate(ref.ids, { ...g, adapter: 'A' }))).toEqual(ref.a.greedy);
      expect(await collect(m.generate(ref.ids, { ...g, adapter: 'B' }))).toEqual(ref.b.greedy);
      const info = m.adapterInfo('B');
      expect(info.rslora).toBe(true);
      expect(info.byteLength).toBeGreaterThan(0);
      m.unloadAdapter('A');
      expect(m.adapters).toEqual(['B']);
      await expect(m.forward(ref.ids, { adapter: 'A' })).rejects.toThrow(/no adapter 'A' is loaded/);
      expectLogits(await m.forward(ref.ids, { adapter: 'B' }), ref.b.logits, 'adapter B after unloading A');
      m.dispose();
    });
  }

  it('two adapters of the same shapes share a slot: switching between them compiles no plan', async () => {
    const ref = expected.llama;
    const m = await MODELS[0][2]();
    await m.loadAdapter('A', lora('llama-a.safetensors'), loraConfig('llama-a'));
    await m.loadAdapter('A2', lora('llama-a.gguf')); // the same weights from llama.cpp's format
    await m.forward(ref.ids, { adapter: 'A' });
    const plans = m.cachedPlans;
    for (const name of ['A2', 'A', 'A2']) expectLogits(await m.forward(ref.ids, { adapter: name }), ref.a.logits, name);
    expect(m.cachedPlans).toBe(plans);
    m.dispose();
  });
});

describe('GGUF adapters (llama.cpp convert_lora_to_gguf)', () => {
  for (const key of ['llama', 'qwen2'] as const) {
    it(`${key}: the GGUF adapter ${key === 'llama' ? '(q/k B rows in RoPE order) ' : ''}equals the same PEFT adapter`, async () => {
      const ref = expected[key];
      const m = await MODELS[key === 'llama' ? 0 : 1][2]();
      await m.loadAdapter('g', lora(`${key}-a.gguf`));
      expect(m.adapterInfo('g').format).toBe('gguf');
      expectLogits(await m.forward(ref.ids, { adapter: 'g' }), ref.a.logits, 'GGUF adapter');
      m.dispose();
    });
  }

  it('GGUF adapter on the GGUF base (Q8_0, Q4_0, Q4_K and F16 blocks): against the dequantised weights plus the adapter, greedy too', async () => {
    const ref = expected.llama;
    const m = await Llama.fromGGUF(engine, bytes('tests/fixtures/llama/llama.gguf'));
    await m.loadAdapter('g', lora('llama-a.gguf'));
    await m.loadAdapter('B', lora('llama-b.safetensors'), loraConfig('llama-b'));
    expectLogits(await m.forward(ref.ids), ref.base, 'packed base');
    expectLogits(await m.forward(ref.ids, { adapter: 'g' }), ref.a.logits, 'packed base + GGUF adapter');
    expectLogits(await m.forward(ref.ids, { adapter: 'B' }), ref.b.logits, 'packed base + PEFT rsLoRA adapter');
    expect(await collect(m.generate(ref.ids, { maxNewTokens: 6, stopTokens: [], adapter: 'g' }))).toEqual(ref.a.greedy);
    await expect(m.mergeAdapter('g')).rejects.toThrow(/packed as q8_0; an adapter merges into f32 or f16 weights only/);
    expect(m.adapters).toEqual(['g', 'B']);
    m.dispose();
  });
});

describe('packed and merged bases', () => {
  it('q4_k base + adapter, unmerged, equals f32 on its rounded weights with the adapter merged (mergeAdapter)', async () => {
    const ref = expected.llama;
    const cfg = llamaFixture.llama.config;
    const src = SafetensorsFile.parse(bytes('tests/fixtures/llama/llama.safetensors'));
    // As the loader packs them: q4_k where rows are whole 256-blocks (down_proj), its 32-weight fallback
    // (fitScheme) for the 128-wide rows, q6_k (or its fallback) for the token table.
    const back = new Map<string, Float32Array>();
    for (const [name, e] of src.entries) {
      if (e.shape.length !== 2) continue;
      const [N, K] = e.shape;
      const scheme = fitScheme(name === 'model.embed_tokens.weight' ? 'q6_k' : 'q4_k', K) ?? 'q4_k';
      const q = await engine.quantize(src.float32(name), { K, N, scheme, layout: 'NK' });
      back.set(name, Float32Array.from(dequantize(await q.read())));
      q.dispose();
    }
    const rounded = await Llama.fromSafetensors(
      engine,
      rewriteSafetensors(src, (name, _s, d) => back.get(name) ?? d),
      cfg,
    );
    const packed = await Llama.fromSafetensors(engine, bytes('tests/fixtures/llama/llama.safetensors'), cfg, { weights: 'q4_k' });
    for (const m of [rounded, packed]) await m.loadAdapter('A', lora('llama-a.safetensors'), loraConfig('llama-a'));
    const unmerged = await packed.forward(ref.ids, { adapter: 'A' });
    const unmergedF32 = await rounded.forward(ref.ids, { adapter: 'A' });
    await rounded.mergeAdapter('A');
    expect(rounded.adapters).toEqual([]);
    const merged = await rounded.forward(ref.ids);
    expectClose(merged, f64(unmergedF32), { atol: 1e-4 * maxAbs(unmergedF32), rtol: 0 }, 'f32: merged against unmerged');
    expectClose(unmerged, f64(merged), { atol: 1e-4 * maxAbs(merged), rtol: 0 }, 'q4_k unmerged against f32 merged, same rounded weights');
    await expect(packed.mergeAdapter('A')).rejects.toThrow(
      /packed as q\d_\d; an adapter merges into f32 or f16 weights only.*Use it unmerged/,
    );
    rounded.dispose();
    packed.dispose();
  });

  it('mergeAdapter on an f32 base gives the merged reference; on f16 weights it stays within f16 rounding', async () => {
    const ref = expected.qwen2;
    const cfg = llamaFixture.qwen2.config;
    const m = await Llama.fromSafetensors(engine, bytes('tests/fixtures/llama/qwen2.safetensors'), cfg);
    await m.loadAdapter('B', lora('qwen2-b.safetensors'), loraConfig('qwen2-b'));
    await m.mergeAdapter('B');
    expectLogits(await m.forward(ref.ids), ref.b.logits, 'merged into f32');
    m.dispose();
    const h = await Llama.fromSafetensors(engine, bytes('tests/fixtures/llama/qwen2.safetensors'), cfg, { weights: 'f16' });
    await h.loadAdapter('B', lora('qwen2-b.safetensors'), loraConfig('qwen2-b'));
    const unmerged = await h.forward(ref.ids, { adapter: 'B' });
    await h.mergeAdapter('B');
    const merged = await h.forward(ref.ids);
    // Merged weights are rounded to f16 once more: a few f16 steps (2^-11 relative) per logit.
    expectClose(merged, f64(unmerged), { atol: 1e-2 * maxAbs(unmerged), rtol: 0 }, 'f16 merged against f16 + adapter');
    h.dispose();
  });
});

describe('load errors', () => {
  const base = () => Llama.fromSafetensors(engine, bytes('tests/fixtures/llama/llama.safetensors'), llamaFixture.llama.config);
  const src = () => SafetensorsFile.parse(lora('llama-a.safetensors'));
  const config = () => JSON.parse(loraConfig('llama-a')) as Record<string, unknown>;

  it('refuses what does not fit, naming the module and shapes, and leaves nothing loaded', async () => {
    const m = await base();
    const ids = expected.llama.ids;
    const cases: [string, () => Promise<void>, RegExp][] = [
      [
        'a rank the tensors do not have',
        () => m.loadAdapter('x', lora('llama-a.safetensors'), { ...config(), r: 5 }),
        /self_attn\.q_proj\.lora_A is \[4, 128\]; rank 5 .*needs \[5, 128\]/,
      ],
      [
        "another model's adapter",
        () => m.loadAdapter('x', lora('qwen2-a.safetensors'), loraConfig('qwen2-a')),
        /lora_A is \[4, 64\].*\[128, 128\] weight needs \[4, 128\]/,
      ],
      ['use_dora', () => m.loadAdapter('x', lora('llama-a.safetensors'), { ...config(), use_dora: true }), /use_dora/],
      [
        'modules_to_save',
        () => m.loadAdapter('x', lora('llama-a.safetensors'), { ...config(), modules_to_save: ['lm_head'] }),
        /modules_to_save \(lm_head\)/,
      ],
      ['bias "all"', () => m.loadAdapter('x', lora('llama-a.safetensors'), { ...config(), bias: 'all' }), /bias 'all'/],
      [
        'target_modules that exclude a module with weights',
        () => m.loadAdapter('x', lora('llama-a.safetensors'), { ...config(), target_modules: ['q_proj'] }),
        /'model\.layers\.0\.self_attn\.k_proj'.*target_modules/,
      ],
      ['no config for a PEFT file', () => m.loadAdapter('x', lora('llama-a.safetensors')), /needs its adapter_config\.json/],
      [
        'a config repeating a key',
        () => m.loadAdapter('x', lora('llama-a.safetensors'), '{"r": 4, "r": 4, "lora_alpha": 8}'),
        /names 'r' twice/,
      ],
      [
        'a GGUF adapter of another architecture',
        () => m.loadAdapter('x', lora('qwen2-a.gguf')),
        /architecture "qwen2", this model is 'llama'/,
      ],
      [
        'a model file instead of an adapter',
        () => m.loadAdapter('x', bytes('tests/fixtures/llama/llama.gguf')),
        /general\.type null, not an adapter/,
      ],
      ['a name in use', () => m.loadAdapter('A', lora('llama-a.safetensors'), config()), /named 'A' is loaded already/],
    ];
    await m.loadAdapter('A', lora('llama-a.safetensors'), config());
    for (const [what, load, msg] of cases) await expect(load(), what).rejects.toThrow(msg);
    expect(m.adapters).toEqual(['A']);
    await expect(m.forward(ids, { adapter: 'nope' })).rejects.toThrow(/no adapter 'nope' is loaded \(loaded: A\)/);
    expect(() => m.unloadAdapter('nope')).toThrow(/no adapter 'nope'/);
    m.dispose();
  });

  it('refuses bad tensors: an unknown module, a missing B, a repeated module, NaN, embedding LoRA, a repeated header key', async () => {
    const m = await base();
    const s = src();
    const names = [...s.entries.keys()];
    const renamed = (from: RegExp, to: string) => {
      const header: Record<string, unknown> = {};
      const parts: Float32Array[] = [];
      let at = 0;
      for (const n of names) {
        const data = s.float32(n);
        header[n.replace(from, to)] = { dtype: 'F32', shape: s.get(n).shape, data_offsets: [at, at + 4 * data.length] };
        parts.push(data);
        at += 4 * data.length;
      }
      const body = new Uint8Array(at);
      let o = 0;
      for (const p of parts) {
        body.set(new Uint8Array(p.buffer), o);
        o += p.byteLength;
      }
      return writeSafetensors(header, body);
    };
    const cfg = config();
    await expect(m.loadAdapter('x', renamed(/layers\.1\.self_attn\.q_proj/, 'layers.7.self_attn.q_proj'), cfg)).rejects.toThrow(
      /adapts module 'model\.layers\.7\.self_attn\.q_proj', which is not a linear layer of this Llama/,
    );
    const noB = rewriteSafetensors(
      s,
      undefined,
      names.filter((n) => !n.endsWith('layers.0.mlp.up_proj.lora_B.weight')),
    );
    await expect(m.loadAdapter('x', noB, cfg)).rejects.toThrow(/module 'model\.layers\.0\.mlp\.up_proj' has lora_A but no lora_B/);
    await expect(
      m.loadAdapter('x', renamed(/layers\.0\.mlp\.up_proj\.lora_A\.weight/, 'layers.0.mlp.up_proj.lora_A.default.weight'), cfg),
    ).resolves.toBeUndefined();
    m.unloadAdapter('x');
    const twice = (() => {
      const header: Record<string, unknown> = {};
      const a = s.float32(names[0]);
      header[names[0]] = { dtype: 'F32', shape: s.get(names[0]).shape, data_offsets: [0, 4 * a.length] };
      header[names[0].replace('.weight', '.default.weight')] = {
        dtype: 'F32',
        shape: s.get(names[0]).shape,
        data_offsets: [4 * a.length, 8 * a.length],
      };
      const body = new Uint8Array(8 * a.length);
      body.set(new Uint8Array(a.buffer), 0);
      body.set(new Uint8Array(a.buffer), 4 * a.length);
      return writeSafetensors(header, body);
    })();
    await expect(m.loadAdapter('x', twice, cfg)).rejects.toThrow(/two lora_A tensors for module/);
    const nan = rewriteSafetensors(s, (n, _sh, d) =>
      n.includes('layers.1.self_attn.o_proj.lora_B') ? d.map((v, i) => (i === 3 ? Number.NaN : v)) : d,
    );
    await expect(m.loadAdapter('x', nan, cfg)).rejects.toThrow(/layers\.1\.self_attn\.o_proj\.lora_B\.weight'.*(NaN|finite)/);
    await expect(m.loadAdapter('x', renamed(/self_attn\.q_proj\.lora_A/, 'embed_tokens.lora_embedding_A'), cfg)).rejects.toThrow(
      /embedding LoRA/,
    );
    const json = `{"${names[0]}": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, "${names[0]}": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}`;
    await expect(m.loadAdapter('x', writeSafetensors(json, new Uint8Array(4)), cfg)).rejects.toThrow(/names '.*' twice/);
    expect(m.adapters).toEqual([]);
    m.dispose();
  });

  it('GPT-2 refuses a GGUF adapter; a model disposed refuses adapters', async () => {
    const m = await GPT2.fromSafetensors(engine, bytes('tests/fixtures/gpt2/tiny-a.safetensors'), gpt2Config);
    await expect(m.loadAdapter('g', lora('llama-a.gguf'))).rejects.toThrow(/architecture "llama", this model is a GPT2/);
    m.dispose();
    await expect(m.loadAdapter('A', lora('gpt2-a.safetensors'), loraConfig('gpt2-a'))).rejects.toThrow(/disposed/);
  });
});

describe('encoders', () => {
  const encoderFixture = JSON.parse(readFileSync('tests/fixtures/encoder/expected.json', 'utf8')) as Record<
    'bert' | 'distilbert',
    { config: EncoderConfig; ids: number[][]; typeIds: number[][]; hidden: number[][] }
  >;
  for (const kind of ['bert', 'distilbert'] as const) {
    it(`${kind}: a PEFT adapter${kind === 'distilbert' ? ' (rsLoRA)' : ''} on a packed batch of odd lengths; base → adapter → base; merged into the weights`, async () => {
      const ref = encoderFixture[kind];
      const enc = await Encoder.fromSafetensors(engine, bytes(`tests/fixtures/encoder/${kind}.safetensors`), ref.config);
      const batch = { ids: ref.ids, typeIds: ref.typeIds };
      await enc.loadAdapter('A', lora(`${kind}-a.safetensors`), loraConfig(`${kind}-a`));
      const check = (got: Float32Array[], want: number[][], what: string) => {
        const all = Float64Array.from(want.flat());
        for (const [i, h] of got.entries())
          expectClose(h, Float64Array.from(want[i]), { atol: 1e-4 * maxAbs(all), rtol: 0 }, `${what} ${i}`);
      };
      check(await enc.forward(batch), ref.hidden, 'base');
      check(await enc.forward(batch, { adapter: 'A' }), expected[kind].hidden, 'adapter');
      check(await enc.forward(batch), ref.hidden, 'base again');
      const pooled = await enc.embed(batch, { adapter: 'A', pooling: 'cls' });
      expect(Array.from(pooled.subarray(0, 32))).toEqual(Array.from((await enc.forward(batch, { adapter: 'A' }))[0].subarray(0, 32)));
      await enc.mergeAdapter('A');
      expect(enc.adapters).toEqual([]);
      check(await enc.forward(batch), expected[kind].hidden, 'merged');
      enc.dispose();
    });
  }
});

describe('the bundled adapters (tools/train_lora.py)', () => {
  it('kjv-llama with its Psalms and Proverbs adapters: the PEFT and GGUF files give the same logits, unlike the base and each other', async () => {
    const dir = 'public/models/kjv-llama';
    const m = await Llama.fromSafetensors(
      engine,
      bytes(`${dir}/model.safetensors`),
      JSON.parse(readFileSync(`${dir}/config.json`, 'utf8')),
    );
    const ids = [464, 262, 3290, 286, 262, 1230].map((i) => i % 1024);
    const base = await m.forward(ids);
    const logits: Record<string, Float32Array> = {};
    for (const book of ['psalms', 'proverbs']) {
      await m.loadAdapter(
        book,
        bytes(`${dir}/lora-${book}/adapter_model.safetensors`),
        readFileSync(`${dir}/lora-${book}/adapter_config.json`, 'utf8'),
      );
      await m.loadAdapter(`${book}.gguf`, bytes(`${dir}/lora-${book}.gguf`));
      const info = m.adapterInfo(book);
      expect([info.rank, info.alpha, info.dtype, info.targetModules.length]).toEqual([16, 32, 'f16', 7]);
      logits[book] = await m.forward(ids, { adapter: book });
      const gguf = await m.forward(ids, { adapter: `${book}.gguf` });
      expectClose(gguf, f64(logits[book]), { atol: 1e-4 * maxAbs(logits[book]), rtol: 0 }, `${book}: GGUF against PEFT`);
    }
    const gap = (a: Float32Array, b: Float32Array) => maxAbs(a.map((x, i) => x - b[i])) / maxAbs(b);
    expect(gap(logits.psalms, base)).toBeGreaterThan(1e-2);
    expect(gap(logits.proverbs, base)).toBeGreaterThan(1e-2);
    expect(gap(logits.psalms, logits.proverbs)).toBeGreaterThan(1e-2);
    m.dispose();
  });
});

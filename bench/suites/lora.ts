// The lora cases of the llama suite: decode ms per token with a LoRA adapter applied unmerged (two
// thin matmuls per adapted layer feeding the base matmul's delta epilogue), against the same base with
// no adapter, on an f16 and a q4_k base, for rank 8, 16 and 64 on q/k/v/o and on every linear layer.
// Each adapter variant times the base and the adapter alternately in one run and reports the ratio
// (info.overBase); the target is rank 16 on all linear layers ≤ 1.10× the base. The switch case:
// a one-token generate() alternating between two adapters of the same shapes (a GPU copy into the
// shared slot, no compile) against one that keeps the same adapter.
import type { Engine, Llama, LlamaConfig } from 'webgpu-nlp';
import { median } from '../measure';
import type { BenchCase, Runner } from './types';

const ATTENTION = ['q_proj', 'k_proj', 'v_proj', 'o_proj'];
const ALL = [...ATTENTION, 'gate_proj', 'up_proj', 'down_proj'];

/** A random PEFT adapter (F32 safetensors bytes and its config) of `rank` on `targets` for `config`. */
export function randomAdapter(config: LlamaConfig, rank: number, targets: string[], seed: number): { bytes: Uint8Array; config: object } {
  const C = config.hidden_size;
  const H = config.num_attention_heads;
  const D = config.head_dim ?? C / H;
  const KV = (config.num_key_value_heads ?? H) * D;
  const I = config.intermediate_size;
  const shapes: Record<string, [number, number]> = {
    q_proj: [H * D, C],
    k_proj: [KV, C],
    v_proj: [KV, C],
    o_proj: [C, H * D],
    gate_proj: [I, C],
    up_proj: [I, C],
    down_proj: [C, I],
  };
  let s = seed >>> 0;
  const noise = (n: number, scale: number) =>
    Float32Array.from({ length: n }, () => {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      return (s / 2 ** 31 - 1) * scale;
    });
  const header: Record<string, unknown> = {};
  const parts: Float32Array[] = [];
  let at = 0;
  const add = (name: string, shape: [number, number], data: Float32Array) => {
    header[name] = { dtype: 'F32', shape, data_offsets: [at, at + 4 * data.length] };
    parts.push(data);
    at += 4 * data.length;
  };
  for (let i = 0; i < config.num_hidden_layers; i++) {
    for (const t of targets) {
      const [out, inp] = shapes[t];
      const m = `base_model.model.model.layers.${i}.${ATTENTION.includes(t) ? 'self_attn' : 'mlp'}.${t}`;
      add(`${m}.lora_A.weight`, [rank, inp], noise(rank * inp, 1 / Math.sqrt(inp)));
      add(`${m}.lora_B.weight`, [out, rank], noise(out * rank, 0.01));
    }
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const pad = (8 - (json.length % 8)) % 8;
  const bytes = new Uint8Array(8 + json.length + pad + at);
  new DataView(bytes.buffer).setUint32(0, json.length + pad, true);
  bytes.set(json, 8);
  bytes.fill(0x20, 8 + json.length, 8 + json.length + pad);
  let o = 8 + json.length + pad;
  for (const p of parts) {
    bytes.set(new Uint8Array(p.buffer), o);
    o += p.byteLength;
  }
  return { bytes, config: { peft_type: 'LORA', r: rank, lora_alpha: 2 * rank, target_modules: targets, bias: 'none' } };
}

async function steps(m: Llama, ids: number[], n: number, adapter: string | null): Promise<number> {
  m.resetCache(); // every run prefills the same prompt: no KV reuse between the alternating calls
  for await (const _ of m.generate(ids, { maxNewTokens: n + 1, stopTokens: [], adapter })) void _;
  return median(m.lastGeneration.steps.map((x) => x.totalMs));
}

/** `base` ms per decode step against the same model with adapter `name`, alternately, in one run. */
function adapterRunner(m: Llama, name: string | null, n: number): Runner {
  const ids = Array.from({ length: 16 }, (_, i) => (i * 7919) % 97);
  const runner: Runner = {
    async run() {
      const base = await steps(m, ids, n, null);
      const ms = name ? await steps(m, ids, n, name) : base;
      runner.info = { baseMs: base, overBase: ms / base, ...(name ? { adapterMB: m.adapterInfo(name).byteLength / 1e6 } : {}) };
      return ms;
    },
    dispose() {
      if (name && m.adapters.includes(name)) m.unloadAdapter(name);
    },
  };
  return runner;
}

/**
 * The lora cases for `config` (a name for the table), on models from `model(engine, weights)` (the
 * suite's cache of random-weight models).
 */
export function loraCases(
  config: LlamaConfig,
  name: string,
  model: (engine: Engine, weights: 'f16' | 'q4_k') => Promise<Llama>,
  quick: boolean,
): BenchCase[] {
  const n = quick ? 4 : 8;
  const ranks = [8, 16, 64];
  const cases: BenchCase[] = (['f16', 'q4_k'] as const).map((weights) => ({
    kernel: `${name} lora decode (${weights} base)`,
    size: 'lora pos 16..',
    tokens: 1,
    flops: 0,
    bytes: 0,
    variants: [
      { name: 'ours', setup: async ({ engine }) => adapterRunner(await model(engine, weights), null, n) },
      ...ranks.flatMap((r) =>
        [
          ['qkvo', ATTENTION],
          ['all', ALL],
        ].map(([where, targets]) => ({
          name: `r${r} ${where}`,
          async setup({ engine }: { engine: Engine }) {
            const m = await model(engine, weights);
            const a = randomAdapter(config, r, targets as string[], r * 31 + targets.length);
            const label = `bench r${r} ${where}`;
            await m.loadAdapter(label, a.bytes, a.config, { dtype: 'f16' }); // as trained adapters ship (F16)
            return adapterRunner(m, label, n);
          },
        })),
      ),
    ],
  }));
  const prompt = Array.from({ length: 8 }, (_, i) => (i * 131) % 97);
  const switching =
    (alternate: boolean) =>
    async ({ engine }: { engine: Engine }): Promise<Runner> => {
      const m = await model(engine, 'q4_k');
      const a = randomAdapter(config, 16, ALL, 1);
      const b = randomAdapter(config, 16, ALL, 2);
      for (const [label, x] of [
        ['switch A', a],
        ['switch B', b],
      ] as const)
        if (!m.adapters.includes(label)) await m.loadAdapter(label, x.bytes, x.config, { dtype: 'f16' });
      let turn = 0;
      return {
        async run() {
          const t0 = performance.now();
          m.resetCache();
          for await (const _ of m.generate(prompt, { maxNewTokens: 1, adapter: alternate && turn++ % 2 ? 'switch B' : 'switch A' })) void _;
          return performance.now() - t0;
        },
        dispose() {
          for (const label of ['switch A', 'switch B']) if (m.adapters.includes(label)) m.unloadAdapter(label);
        },
      };
    };
  cases.push({
    kernel: `${name} lora switch (q4_k base, r16 all)`,
    size: 'lora switch T=8',
    tokens: 1,
    flops: 0,
    bytes: 0,
    variants: [
      { name: 'ours', setup: switching(true) },
      { name: 'same adapter', setup: switching(false) },
    ],
  });
  return cases;
}

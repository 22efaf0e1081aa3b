// GPT-2 with random weights of the real shapes (124M; a tiny config in --quick runs): prefill
// tokens/s at T = 128 (prompt in, first token out), and decode ms per token with the CPU time spent
// encoding and submitting each step.
import { GPT2, GPT2_SMALL, type Engine, type GPT2Config } from 'webgpu-nlp';
import { noise } from './plan-runner';
import type { BenchCase, Runner, Suite } from './types';

const TINY: GPT2Config = { n_layer: 2, n_head: 4, n_embd: 128, vocab_size: 1000, n_positions: 256, layer_norm_epsilon: 1e-5 };

/** A safetensors file in memory holding random GPT-2 weights for `config`. */
export function randomCheckpoint(c: GPT2Config): Uint8Array {
  const C = c.n_embd;
  const shapes: [string, number[]][] = [['wte.weight', [c.vocab_size, C]], ['wpe.weight', [c.n_positions, C]], ['ln_f.weight', [C]], ['ln_f.bias', [C]]];
  for (let i = 0; i < c.n_layer; i++) {
    const p = `h.${i}.`;
    shapes.push(
      [p + 'ln_1.weight', [C]], [p + 'ln_1.bias', [C]], [p + 'attn.c_attn.weight', [C, 3 * C]], [p + 'attn.c_attn.bias', [3 * C]],
      [p + 'attn.c_proj.weight', [C, C]], [p + 'attn.c_proj.bias', [C]], [p + 'ln_2.weight', [C]], [p + 'ln_2.bias', [C]],
      [p + 'mlp.c_fc.weight', [C, 4 * C]], [p + 'mlp.c_fc.bias', [4 * C]], [p + 'mlp.c_proj.weight', [4 * C, C]], [p + 'mlp.c_proj.bias', [C]],
    );
  }
  const header: Record<string, unknown> = {};
  let offset = 0;
  for (const [name, shape] of shapes) {
    const bytes = shape.reduce((a, b) => a * b, 1) * 4;
    header[name] = { dtype: 'F32', shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setUint32(0, json.length, true);
  out.set(new TextEncoder().encode(json), 8);
  const floats = new Float32Array(out.buffer, 8 + json.length, offset / 4);
  floats.set(noise(floats.length, 7, 0.05));
  return out;
}

const models = new Map<string, Promise<GPT2>>();
function model(engine: Engine, config: GPT2Config, weights: 'f32' | 'int8' = 'f32'): Promise<GPT2> {
  const key = JSON.stringify(config) + weights;
  const cached = models.get(key);
  if (cached) return cached;
  const m = GPT2.fromSafetensors(engine, randomCheckpoint(config), config, { weights });
  models.set(key, m);
  return m;
}

function prompt(n: number, vocab: number): number[] {
  return Array.from({ length: n }, (_, i) => (i * 7919) % vocab);
}

async function prefillRunner(engine: Engine, config: GPT2Config, T: number): Promise<Runner> {
  const gpt = await model(engine, config);
  const ids = prompt(T, config.vocab_size);
  return {
    async run() {
      for await (const _ of gpt.generate(ids, { maxNewTokens: 1 })) void _;
      return gpt.lastGeneration.prefillMs;
    },
    dispose() {},
  };
}

async function decodeRunner(engine: Engine, config: GPT2Config, steps: number, weights: 'f32' | 'int8' = 'f32'): Promise<Runner> {
  const gpt = await model(engine, config, weights);
  const ids = prompt(16, config.vocab_size);
  const runner: Runner = {
    async run() {
      for await (const _ of gpt.generate(ids, { maxNewTokens: steps + 1 })) void _;
      const s = gpt.lastGeneration.steps;
      const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
      runner.info = { cpuMsPerStep: med(s.map((x) => x.cpuMs)), tokensPerSecond: 1000 / med(s.map((x) => x.totalMs)), weightBytes: gpt.memoryBytes().weights };
      return med(s.map((x) => x.totalMs));
    },
    dispose() {},
  };
  return runner;
}

function paramsOf(c: GPT2Config): number {
  const C = c.n_embd;
  return c.n_layer * 12 * C * C + c.vocab_size * C;
}

export const gpt2Suite: Suite = {
  name: 'gpt2',
  description: 'GPT-2 (random weights, real shapes): prefill tokens/s and decode ms per token',
  cases({ quick }) {
    const config = quick ? TINY : GPT2_SMALL;
    const name = quick ? 'gpt2-tiny' : 'gpt2-124M';
    const T = quick ? 32 : 128;
    const cases: BenchCase[] = [
      {
        kernel: `${name} prefill`,
        size: `T=${T}`,
        flops: 2 * paramsOf(config) * T,
        bytes: 4 * paramsOf(config),
        variants: [{ name: 'ours', setup: ({ engine }) => prefillRunner(engine, config, T) }],
      },
      {
        kernel: `${name} decode step`,
        size: 'pos 16..',
        flops: 2 * paramsOf(config),
        bytes: 4 * paramsOf(config),
        variants: [
          { name: 'ours', setup: ({ engine }) => decodeRunner(engine, config, quick ? 4 : 6) },
          { name: 'int8', setup: ({ engine }) => decodeRunner(engine, config, quick ? 4 : 6, 'int8') },
        ],
      },
    ];
    return cases;
  },
};

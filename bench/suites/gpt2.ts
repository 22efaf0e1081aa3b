// GPT-2 with random weights of the real shapes (124M; a tiny config in --quick runs): prefill
// tokens/s at T = 128 (prompt in, first token out), and decode ms per token in f32 and every packed
// weight format, with the CPU time spent encoding and submitting each step and the weight bytes.
import { GPT2, GPT2_SMALL, randomGPT2Checkpoint, type Engine, type GPT2Config, type GPT2Weights } from 'webgpu-nlp';
import { median } from '../measure';
import { decodeStepBytes } from '../roofline';
import { modelCache } from './plan-runner';
import type { BenchCase, Runner, Suite } from './types';

const TINY: GPT2Config = { n_layer: 2, n_head: 4, n_embd: 128, vocab_size: 1000, n_positions: 256, layer_norm_epsilon: 1e-5 };

/** f32, or a packed format for the linear layers and (+wte) the token table too (embedding + lm_head). */
type Weights = 'f32' | `${Exclude<GPT2Weights, 'f32' | 'bf16'>}${'' | '+wte'}`;
const PACKED: Weights[] = ['f16+wte', 'int8', 'int8+wte', 'q4_0+wte', 'q4_k', 'q4_k+wte'];

// One model per config and format, reused by the cases; dropped (and freed) when the engine changes.
const models = modelCache<GPT2>();
function model(engine: Engine, config: GPT2Config, weights: Weights = 'f32'): Promise<GPT2> {
  const [format, wte] = weights.split('+');
  return models(engine, JSON.stringify(config) + weights, () =>
    GPT2.fromSafetensors(engine, randomGPT2Checkpoint(config), config, { weights: format as GPT2Weights, quantizeEmbedding: !!wte }),
  );
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

async function decodeRunner(engine: Engine, config: GPT2Config, steps: number, weights: Weights = 'f32'): Promise<Runner> {
  const gpt = await model(engine, config, weights);
  const ids = prompt(16, config.vocab_size);
  const runner: Runner = {
    async run() {
      for await (const _ of gpt.generate(ids, { maxNewTokens: steps + 1 })) void _;
      const s = gpt.lastGeneration.steps;
      const mem = gpt.memoryBytes();
      runner.info = {
        cpuMsPerStep: median(s.map((x) => x.cpuMs)),
        tokensPerSecond: 1000 / median(s.map((x) => x.totalMs)),
        weightBytes: mem.weights,
        // The median step's position: the prompt plus half the steps.
        minBytes: decodeStepBytes(mem.weights, mem.kvCache, config.n_positions, ids.length + steps / 2),
      };
      return median(s.map((x) => x.totalMs));
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
        tokens: T,
        flops: 2 * paramsOf(config) * T,
        bytes: 4 * paramsOf(config),
        variants: [{ name: 'ours', setup: ({ engine }) => prefillRunner(engine, config, T) }],
      },
      {
        kernel: `${name} decode step`,
        size: 'pos 16..',
        tokens: 1,
        flops: 2 * paramsOf(config),
        bytes: 4 * paramsOf(config),
        variants: [
          { name: 'ours', setup: ({ engine }) => decodeRunner(engine, config, quick ? 4 : 6) },
          ...PACKED.map((w) => ({ name: w, setup: ({ engine }: { engine: Engine }) => decodeRunner(engine, config, quick ? 4 : 6, w) })),
        ],
      },
    ];
    return cases;
  },
};

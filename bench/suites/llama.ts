// Llama-family decoding with random weights at a real model's shapes: SmolLM2-135M (30 layers, hidden
// 576, 9 heads on 3 KV heads, MLP 1536, vocabulary 49152, tied embeddings; a tiny config in --quick
// runs). Prefill tokens/s, and decode ms per token with the weight bytes for each weight format; and the
// chat case (chat.ts): KV-cache reuse between turns, warmup() against a cold start, memory over 100 turns;
// the lora cases (lora.ts): decode with LoRA adapters unmerged against the base, and the switch time.
import { Llama, type Engine, type LlamaConfig, type LlamaOptions } from 'webgpu-nlp';
import { median } from '../measure';
import { decodeStepBytes } from '../roofline';
import { chatCase } from './chat';
import { loraCases } from './lora';
import { modelCache } from './plan-runner';
import type { BenchCase, Runner, Suite } from './types';

export const SMOLLM2_135M: LlamaConfig = {
  model_type: 'llama',
  vocab_size: 49152,
  hidden_size: 576,
  intermediate_size: 1536,
  num_hidden_layers: 30,
  num_attention_heads: 9,
  num_key_value_heads: 3,
  rms_norm_eps: 1e-5,
  rope_theta: 100000,
  max_position_embeddings: 2048,
  tie_word_embeddings: true,
};

const TINY: LlamaConfig = {
  ...SMOLLM2_135M,
  vocab_size: 1000,
  hidden_size: 128,
  intermediate_size: 256,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
};

type Weights = NonNullable<LlamaOptions['weights']>;
const FORMATS: Weights[] = ['f32', 'f16', 'int8', 'q4_0', 'q4_k'];

// One model per format, reused by the cases; replaced (and freed) when the engine changes.
const models = modelCache<Llama>();
const MAX_LENGTH = 256;
function model(engine: Engine, config: LlamaConfig, weights: Weights): Promise<Llama> {
  return models(engine, JSON.stringify(config) + weights, () => Llama.random(engine, config, { weights, maxLength: MAX_LENGTH }));
}

const prompt = (n: number, vocab: number) => Array.from({ length: n }, (_, i) => (i * 7919) % vocab);

function params(c: LlamaConfig): number {
  const C = c.hidden_size;
  const D = C / c.num_attention_heads;
  const kv = (c.num_key_value_heads ?? c.num_attention_heads) * D;
  return c.num_hidden_layers * (2 * C * C + 2 * C * kv + 3 * C * c.intermediate_size) + c.vocab_size * C;
}

async function decodeRunner(engine: Engine, config: LlamaConfig, weights: Weights, steps: number): Promise<Runner> {
  const m = await model(engine, config, weights);
  const ids = prompt(16, config.vocab_size);
  const runner: Runner = {
    async run() {
      for await (const _ of m.generate(ids, { maxNewTokens: steps + 1, stopTokens: [] })) void _;
      const s = m.lastGeneration.steps;
      const mem = m.memoryBytes();
      runner.info = {
        cpuMsPerStep: median(s.map((x) => x.cpuMs)),
        weightMB: mem.weights / 1e6,
        // The median step's position: the prompt plus half the steps.
        minBytes: decodeStepBytes(mem.weights, mem.kvCache, MAX_LENGTH, ids.length + steps / 2),
      };
      return median(s.map((x) => x.totalMs));
    },
    dispose() {},
  };
  return runner;
}

export const llamaSuite: Suite = {
  name: 'llama',
  description: 'SmolLM2-135M-shaped Llama (random weights): prefill tokens/s, decode ms per token and weight MB per format',
  cases({ quick }) {
    const config = quick ? TINY : SMOLLM2_135M;
    const name = quick ? 'llama-tiny' : 'smollm2-135M';
    const T = quick ? 32 : 128;
    const cases: BenchCase[] = [
      {
        kernel: `${name} prefill`,
        size: `T=${T}`,
        tokens: T,
        flops: 2 * params(config) * T,
        bytes: 2 * params(config),
        variants: [
          {
            name: 'ours',
            async setup({ engine }) {
              const m = await model(engine, config, 'f16');
              const ids = prompt(T, config.vocab_size);
              return {
                async run() {
                  for await (const _ of m.generate(ids, { maxNewTokens: 1 })) void _;
                  return m.lastGeneration.prefillMs;
                },
                dispose() {},
              };
            },
          },
        ],
      },
      {
        kernel: `${name} decode step`,
        size: 'pos 16..',
        tokens: 1,
        flops: 2 * params(config),
        bytes: 2 * params(config),
        variants: [
          { name: 'ours', setup: ({ engine }) => decodeRunner(engine, config, 'f16', quick ? 4 : 6) },
          ...FORMATS.filter((w) => w !== 'f16').map((w) => ({
            name: w,
            setup: ({ engine }: { engine: Engine }) => decodeRunner(engine, config, w, quick ? 4 : 6),
          })),
        ],
      },
      chatCase(config, name),
      ...loraCases(config, name, (engine, w) => model(engine, config, w), quick),
    ];
    return cases;
  },
};

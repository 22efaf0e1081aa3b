// Encoders with random weights at all-MiniLM-L6-v2's shapes (BERT: 6 layers, hidden 384, 12 heads,
// MLP 1536, vocabulary 30522; a tiny config in --quick runs): tokens/s of Encoder.forward (packed
// batch in, last hidden states read back) at batch 1 × 16 tokens (latency) and 32 × 128 (throughput)
// per weight format, and one packed batch of lengths skewed like real text against the same sequences
// padded to the longest (the compute a padded batch spends; tokens/s counts real tokens in both).
import { Encoder, randomBertCheckpoint, type EncoderConfig, type EncoderOptions, type Engine } from 'webgpu-nlp';
import { modelCache } from './plan-runner';
import type { BenchCase, Runner, Suite } from './types';

export const MINILM_L6: EncoderConfig = {
  model_type: 'bert',
  vocab_size: 30522,
  hidden_size: 384,
  num_hidden_layers: 6,
  num_attention_heads: 12,
  intermediate_size: 1536,
  hidden_act: 'gelu',
  max_position_embeddings: 512,
  type_vocab_size: 2,
  layer_norm_eps: 1e-12,
};

const TINY: EncoderConfig = {
  ...MINILM_L6,
  vocab_size: 1000,
  hidden_size: 128,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  intermediate_size: 512,
};

type Weights = NonNullable<EncoderOptions['weights']>;
const FORMATS: Weights[] = ['f32', 'f16', 'int8'];

// One model per (config, format), reused by the cases; replaced (and freed) when the engine changes.
const models = modelCache<Encoder>();
function model(engine: Engine, config: EncoderConfig, weights: Weights): Promise<Encoder> {
  return models(engine, JSON.stringify(config) + weights, () =>
    Encoder.fromSafetensors(engine, randomBertCheckpoint(config), config, { weights }),
  );
}

/** `lengths.length` sequences of those lengths: [CLS], words, [SEP] (ids below the vocabulary). */
function batchOf(lengths: number[], vocab: number): number[][] {
  return lengths.map((n, b) => Array.from({ length: n }, (_, i) => (i === 0 ? 101 % vocab : (b * 131 + i * 7919) % vocab)));
}

/** Lengths skewed like sentences of real text: many short, a few long (deterministic). */
function skewed(count: number, max: number): number[] {
  return Array.from({ length: count }, (_, i) =>
    Math.max(4, Math.min(max, Math.round(max * 0.08 * Math.exp(((i * 37) % count) / (count / 2.5))))),
  );
}

/** Non-embedding parameters, for a FLOP estimate of 2 · params per token (attention's share left out). */
function params(c: EncoderConfig): number {
  const C = c.hidden_size!;
  return c.num_hidden_layers! * (4 * C * C + 2 * C * c.intermediate_size!);
}

function runner(engine: Engine, config: EncoderConfig, weights: Weights, batch: number[][]): Promise<Runner> {
  return model(engine, config, weights).then((m) => ({
    async run() {
      await m.forward(batch);
    },
    dispose() {},
  }));
}

export const bertSuite: Suite = {
  name: 'bert',
  description: 'all-MiniLM-L6-v2-shaped BERT (random weights): tokens/s at 1 × 16 and 32 × 128 per weight format; packed against padded',
  cases({ quick }) {
    const config = quick ? TINY : MINILM_L6;
    const name = quick ? 'bert-tiny' : 'minilm-L6';
    const V = config.vocab_size;
    const shapes: [number, number][] = quick
      ? [
          [1, 16],
          [4, 32],
        ]
      : [
          [1, 16],
          [32, 128],
        ];
    const cases: BenchCase[] = shapes.map(([B, T]) => ({
      kernel: `${name} forward`,
      size: `${B}x${T}`,
      tokens: B * T,
      flops: 2 * params(config) * B * T,
      bytes: 2 * params(config),
      variants: FORMATS.map((w, i) => ({
        name: i === 0 ? 'ours' : w,
        setup: ({ engine }: { engine: Engine }) => runner(engine, config, w, batchOf(Array(B).fill(T), V)),
      })),
    }));
    const lengths = skewed(quick ? 8 : 32, quick ? 32 : 128);
    const real = lengths.reduce((a, b) => a + b, 0);
    const longest = Math.max(...lengths);
    cases.push({
      kernel: `${name} skewed lengths`,
      size: `${lengths.length} seqs, ${real} tokens`,
      tokens: real,
      flops: 2 * params(config) * real,
      bytes: 2 * params(config),
      variants: [
        { name: 'ours', setup: ({ engine }) => runner(engine, config, 'f32', batchOf(lengths, V)) },
        { name: 'padded', setup: ({ engine }) => runner(engine, config, 'f32', batchOf(Array(lengths.length).fill(longest), V)) },
      ],
    });
    return cases;
  },
};

// Encoders with random weights at all-MiniLM-L6-v2's shapes (BERT: 6 layers, hidden 384, 12 heads,
// MLP 1536, vocabulary 30522; a tiny config in --quick runs): tokens/s of Encoder.forward (packed
// batch in, last hidden states read back) at batch 1 × 16 tokens (latency) and 32 × 128 (throughput)
// per weight format, and one packed batch of lengths skewed like real text against the same sequences
// padded to the longest (the compute a padded batch spends; tokens/s counts real tokens in both).
import { Encoder, randomBertCheckpoint, type EncoderConfig, type EncoderOptions, type Engine } from 'webgpu-nlp';
import { ortProviders } from '../peers/ort';
import { modelCache } from './plan-runner';
import type { BenchCase, BenchContext, Runner, Suite, Variant } from './types';

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

/** tools/make_bert_onnx.py's file `name` from the served bench/.cache (null when the page has no models URL). */
async function cached(ctx: BenchContext, name: string): Promise<Uint8Array | null> {
  if (!ctx.models) return null;
  const res = await fetch(new URL(name, ctx.models)).catch(() => null);
  if (!res?.ok)
    throw new Error(`${name} missing: run /usr/bin/python3 tools/make_bert_onnx.py, then npm run bench:browser (it serves bench/.cache)`);
  return new Uint8Array(await res.arrayBuffer());
}

/**
 * The same random model (make_bert_onnx.py's, f32) through Encoder and through onnxruntime-web as
 * transformers.js runs a feature-extraction model: a padded [B, T] batch with its attention mask and
 * token types in, last_hidden_state read back to the CPU. Both read the hidden states back; ours is
 * checked against float64 PyTorch elsewhere, ORT's output against ours before timing.
 */
function ortCase(name: string, config: EncoderConfig, B: number, T: number): BenchCase {
  const batch = batchOf(Array(B).fill(T), config.vocab_size);
  const mine: Variant = {
    name: 'ours',
    async setup(ctx): Promise<Runner | null> {
      const bytes = ctx.ort ? await cached(ctx, `${name}-random.safetensors`) : null;
      if (!bytes) return null;
      const m = await Encoder.fromSafetensors(ctx.engine, bytes, config, { weights: 'f32' });
      return {
        run: () => m.forward(batch),
        async output() {
          const h = await m.forward(batch);
          const out = new Float32Array(h.reduce((n, x) => n + x.length, 0));
          let at = 0;
          for (const x of h) {
            out.set(x, at);
            at += x.length;
          }
          return out;
        },
        dispose: () => m.dispose(),
      };
    },
  };
  const peer: Variant = {
    name: 'ort',
    async setup(ctx): Promise<Runner | null> {
      const o = ctx.ort;
      const bytes = o ? await cached(ctx, `${name}-random.onnx`) : null;
      if (!o || !bytes) return null;
      const session = await o.InferenceSession.create(bytes, { executionProviders: ortProviders() });
      const long = (f: (b: number, t: number) => number) =>
        new o.Tensor(
          'int64',
          BigInt64Array.from({ length: B * T }, (_, i) => BigInt(f(Math.floor(i / T), i % T))),
          [B, T],
        );
      const feeds = { input_ids: long((b, t) => batch[b][t]), attention_mask: long(() => 1), token_type_ids: long(() => 0) };
      const forward = async () => {
        const out = await session.run(feeds);
        const h = (await out.last_hidden_state.getData(true)) as Float32Array;
        return h;
      };
      return { run: forward, output: forward, dispose: () => void session.release() };
    },
  };
  const p = params(config) + config.vocab_size * config.hidden_size!;
  return {
    kernel: `${name} forward (vs ORT)`,
    size: `${B}x${T}`,
    tokens: B * T,
    flops: 2 * params(config) * B * T,
    bytes: 4 * p,
    tolerance: 1e-3,
    interleave: true,
    variants: [mine, peer],
  };
}

export const bertSuite: Suite = {
  name: 'bert',
  description:
    'all-MiniLM-L6-v2-shaped BERT (random weights): tokens/s at 1 × 16 and 32 × 128 per weight format; packed against padded; beside onnxruntime-web on the same model (tools/make_bert_onnx.py)',
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
    // Beside onnxruntime-web (browser runs with make_bert_onnx.py's files served; skipped elsewhere).
    for (const [B, T] of shapes) cases.push(ortCase(name, config, B, T));
    return cases;
  },
};

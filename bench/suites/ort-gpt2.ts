// GPT-2 124M (random weights, the same on both sides) against onnxruntime-web: prefill of 32 tokens
// and a greedy decode step with the KV cache kept on the GPU by both (ORT: outputs in 'gpu-buffer'
// fed back as the next step's past). The files come from tools/make_gpt2_onnx.py (bench/.cache/,
// never committed), served to the page by `npm run bench:browser` (the page's `models` parameter).
// Checked before timing: ORT's logits against ours, ours being tested against PyTorch float64.
import { GPT2, GPT2_SMALL } from 'webgpu-nlp';
import type * as OrtModule from 'onnxruntime-web/webgpu';
import { ortProviders } from '../peers/ort';
import type { BenchCase, BenchContext, Runner, Variant } from './types';

const T = 32;
const STEPS = 4;
const LAYERS = GPT2_SMALL.n_layer;
const ids = Array.from({ length: T }, (_, i) => (i * 7919 + 13) % GPT2_SMALL.vocab_size);

async function fetchModel(ctx: BenchContext, file: string): Promise<Uint8Array> {
  const missing = `GPT-2 files missing: run /usr/bin/python3 tools/make_gpt2_onnx.py, then npm run bench:browser (it serves bench/.cache)`;
  if (!ctx.models) throw new Error(missing);
  const res = await fetch(new URL(file, ctx.models)).catch(() => null);
  if (!res?.ok) throw new Error(missing);
  return new Uint8Array(await res.arrayBuffer());
}

const argmax = (x: Float32Array, from = 0) => {
  let best = from;
  for (let i = from; i < x.length; i++) if (x[i] > x[best]) best = i;
  return best - from;
};

function ours(kind: 'prefill' | 'decode'): Variant {
  return {
    name: 'ours',
    async setup(ctx): Promise<Runner> {
      const gpt = await GPT2.fromSafetensors(ctx.engine, await fetchModel(ctx, 'gpt2-random.safetensors'), GPT2_SMALL);
      const greedy = { temperature: 0 };
      return {
        async run() {
          const t0 = performance.now();
          for await (const _ of gpt.generate(ids, { ...greedy, maxNewTokens: kind === 'prefill' ? 1 : STEPS + 1 })) void _;
          if (kind === 'prefill') return performance.now() - t0; // prompt in, first token id out
          const steps = gpt.lastGeneration.steps;
          return steps.reduce((s, x) => s + x.totalMs, 0) / steps.length;
        },
        // prefill: every position's logits; decode: the logits after the first greedy token
        async output() {
          const logits = await gpt.forward(ids);
          if (kind === 'prefill') return logits;
          const next = argmax(logits.subarray((T - 1) * GPT2_SMALL.vocab_size));
          const after = await gpt.forward([...ids, next]);
          return after.slice(T * GPT2_SMALL.vocab_size);
        },
        dispose: () => gpt.dispose(),
      };
    },
  };
}

function ort(kind: 'prefill' | 'decode'): Variant {
  return {
    name: 'ort',
    async setup(ctx): Promise<Runner | null> {
      const o = ctx.ort;
      if (!o) return null;
      const session = await o.InferenceSession.create(await fetchModel(ctx, 'gpt2-random.onnx'), {
        executionProviders: ortProviders(),
        preferredOutputLocation: 'gpu-buffer',
      });
      const V = GPT2_SMALL.vocab_size;
      type Tensor = OrtModule.Tensor;
      const empty = () =>
        Object.fromEntries(
          session.inputNames.filter((n) => n !== 'input_ids').map((n) => [n, new o.Tensor('float32', new Float32Array(0), [1, 12, 0, 64])]),
        );
      const tokens = (xs: number[]) => new o.Tensor('int64', BigInt64Array.from(xs.map(BigInt)), [1, xs.length]);
      /** One run: logits back on the CPU, the presents left on the GPU as the next past. */
      const step = async (xs: number[], past: Record<string, Tensor>) => {
        const out = await session.run({ input_ids: tokens(xs), ...past });
        const logits = (await out.logits.getData(true)) as Float32Array;
        const next: Record<string, Tensor> = {};
        for (let i = 0; i < LAYERS; i++) for (const kv of ['key', 'value']) next[`past_${kv}_${i}`] = out[`present_${kv}_${i}`];
        return { logits, next };
      };
      const release = (past: Record<string, Tensor>) => {
        for (const t of Object.values(past)) t.dispose();
      };
      return {
        async run() {
          if (kind === 'prefill') {
            const t0 = performance.now();
            const { logits, next } = await step(ids, empty());
            argmax(logits, (T - 1) * V);
            const ms = performance.now() - t0;
            release(next);
            return ms;
          }
          let { logits, next: past } = await step(ids, empty());
          let token = argmax(logits, (T - 1) * V);
          const t0 = performance.now();
          for (let s = 0; s < STEPS; s++) {
            const r = await step([token], past);
            release(past);
            past = r.next;
            token = argmax(r.logits);
            logits = r.logits;
          }
          release(past);
          return (performance.now() - t0) / STEPS;
        },
        async output() {
          const first = await step(ids, empty());
          if (kind === 'prefill') {
            release(first.next);
            return first.logits;
          }
          const second = await step([argmax(first.logits, (T - 1) * V)], first.next);
          release(first.next);
          release(second.next);
          return second.logits;
        },
        dispose: () => void session.release(),
      };
    },
  };
}

/** GPT-2 124M prefill and decode beside ORT (full-size runs only: ORT takes seconds per token on a CPU adapter). */
export function gpt2OrtCases(): BenchCase[] {
  const params = GPT2_SMALL.n_layer * 12 * GPT2_SMALL.n_embd ** 2 + GPT2_SMALL.vocab_size * GPT2_SMALL.n_embd;
  const common = { bytes: 4 * params, tolerance: 1e-3, interleave: true };
  return [
    {
      kernel: 'GPT-2 124M prefill (vs ORT)',
      size: `T=${T}`,
      tokens: T,
      flops: 2 * params * T,
      ...common,
      variants: [ours('prefill'), ort('prefill')],
    },
    {
      kernel: 'GPT-2 124M decode step (vs ORT)',
      size: `pos ${T}..`,
      tokens: 1,
      flops: 2 * params,
      ...common,
      variants: [ours('decode'), ort('decode')],
    },
  ];
}

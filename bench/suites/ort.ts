// Side by side with onnxruntime-web on the same adapter, in the same page: matmul (ORT MatMul),
// causal attention (ORT's flash GroupQueryAttention, MultiHeadAttention with the mask as an additive
// bias, and the unfused MatMul → Softmax → MatMul graph of a model exported without those ops), layer
// norm and softmax. Both engines are timed the way an app calls them: inputs
// from CPU arrays, outputs read back to the CPU, their repetitions interleaved. Before any timing each variant's output, ours
// included, is compared with the float64 result computed here (max error 1e-3 of the largest |value|);
// a variant that disagrees is reported wrong, not timed. The attention cases also report each right
// variant's max |output − float64| (in units of 1e-7), ORT's flash attention beside ours.
import type { Engine, Plan } from 'webgpu-nlp';
import { type Ort, type OrtModel, ortSession, ortTensor } from '../peers/ort';
import { gpt2OrtCases } from './ort-gpt2';
import { noise } from './plan-runner';
import type { BenchCase, BenchContext, Runner, Suite, Variant } from './types';

const H = 12;
const D = 64;
const TOLERANCE = 1e-3;

type Feeds = Record<string, Float32Array>;

/** Ours: a plan whose inputs are fed from CPU arrays on every run and whose output `y` is read back. */
async function oursRunner(
  engine: Engine,
  build: (g: ReturnType<Engine['graph']>) => ReturnType<ReturnType<Engine['graph']>['input']>,
  feeds: Feeds,
): Promise<Runner> {
  const g = engine.graph('bench ort-side');
  const plan: Plan = await g.compile({ y: build(g) });
  return {
    run: () => plan.run(feeds),
    output: async () => (await plan.run(feeds)).y as Float32Array,
    dispose: () => plan.dispose(),
  };
}

/**
 * ORT: a session over one of the bench's ONNX graphs; `toOurs` maps its output to our layout (for the
 * check only). Outputs other than the first stay on the GPU (`gpuOutputs`), as an app would keep them.
 */
function ortVariant(
  name: string,
  model: OrtModel,
  feeds: () => Record<string, { data: Float32Array | Int32Array; dims: number[] }>,
  toOurs: (y: Float32Array) => Float32Array = (y) => y,
  gpuOutputs: string[] = [],
): Variant {
  return {
    name,
    async setup(ctx): Promise<Runner | null> {
      const ort: Ort | null = ctx.ort ?? null;
      if (!ort) return null;
      const session = await ortSession(ort, model, gpuOutputs);
      const inputs = Object.fromEntries(
        Object.entries(feeds()).map(([k, v]) => [
          k,
          v.data instanceof Int32Array ? new ort.Tensor('int32', v.data, v.dims) : ortTensor(ort, v.data, v.dims),
        ]),
      );
      const out = session.outputNames[0];
      const once = async () => {
        const result = await session.run(inputs);
        const y = (await result[out].getData()) as Float32Array;
        for (const t of Object.values(result)) t.dispose();
        return y;
      };
      return {
        run: once,
        output: async () => toOurs(await once()),
        dispose: () => void session.release(),
      };
    },
  };
}

/** The exponent of the unit `withError` reports max errors in. */
const ERROR_UNIT = 1e-7;

/**
 * `v` whose checked output (one run, before timing) also records max |output − reference()| in units
 * of ERROR_UNIT as the runner's info, so the report prints each variant's error beside its time.
 */
function withError(v: Variant, reference: () => Float64Array): Variant {
  return {
    name: v.name,
    async setup(ctx) {
      const runner = await v.setup(ctx);
      if (!runner?.output) return runner;
      const output = runner.output.bind(runner);
      runner.output = async () => {
        const y = await output();
        const r = reference();
        let err = y.length === r.length ? 0 : Infinity;
        for (let i = 0; i < y.length && i < r.length; i++) {
          const d = Math.abs(y[i] - r[i]);
          err = Number.isNaN(d) ? Infinity : Math.max(err, d);
        }
        runner.info = { ...runner.info, [`max |y - float64| (${ERROR_UNIT})`]: err / ERROR_UNIT };
        return y;
      };
      return runner;
    },
  };
}

/** [H, T, D] ↔ [T, H·D] (ORT's BSNH with batch 1). */
function headsToRows(x: Float32Array, T: number): Float32Array {
  const y = new Float32Array(x.length);
  for (let h = 0; h < H; h++) for (let t = 0; t < T; t++) y.set(x.subarray((h * T + t) * D, (h * T + t + 1) * D), (t * H + h) * D);
  return y;
}
function rowsToHeads(x: Float32Array, T: number): Float32Array {
  const y = new Float32Array(x.length);
  for (let h = 0; h < H; h++) for (let t = 0; t < T; t++) y.set(x.subarray((t * H + h) * D, (t * H + h + 1) * D), (h * T + t) * D);
  return y;
}

function matmulCase(M: number, K: number, N: number): BenchCase {
  // Inputs are made when a variant or the reference needs them (the same every time), never held by
  // the case: the page lists cases to describe and estimate them, and 1×768×50257 is 154 MB.
  const a = () => noise(M * K, 1, 0.5);
  const b = () => noise(K * N, 2, 0.5);
  return {
    reference() {
      const [A, B] = [a(), b()];
      const y = new Float64Array(M * N);
      for (let i = 0; i < M; i++)
        for (let k = 0; k < K; k++) {
          const x = A[i * K + k];
          for (let j = 0; j < N; j++) y[i * N + j] += x * B[k * N + j];
        }
      return y;
    },
    kernel: 'matmul (vs ORT)',
    size: `${M}x${K}x${N}`,
    flops: 2 * M * N * K,
    bytes: 4 * (M * K + K * N + M * N),
    tolerance: TOLERANCE,
    interleave: true,
    variants: [
      {
        name: 'ours',
        setup: ({ engine }) => oursRunner(engine, (g) => g.matmul(g.input('a', [M, K]), g.input('b', [K, N])), { a: a(), b: b() }),
      },
      ortVariant('ort', 'matmul', () => ({ A: { data: a(), dims: [M, K] }, B: { data: b(), dims: [K, N] } })),
    ],
  };
}

function attentionCase(T: number): BenchCase {
  const qkv = () => [1, 2, 3].map((seed) => noise(H * T * D, seed));
  const rows = () => {
    const [q, k, v] = qkv();
    return {
      query: { data: headsToRows(q, T), dims: [1, T, H * D] },
      key: { data: headsToRows(k, T), dims: [1, T, H * D] },
      value: { data: headsToRows(v, T), dims: [1, T, H * D] },
    };
  };
  const bias = () => {
    const m = new Float32Array(T * T);
    for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) m[i * T + j] = -10000;
    return m;
  };
  const pairs = (T * (T + 1)) / 2;
  // The float64 result, computed once for the check and for every variant's reported error (6 MB at T=1024).
  const exact = () => {
    const [q, k, v] = qkv();
    const y = new Float64Array(H * T * D);
    const p = new Float64Array(T);
    for (let h = 0; h < H; h++)
      for (let t = 0; t < T; t++) {
        let m = -Infinity;
        for (let j = 0; j <= t; j++) {
          let d = 0;
          for (let e = 0; e < D; e++) d += q[(h * T + t) * D + e] * k[(h * T + j) * D + e];
          p[j] = d / Math.sqrt(D);
          m = Math.max(m, p[j]);
        }
        let z = 0;
        for (let j = 0; j <= t; j++) z += p[j] = Math.exp(p[j] - m);
        for (let j = 0; j <= t; j++) for (let e = 0; e < D; e++) y[(h * T + t) * D + e] += (p[j] / z) * v[(h * T + j) * D + e];
      }
    return y;
  };
  let cached: Float64Array | undefined;
  const reference = () => (cached ??= exact());
  return {
    reference,
    kernel: `causal attention ${H}×${D} (vs ORT)`,
    size: `T=${T}`,
    flops: 4 * H * pairs * D,
    bytes: 4 * 4 * H * T * D,
    tolerance: TOLERANCE,
    interleave: true,
    variants: [
      {
        name: 'ours',
        setup: ({ engine }: BenchContext) => {
          const [q, k, v] = qkv();
          return oursRunner(
            engine,
            (g) => g.attention(g.input('q', [H, T, D]), g.input('k', [H, T, D]), g.input('v', [H, T, D]), { causal: true }),
            { q, k, v },
          );
        },
      },
      // GroupQueryAttention with KV heads = heads, no past: seqlens_k [B] = total length − 1 and the
      // scalar total_sequence_length (ONNX Runtime's contrib-op schema); causal by definition. Its
      // present_key / present_value (the KV cache it writes) stay on the GPU.
      ortVariant(
        'ort GroupQueryAttention',
        'gqa',
        () => ({
          ...rows(),
          seqlens_k: { data: Int32Array.of(T - 1), dims: [1] },
          total_sequence_length: { data: Int32Array.of(T), dims: [] },
        }),
        (y) => rowsToHeads(y, T),
        ['present_key', 'present_value'],
      ),
      ortVariant(
        'ort MultiHeadAttention',
        'mha',
        () => ({ ...rows(), attention_bias: { data: bias(), dims: [1, 1, T, T] } }),
        (y) => rowsToHeads(y, T),
      ),
      // The same attention from standard operators (MatMul, Softmax, MatMul with the mask as a bias), as
      // ORT runs a model exported without its fused contrib ops: the T × T scores go through GPU memory.
      ortVariant('ort unfused', 'attention_unfused', () => {
        const [q, k, v] = qkv();
        return {
          q: { data: q, dims: [H, T, D] },
          k: { data: k, dims: [H, T, D] },
          v: { data: v, dims: [H, T, D] },
          bias: { data: bias(), dims: [T, T] },
        };
      }),
    ].map((v) => withError(v, reference)),
  };
}

function layerNormCase(T: number, C: number): BenchCase {
  const inputs = () => [noise(T * C, 1), noise(C, 2), noise(C, 3)];
  return {
    reference() {
      const [x, gamma, beta] = inputs();
      const y = new Float64Array(T * C);
      for (let t = 0; t < T; t++) {
        let mean = 0;
        for (let c = 0; c < C; c++) mean += x[t * C + c] / C;
        let variance = 0;
        for (let c = 0; c < C; c++) variance += (x[t * C + c] - mean) ** 2 / C;
        const r = 1 / Math.sqrt(variance + 1e-5);
        for (let c = 0; c < C; c++) y[t * C + c] = (x[t * C + c] - mean) * r * gamma[c] + beta[c];
      }
      return y;
    },
    kernel: 'layer norm (vs ORT)',
    size: `${T}x${C}`,
    flops: 8 * T * C,
    bytes: 4 * (2 * T * C + 2 * C),
    tolerance: TOLERANCE,
    interleave: true,
    variants: [
      {
        name: 'ours',
        setup: ({ engine }) => {
          const [x, gamma, beta] = inputs();
          return oursRunner(engine, (g) => g.layerNorm(g.input('x', [T, C]), g.input('gamma', [C]), g.input('beta', [C])), {
            x,
            gamma,
            beta,
          });
        },
      },
      ortVariant('ort', 'layernorm', () => {
        const [x, gamma, beta] = inputs();
        return { X: { data: x, dims: [T, C] }, scale: { data: gamma, dims: [C] }, bias: { data: beta, dims: [C] } };
      }),
    ],
  };
}

function softmaxCase(R: number, N: number): BenchCase {
  const input = () => noise(R * N, 1, 4);
  return {
    reference() {
      const x = input();
      const y = new Float64Array(R * N);
      for (let r = 0; r < R; r++) {
        let m = -Infinity;
        for (let j = 0; j < N; j++) m = Math.max(m, x[r * N + j]);
        let z = 0;
        for (let j = 0; j < N; j++) z += y[r * N + j] = Math.exp(x[r * N + j] - m);
        for (let j = 0; j < N; j++) y[r * N + j] /= z;
      }
      return y;
    },
    kernel: 'softmax (vs ORT)',
    size: `${R}x${N}`,
    flops: 4 * R * N,
    bytes: 8 * R * N,
    tolerance: TOLERANCE,
    interleave: true,
    variants: [
      { name: 'ours', setup: ({ engine }) => oursRunner(engine, (g) => g.softmax(g.input('x', [R, N])), { x: input() }) },
      ortVariant('ort', 'softmax', () => ({ X: { data: input(), dims: [R, N] } })),
    ],
  };
}

export const ortSuite: Suite = {
  name: 'ort',
  description:
    'Against onnxruntime-web on the same adapter (browser only): matmul, causal attention (GroupQueryAttention, MultiHeadAttention), layer norm, softmax, GPT-2 124M prefill and decode (files from tools/make_gpt2_onnx.py); CPU data in, results back; every output checked against float64 first',
  cases({ quick }) {
    return quick
      ? [
          matmulCase(128, 256, 192),
          matmulCase(1, 768, 3072),
          attentionCase(128),
          layerNormCase(128, 768),
          softmaxCase(64, 1000),
          softmaxCase(4, 50257),
        ]
      : [
          matmulCase(1024, 1024, 1024),
          matmulCase(256, 768, 3072),
          matmulCase(1, 768, 3072),
          matmulCase(1, 768, 50257),
          attentionCase(256),
          attentionCase(1024),
          layerNormCase(1024, 768),
          softmaxCase(1024, 1024),
          softmaxCase(16, 50257),
          ...gpt2OrtCases(),
        ];
  },
};

// The remaining kernels, each in GPU time: the no-op dispatch (the overhead floor), layer norm,
// softmax and GELU over GPT-2 shapes (softmax beside TF.js), one LSTM cell step, and a word2vec
// query (similarity against the vocabulary + top-k).
import type { Engine, SymbolicTensor } from 'webgpu-nlp';
import { gpuTimeRunner, noise } from './plan-runner';
import type { BenchCase, Runner, Suite } from './types';

async function plan(engine: Engine, label: string, build: (g: ReturnType<Engine['graph']>) => SymbolicTensor): Promise<Runner> {
  const g = engine.graph(label);
  return gpuTimeRunner(engine, await g.compile({ y: build(g) }));
}

function tfSoftmax(rows: number, n: number) {
  return {
    name: 'tfjs',
    async setup({ tf }: { tf: import('../peers/tfjs').Tf | null }): Promise<Runner | null> {
      if (!tf) return null;
      const x = tf.tensor2d(noise(rows * n, 1), [rows, n]);
      return {
        async run() {
          const y = tf.softmax(x);
          await y.data();
          y.dispose();
        },
        dispose: () => x.dispose(),
      };
    },
  };
}

export const kernelsSuite: Suite = {
  name: 'kernels',
  description: 'No-op floor, layer norm, softmax, GELU, data movement and small ops, LSTM cell step, word2vec query',
  cases({ quick }) {
    const cases: BenchCase[] = [
      {
        kernel: 'no-op dispatch (floor)',
        size: '1 thread',
        flops: 0,
        bytes: 4,
        dispatches: 1, // read in µs per dispatch: what it measures is overhead, not throughput
        variants: [{ name: 'ours', setup: ({ engine }) => plan(engine, 'noop', (g) => g.op('noop', [], { value: 1 })) }],
      },
    ];
    for (const T of quick ? [128] : [128, 1024]) {
      const C = 768;
      cases.push({
        kernel: 'layer norm (C=768)',
        size: `T=${T}`,
        flops: 8 * T * C,
        bytes: 4 * (2 * T * C + 2 * C),
        variants: [
          {
            name: 'ours',
            setup: ({ engine }) =>
              plan(engine, 'layernorm', (g) =>
                g.layerNorm(g.constant('x', noise(T * C, 1), [T, C]), g.constant('g', noise(C, 2)), g.constant('b', noise(C, 3))),
              ),
          },
        ],
      });
      cases.push({
        kernel: 'GELU (4C=3072)',
        size: `T=${T}`,
        flops: 8 * T * 3072,
        bytes: 8 * T * 3072,
        variants: [
          { name: 'ours', setup: ({ engine }) => plan(engine, 'gelu', (g) => g.gelu(g.constant('x', noise(T * 3072, 1), [T, 3072]))) },
        ],
      });
    }
    for (const [rows, n] of quick
      ? [[12 * 128, 128]]
      : [
          [12 * 512, 512],
          [1024, 1024],
          [1, 50257],
          [16, 50257],
        ]) {
      cases.push({
        kernel: 'softmax (rows)',
        size: `${rows}x${n}`,
        flops: 4 * rows * n,
        bytes: 8 * rows * n,
        variants: [
          {
            name: 'ours',
            setup: ({ engine }) => plan(engine, 'softmax', (g) => g.softmax(g.constant('x', noise(rows * n, 1), [rows, n]))),
          },
          tfSoftmax(rows, n),
        ],
      });
    }
    for (const H of quick ? [128] : [128, 512, 1024]) {
      cases.push({
        kernel: 'LSTM cell step',
        size: `H=${H}`,
        flops: 2 * 4 * H * H,
        bytes: 4 * (4 * H * H + 4 * H + 4 * H),
        variants: [
          {
            name: 'ours',
            setup: async ({ engine }) => {
              const work = engine.empty([4, H], 'f32', 'work');
              const r = await plan(engine, 'lstm cell', (g) =>
                g.lstmCell(
                  g.constant('xproj', noise(4 * H, 1), [1, 4 * H]),
                  g.constant('whhT', noise(4 * H * H, 2, 0.05), [H, 4 * H]),
                  g.state('work', work),
                  0,
                ),
              );
              return {
                ...r,
                dispose: () => {
                  r.dispose();
                  work.dispose();
                },
              };
            },
          },
        ],
      });
    }
    // Data movement and small ops, GPT-2 124M shapes at T tokens: each a single dispatch, in GB/s.
    const T = quick ? 32 : 128;
    const C = 768;
    const V = quick ? 4096 : 50257;
    const embedIds = Uint32Array.from({ length: T }, (_, i) => (i * 97) % V);
    const moves: [string, number, (g: ReturnType<Engine['graph']>) => SymbolicTensor][] = [
      ['add (bias broadcast)', 4 * (2 * T * C + C), (g) => g.add(g.constant('x', noise(T * C, 1), [T, C]), g.constant('b', noise(C, 2)))],
      [
        'embedding (token + position)',
        4 * (T + 3 * T * C),
        (g) =>
          g.embedding(
            g.constant('ids', embedIds),
            g.constant('wte', noise(V * C, 1), [V, C]),
            g.constant('wpe', noise(1024 * C, 2), [1024, C]),
          ),
      ],
      ['split heads (q of QKV)', 4 * 2 * T * C, (g) => g.splitHeads(g.constant('qkv', noise(T * 3 * C, 1), [T, 3 * C]), 12, 0, 3)],
      ['merge heads', 4 * 2 * T * C, (g) => g.mergeHeads(g.constant('y', noise(T * C, 1), [12, T, 64]))],
      [
        'concat (two halves of the vocabulary)',
        4 * 2 * V,
        (g) => {
          const h = Math.floor(V / 2);
          return g.concat(g.constant('a', noise(h, 1), [1, h]), g.constant('b', noise(V - h, 2), [1, V - h]));
        },
      ],
      ['slice (last row)', 4 * 2 * C, (g) => g.slice(g.constant('x', noise(T * C, 1), [T, C]), T - 1, 1)],
      ['normalize rows', 4 * 2 * T * C, (g) => g.normalize(g.constant('x', noise(T * C, 1), [T, C]))],
      [
        'sample (top-k 40, top-p 0.9)',
        4 * V,
        (g) => g.sample(g.constant('logits', noise(V, 1, 5), [1, V]), { temperature: 0.8, topK: 40, topP: 0.9, seed: 1 }),
      ],
      [
        // A language model's shape: a few dozen likely tokens above a broad tail (top-p gathers them).
        'sample (top-p 0.9, 60 leading logits)',
        4 * V,
        (g) => {
          const logits = noise(V, 3, 2);
          for (let i = 0; i < 60; i++) logits[(i * 7919) % V] = 9 + (i % 7) * 0.3;
          return g.sample(g.constant('logits', logits, [1, V]), { temperature: 0.8, topP: 0.9, seed: 1 });
        },
      ],
      [
        // q8_0 keeps its scale inside each 34-byte block (llama.cpp's block_q8_0): one quantize_blocks
        // pass, as engine.quantize packs it. quantize_scales + quantize_pack serve per-channel int8 only.
        'quantize weights q8_0',
        4 * C * 4 * C + (C * 4 * C * 34) / 32,
        (g) => {
          const w = g.constant('w', noise(C * 4 * C, 1), [C, 4 * C]);
          return g.op('quantize_blocks', [w], { scheme: 'q8_0', K: C, N: 4 * C, kn: true });
        },
      ],
      [
        'quantize weights per-channel int8',
        4 * C * 4 * C + C * 4 * C + 4 * 4 * C,
        (g) => {
          const w = g.constant('w', noise(C * 4 * C, 1), [C, 4 * C]);
          const attrs = { scheme: 'per-channel' as const, K: C, N: 4 * C, kn: true };
          return g.op('quantize_pack', [w, g.op('quantize_scales', [w], attrs)], attrs);
        },
      ],
    ];
    for (const [kernel, bytes, build] of moves) {
      cases.push({
        kernel,
        size: `T=${T}`,
        flops: 0,
        bytes,
        variants: [{ name: 'ours', setup: ({ engine }) => plan(engine, kernel, build) }],
      });
    }
    // The same lookup from an int8 (q8_0) token table: one byte per weight read instead of four.
    cases.push({
      kernel: 'embedding, int8 token table (q8_0)',
      size: `T=${T}`,
      flops: 0,
      bytes: 4 * T + T * C + (4 * T * C) / 32 + 4 * 2 * T * C,
      variants: [
        {
          name: 'ours',
          setup: async ({ engine }) => {
            const wq = await engine.quantize(noise(V * C, 1), { K: C, N: V, layout: 'NK', scheme: 'q8_0', label: 'wte int8' });
            const r = await plan(engine, 'dequant_embedding', (g) =>
              g.dequantEmbedding(g.constant('ids', embedIds), wq, g.constant('wpe', noise(1024 * C, 2), [1024, C])),
            );
            return {
              ...r,
              dispose: () => {
                r.dispose();
                wq.dispose();
              },
            };
          },
        },
      ],
    });
    cases.push({
      kernel: 'assign (KV-cache row, 12 heads)',
      size: 'cache 1024',
      flops: 0,
      bytes: 4 * 2 * C,
      variants: [
        {
          name: 'ours',
          setup: async ({ engine }) => {
            const cache = engine.empty([12, 1024, 64], 'f32', 'cache');
            const r = await plan(engine, 'assign', (g) =>
              g.assign(g.state('cache', cache), g.constant('k', noise(C, 1), [12, 1, 64]), {
                offset: 5 * 64,
                strided: { outer: 12, rows: 1, rowLen: 64, dstRow: 64, dstOuter: 1024 * 64 },
              }),
            );
            return {
              ...r,
              dispose: () => {
                r.dispose();
                cache.dispose();
              },
            };
          },
        },
      ],
    });
    for (const [V, D] of quick
      ? [[4098, 64]]
      : [
          [4098, 64],
          [100000, 300],
        ]) {
      cases.push({
        kernel: 'word2vec query (similarity + top-10)',
        size: `V=${V} D=${D}`,
        flops: 2 * V * D,
        bytes: 4 * V * D,
        variants: [
          {
            name: 'ours',
            setup: ({ engine }) =>
              plan(engine, 'word2vec', (g) => {
                const scores = g.matmul(g.constant('q', noise(D, 1), [1, D]), g.constant('E', noise(V * D, 2), [V, D]), {
                  transposeB: true,
                });
                return g.topk(scores, g.constant('exclude', new Uint32Array(4)), 10);
              }),
          },
        ],
      });
    }
    return cases;
  },
};

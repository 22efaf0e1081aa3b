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
  description: 'No-op floor, layer norm, softmax, GELU, LSTM cell step, word2vec query',
  cases({ quick }) {
    const cases: BenchCase[] = [
      {
        kernel: 'no-op dispatch (floor)',
        size: '1 thread',
        flops: 0,
        bytes: 4,
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
        variants: [{
          name: 'ours',
          setup: ({ engine }) => plan(engine, 'layernorm', (g) => g.layerNorm(g.constant('x', noise(T * C, 1), [T, C]), g.constant('g', noise(C, 2)), g.constant('b', noise(C, 3)))),
        }],
      });
      cases.push({
        kernel: 'GELU (4C=3072)',
        size: `T=${T}`,
        flops: 8 * T * 3072,
        bytes: 8 * T * 3072,
        variants: [{ name: 'ours', setup: ({ engine }) => plan(engine, 'gelu', (g) => g.gelu(g.constant('x', noise(T * 3072, 1), [T, 3072]))) }],
      });
    }
    for (const [rows, n] of quick ? [[12 * 128, 128]] : [[12 * 512, 512], [1, 50257], [16, 50257]]) {
      cases.push({
        kernel: 'softmax (rows)',
        size: `${rows}x${n}`,
        flops: 4 * rows * n,
        bytes: 8 * rows * n,
        variants: [{ name: 'ours', setup: ({ engine }) => plan(engine, 'softmax', (g) => g.softmax(g.constant('x', noise(rows * n, 1), [rows, n]))) }, tfSoftmax(rows, n)],
      });
    }
    for (const H of quick ? [128] : [128, 512, 1024]) {
      cases.push({
        kernel: 'LSTM cell step',
        size: `H=${H}`,
        flops: 2 * 4 * H * H,
        bytes: 4 * (4 * H * H + 4 * H + 4 * H),
        variants: [{
          name: 'ours',
          setup: async ({ engine }) => {
            const work = engine.empty([4, H], 'f32', 'work');
            const r = await plan(engine, 'lstm cell', (g) => g.lstmCell(g.constant('xproj', noise(4 * H, 1), [1, 4 * H]), g.constant('whhT', noise(4 * H * H, 2, 0.05), [H, 4 * H]), g.state('work', work), 0));
            return { ...r, dispose: () => (r.dispose(), work.dispose()) };
          },
        }],
      });
    }
    for (const [V, D] of quick ? [[4098, 64]] : [[4098, 64], [100000, 300]]) {
      cases.push({
        kernel: 'word2vec query (similarity + top-10)',
        size: `V=${V} D=${D}`,
        flops: 2 * V * D,
        bytes: 4 * V * D,
        variants: [{
          name: 'ours',
          setup: ({ engine }) =>
            plan(engine, 'word2vec', (g) => {
              const scores = g.matmul(g.constant('q', noise(D, 1), [1, D]), g.constant('E', noise(V * D, 2), [V, D]), { transposeB: true });
              return g.topk(scores, g.constant('exclude', new Uint32Array(4)), 10);
            }),
        }],
      });
    }
    return cases;
  },
};

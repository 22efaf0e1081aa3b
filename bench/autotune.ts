// Autotuning: for matmul (per shape class), the decode GEMVs, fused attention, softmax and sampling, time every tile / workgroup
// configuration the adapter's limits allow, keep the fastest, and report its speed-up over the
// default. The result is a TuningTable for Engine.create({ tuning }); the bench page keeps one per
// adapter in localStorage, the CLI writes bench/results/<adapter>.tuning.json.
import {
  SAMPLE_WG,
  SOFTMAX_WG,
  attentionCandidates,
  attentionKey,
  gemvCandidates,
  matmulCandidates,
  type Engine,
  type TuningTable,
} from 'webgpu-nlp';
import { median } from './measure';
import { noise } from './suites/plan-runner';

export interface TuneResult {
  key: string;
  shape: string;
  best: Record<string, number>;
  bestMs: number;
  defaultMs: number;
  speedup: number;
  tried: number;
}

async function timePlan(
  _engine: Engine,
  build: (tuning: TuningTable) => Promise<{ run(): Promise<number>; dispose(): void }>,
  tuning: TuningTable,
  reps: number,
): Promise<number> {
  const p = await build(tuning);
  try {
    await p.run();
    const xs: number[] = [];
    for (let i = 0; i < reps; i++) xs.push(await p.run());
    return median(xs);
  } finally {
    p.dispose();
  }
}

function planTimer(_engine: Engine) {
  return async (plan: { profile(f: object): Promise<{ gpuMs: number | null; wallMs: number }>; dispose(): void }) => ({
    run: async () => {
      const r = await plan.profile({});
      return r.gpuMs ?? r.wallMs;
    },
    dispose: () => plan.dispose(),
  });
}

type Build = (tuning: TuningTable) => Promise<{ run(): Promise<number>; dispose(): void }>;

/** Every key autotune() tunes, in the order it tunes them. */
export const TUNING_KEYS = ['matmul:narrow', 'matmul:wide', 'gemv', 'dequant_gemv', 'attention:short', 'attention', 'softmax', 'sample'];

/**
 * Times the default, then every candidate under `key`, then the default again (a candidate must beat
 * both timings, not the noise of one), and records the winner in `table` when it is not the default.
 */
async function tuneKey(
  engine: Engine,
  key: string,
  shape: string,
  build: Build,
  candidates: Record<string, number>[],
  reps: number,
  table: TuningTable,
  onProgress?: (label: string) => void,
  signal?: AbortSignal,
): Promise<TuneResult> {
  signal?.throwIfAborted();
  const defaultMs = await timePlan(engine, build, {}, reps);
  let best = { cfg: {} as Record<string, number>, ms: defaultMs };
  for (const cfg of candidates) {
    signal?.throwIfAborted();
    onProgress?.(`${key} ${JSON.stringify(cfg)}`);
    const ms = await timePlan(engine, build, { [key]: cfg }, reps);
    if (ms < best.ms) best = { cfg, ms };
  }
  const defaultAgain = await timePlan(engine, build, {}, reps);
  if (defaultAgain < best.ms) best = { cfg: {}, ms: defaultAgain };
  if (Object.keys(best.cfg).length) table[key] = best.cfg;
  const def = Math.min(defaultMs, defaultAgain);
  return { key, shape, best: best.cfg, bestMs: best.ms, defaultMs: def, speedup: def / best.ms, tried: candidates.length };
}

/**
 * Tunes matmul (narrow and wide shape classes), the f32 and int8 GEMVs, attention's queries per
 * workgroup and key tile, and softmax's threads per row. An aborted `signal` stops it between two
 * timings with the signal's reason (nothing is returned, so nothing half-tuned is kept).
 */
export async function autotune(
  engine: Engine,
  options: { quick?: boolean; reps?: number; keys?: string[]; signal?: AbortSignal; onProgress?(label: string): void } = {},
): Promise<{ table: TuningTable; results: TuneResult[] }> {
  const unknown = (options.keys ?? []).filter((k) => !TUNING_KEYS.includes(k));
  if (unknown.length) throw new Error(`autotune: unknown key(s) ${unknown.join(', ')}; the keys are ${TUNING_KEYS.join(', ')}`);
  const quick = !!options.quick;
  const reps = options.reps ?? 3;
  const timer = planTimer(engine);
  const table: TuningTable = {};
  const results: TuneResult[] = [];
  const wanted = (key: string) => !options.keys || options.keys.includes(key);
  const tune = async (key: string, shape: string, build: Build, candidates: Record<string, number>[]) => {
    if (!wanted(key)) return;
    results.push(await tuneKey(engine, key, shape, build, candidates, reps, table, options.onProgress, options.signal));
  };

  const matmulShapes: [string, number, number, number][] = quick
    ? [
        ['matmul:narrow', 16, 256, 256],
        ['matmul:wide', 128, 256, 256],
      ]
    : [
        ['matmul:narrow', 16, 768, 3072],
        ['matmul:wide', 256, 768, 768],
      ];
  for (const [key, M, K, N] of matmulShapes) {
    await tune(
      key,
      `${M}x${K}x${N}`,
      async (tuning) => {
        const g = engine.graph(`tune ${key}`);
        const y = g.matmul(g.constant('a', noise(M * K, 1), [M, K]), g.constant('b', noise(K * N, 2), [K, N]));
        return timer(await g.compile({ y }, { tuning }));
      },
      matmulCandidates(engine.limits, quick),
    );
  }

  // Decode GEMVs: weights [N, K] (f32) and q8_0 int8, at GPT-2's MLP width.
  const [K, N] = [768, quick ? 768 : 3072];
  const x = noise(K, 1);
  const w = noise(N * K, 2);
  await tune(
    'gemv',
    `1x${K}x${N} [N,K]`,
    async (tuning) => {
      const g = engine.graph('tune gemv');
      const y = g.matmul(g.constant('x', x, [1, K]), g.constant('w', w, [N, K]), { transposeB: true });
      return timer(await g.compile({ y }, { tuning }));
    },
    gemvCandidates(engine.features, quick),
  );
  const wq = wanted('dequant_gemv') ? await engine.quantize(w, { K, N, layout: 'NK', scheme: 'q8_0', label: 'tune w8' }) : null;
  if (wq) {
    try {
      await tune(
        'dequant_gemv',
        `1x${K}x${N} q8_0`,
        async (tuning) => {
          const g = engine.graph('tune dequant_gemv');
          return timer(await g.compile({ y: g.dequantMatmul(g.constant('x', x, [1, K]), wq) }, { tuning }));
        },
        gemvCandidates(engine.features, quick),
      );
    } finally {
      wq.dispose();
    }
  }

  // Attention in its two shape classes (attentionKey): a short prompt's few query blocks, and long ones.
  for (const T of quick ? [64, 512] : [256, 1024]) {
    await tune(
      attentionKey(T),
      `12x${T}x64 causal`,
      async (tuning) => {
        const g = engine.graph('tune attention');
        const shape = [12, T, 64];
        const c = (name: string, seed: number) => g.constant(name, noise(12 * T * 64, seed), shape);
        return timer(await g.compile({ y: g.attention(c('q', 1), c('k', 2), c('v', 3), { causal: true }) }, { tuning }));
      },
      // Queries per workgroup × keys per staged tile × rows per thread, as the op declares them for this device.
      attentionCandidates(64, engine.limits),
    );
  }

  // Threads per softmax row, on a vocabulary's logits for a few sequences (the rows no other key covers).
  const [R, V] = quick ? [4, 50257] : [16, 50257];
  const logits = noise(R * V, 1, 4);
  await tune(
    'softmax',
    `${R}x${V}`,
    async (tuning) => {
      const g = engine.graph('tune softmax');
      return timer(await g.compile({ y: g.softmax(g.constant('x', logits, [R, V])) }, { tuning }));
    },
    SOFTMAX_WG.map((WG) => ({ WG })),
  );

  // Threads of the one sampling workgroup, on a vocabulary's logits with top-k 40 and top-p 0.9.
  const row = noise(V, 5, 5);
  await tune(
    'sample',
    `1x${V} top-k 40, top-p 0.9`,
    async (tuning) => {
      const g = engine.graph('tune sample');
      const id = g.sample(g.constant('logits', row, [1, V]), { temperature: 0.8, topK: 40, topP: 0.9, seed: 1 });
      return timer(await g.compile({ id }, { tuning }));
    },
    SAMPLE_WG.map((WG) => ({ WG })),
  );
  return { table, results };
}

// Autotuning: for matmul (per shape class) and fused attention, time every tile / workgroup
// configuration the adapter's limits allow, keep the fastest, and report its speed-up over the
// default. The result is a TuningTable for Engine.create({ tuning }); the bench page keeps one per
// adapter in localStorage, the CLI writes bench/results/<adapter>.tuning.json.
import type { Engine, TuningTable } from 'webgpu-nlp';
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

async function timePlan(engine: Engine, build: (tuning: TuningTable) => Promise<{ run(): Promise<number>; dispose(): void }>, tuning: TuningTable, reps: number): Promise<number> {
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

function planTimer(engine: Engine) {
  return async (plan: { profile(f: object): Promise<{ gpuMs: number | null; wallMs: number }>; dispose(): void }) => ({
    run: async () => {
      const r = await plan.profile({});
      return r.gpuMs ?? r.wallMs;
    },
    dispose: () => plan.dispose(),
  });
}

function matmulCandidates(engine: Engine, quick: boolean): Record<string, number>[] {
  const L = engine.limits;
  const out: Record<string, number>[] = [];
  for (const WG_X of quick ? [8, 16] : [8, 16, 32])
    for (const WG_Y of quick ? [4, 16] : [4, 8, 16])
      for (const TILE_K of quick ? [16] : [8, 16, 32]) {
        const threads = WG_X * WG_Y;
        const bytes = TILE_K * 4 * (WG_X + WG_Y) * 4;
        if (threads <= L.maxComputeInvocationsPerWorkgroup && bytes <= L.maxComputeWorkgroupStorageSize) out.push({ WG_X, WG_Y, TILE_K });
      }
  return out;
}

/** Tunes matmul for the narrow and wide shape classes and attention's queries per workgroup. */
export async function autotune(engine: Engine, options: { quick?: boolean; reps?: number; onProgress?(label: string): void } = {}): Promise<{ table: TuningTable; results: TuneResult[] }> {
  const quick = !!options.quick;
  const reps = options.reps ?? 3;
  const timer = planTimer(engine);
  const table: TuningTable = {};
  const results: TuneResult[] = [];
  const matmulShapes: [string, number, number, number][] = quick
    ? [['matmul:narrow', 16, 256, 256], ['matmul:wide', 128, 256, 256]]
    : [['matmul:narrow', 16, 768, 3072], ['matmul:wide', 256, 768, 768]];
  for (const [key, M, K, N] of matmulShapes) {
    const build = async (tuning: TuningTable) => {
      const g = engine.graph(`tune ${key}`);
      const y = g.matmul(g.constant('a', noise(M * K, 1), [M, K]), g.constant('b', noise(K * N, 2), [K, N]));
      return timer(await g.compile({ y }, { tuning }));
    };
    const defaultMs = await timePlan(engine, build, {}, reps);
    let best = { cfg: {} as Record<string, number>, ms: defaultMs };
    const candidates = matmulCandidates(engine, quick);
    for (const cfg of candidates) {
      options.onProgress?.(`${key} ${JSON.stringify(cfg)}`);
      const ms = await timePlan(engine, build, { [key]: cfg }, reps);
      if (ms < best.ms) best = { cfg, ms };
    }
    // The default is timed again at the end: a candidate must beat both timings, not the noise of one.
    const defaultAgain = await timePlan(engine, build, {}, reps);
    if (defaultAgain < best.ms) best = { cfg: {}, ms: defaultAgain };
    if (Object.keys(best.cfg).length) table[key] = best.cfg;
    const def = Math.min(defaultMs, defaultAgain);
    results.push({ key, shape: `${M}x${K}x${N}`, best: best.cfg, bestMs: best.ms, defaultMs: def, speedup: def / best.ms, tried: candidates.length });
  }
  const T = quick ? 128 : 512;
  const buildAttention = async (tuning: TuningTable) => {
    const g = engine.graph('tune attention');
    const shape = [12, T, 64];
    const c = (name: string, seed: number) => g.constant(name, noise(12 * T * 64, seed), shape);
    return timer(await g.compile({ y: g.attention(c('q', 1), c('k', 2), c('v', 3), { causal: true }) }, { tuning }));
  };
  const defaultMs = await timePlan(engine, buildAttention, {}, reps);
  let best = { cfg: {} as Record<string, number>, ms: defaultMs };
  const bqs = [16, 32, 64, 128].filter((b) => b <= engine.limits.maxComputeInvocationsPerWorkgroup);
  for (const BQ of bqs) {
    options.onProgress?.(`attention BQ=${BQ}`);
    const ms = await timePlan(engine, buildAttention, { attention: { BQ } }, reps);
    if (ms < best.ms) best = { cfg: { BQ }, ms };
  }
  const defaultAgain = await timePlan(engine, buildAttention, {}, reps);
  if (defaultAgain < best.ms) best = { cfg: {}, ms: defaultAgain };
  if (Object.keys(best.cfg).length) table.attention = best.cfg;
  const def = Math.min(defaultMs, defaultAgain);
  results.push({ key: 'attention', shape: `12x${T}x64 causal`, best: best.cfg, bestMs: best.ms, defaultMs: def, speedup: def / best.ms, tried: bqs.length });
  return { table, results };
}

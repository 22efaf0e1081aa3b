// Times a compiled plan on the GPU: the sum of per-dispatch timestamp queries where the adapter has
// them, else the wall time from submit to onSubmittedWorkDone. No read-back in either.
import type { Engine, Plan } from 'webgpu-nlp';
import type { Runner } from './types';

export function gpuTimeRunner(engine: Engine, plan: Plan, feeds: Record<string, Float32Array | Uint32Array | number> = {}): Runner {
  return {
    async run() {
      if (engine.features.timestampQuery) {
        const gpuMs = (await plan.profile(feeds)).gpuMs;
        // A kernel shorter than the timer's resolution reads 0: fall back to wall time (an upper bound).
        if (gpuMs) return gpuMs;
      }
      const t0 = performance.now();
      engine.device.queue.submit([plan.encode(feeds)]);
      await engine.device.queue.onSubmittedWorkDone();
      return performance.now() - t0;
    },
    dispose: () => plan.dispose(),
    info: { allocatedBytes: plan.memory.peakBytes },
  };
}

/** Deterministic pseudo-random data in [-scale, scale). */
export function noise(n: number, seed: number, scale = 1): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 2 ** 31 - 1) * scale;
  }
  return out;
}

/**
 * A suite's models, one per key, reused by its cases: `get(engine, key, load)` loads on first use and
 * drops (and frees) every model when the engine changes, so a new run never holds the last run's
 * weights; a load that fails is forgotten.
 */
export function modelCache<M extends { dispose(): void }>() {
  const models = new Map<string, Promise<M>>();
  let modelsOf: Engine | null = null;
  return (engine: Engine, key: string, load: () => Promise<M>): Promise<M> => {
    if (modelsOf !== engine) {
      for (const m of models.values()) m.then((x) => x.dispose()).catch(() => {});
      models.clear();
      modelsOf = engine;
    }
    let m = models.get(key);
    if (!m) {
      m = load();
      models.set(key, m);
      m.catch(() => models.delete(key));
    }
    return m;
  };
}

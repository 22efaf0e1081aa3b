// The autotuner (bench/autotune.ts) on this adapter: it tunes only the keys asked for, keeps a
// candidate only where it beat both timings of the default, and its table compiles plans that still
// agree with the float64 reference.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { autotune } from '../../bench/autotune';
import type { Engine } from '../../src/index';
import { SOFTMAX_WG } from '../../src/ops/softmax';
import { createTestEngine } from '../helpers/engine';
import { expectClose, randn } from '../helpers/numeric';
import { runOp } from '../helpers/ops';

let engine: Engine;
beforeAll(async () => {
  engine = await createTestEngine();
});
afterAll(() => engine?.dispose());

describe('autotune', () => {
  it('an unknown key is an error that lists the keys, before anything is timed', async () => {
    const labels: string[] = [];
    await expect(autotune(engine, { keys: ['softmax', 'sofmax'], onProgress: (l) => labels.push(l) })).rejects.toThrow(
      /autotune: unknown key\(s\) sofmax; the keys are matmul:narrow, matmul:wide, gemv, dequant_gemv, attention:short, attention, softmax, sample/,
    );
    expect(labels).toEqual([]);
  });

  it('tunes only the keys asked for, and a table entry is a candidate that beat the default', async () => {
    const labels: string[] = [];
    const { table, results } = await autotune(engine, { quick: true, reps: 2, keys: ['softmax'], onProgress: (l) => labels.push(l) });
    expect(results.map((r) => r.key)).toEqual(['softmax']);
    expect(labels.every((l) => l.startsWith('softmax '))).toBe(true);
    expect(Object.keys(table).every((k) => k === 'softmax')).toBe(true);
    const [r] = results;
    expect(r.tried).toBe(SOFTMAX_WG.length);
    expect(r.bestMs).toBeGreaterThan(0);
    if (table.softmax) {
      expect(SOFTMAX_WG).toContain(table.softmax.WG);
      expect(r.best).toEqual(table.softmax);
      expect(r.bestMs).toBeLessThan(r.defaultMs);
    } else {
      expect(r.best).toEqual({});
      expect(r.speedup).toBe(1);
    }

    // Whatever it chose, a plan compiled with the table still matches the op's float64 reference.
    const [R, N] = [3, 5003];
    const { gpu, ref } = await runOp(engine, { op: 'softmax', inputs: [{ shape: [R, N], data: randn(R * N, 9, 4) }], tuning: table });
    expectClose(gpu, ref, { atol: 1e-7, rtol: 1e-5 }, 'softmax with the tuned table');
  });
});

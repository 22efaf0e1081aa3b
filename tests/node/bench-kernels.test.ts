// The kernels suite's quantize cases on a real engine: each builds, checks and is timed (before, the q8_0
// case fed a block scheme to the per-channel ops and was skipped with "quantize_scales: shape [3072, 0]"),
// and the per-channel ops refuse a block scheme by name.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kernelsSuite } from '../../bench/suites/kernels';
import { runSuites } from '../../bench/run';
import { ArgumentError, type Engine } from '../../src/index';
import { createTestEngine } from '../helpers/engine';

let engine: Engine;
beforeAll(async () => {
  engine = await createTestEngine();
});
afterAll(() => engine?.dispose());

describe('bench kernels suite: quantize cases', () => {
  it('q8_0 and per-channel int8 both run, none skipped', async () => {
    const suite = {
      ...kernelsSuite,
      cases: (ctx: Parameters<typeof kernelsSuite.cases>[0]) =>
        kernelsSuite.cases(ctx).filter((c) => c.kernel.startsWith('quantize weights')),
    };
    const cases = await runSuites({ engine, tf: null, quick: true }, [suite], { warmup: 0, reps: 1 });
    expect(cases.map((c) => c.kernel)).toEqual(['quantize weights q8_0', 'quantize weights per-channel int8']);
    for (const c of cases) {
      expect(c.skipped, c.kernel).toEqual([]);
      expect(
        c.results.map((r) => r.variant),
        c.kernel,
      ).toEqual(['ours']);
      expect(c.results[0].medianMs, c.kernel).toBeGreaterThan(0);
    }
  });

  it('quantize_scales and quantize_pack name the op and point a block scheme to quantize_blocks', () => {
    const g = engine.graph('bad quantize');
    const w = g.input('w', [33, 5]);
    for (const op of ['quantize_scales', 'quantize_pack'] as const) {
      const build = () =>
        op === 'quantize_scales'
          ? g.op(op, [w], { scheme: 'q8_0', K: 33, N: 5, kn: true })
          : g.op(op, [w, w], { scheme: 'q4_0', K: 33, N: 5, kn: true });
      expect(build).toThrow(ArgumentError);
      expect(build).toThrow(new RegExp(`^${op}: scheme 'q[84]_0' \\(K 33, N 5\\) is not per-channel int8; quantize_blocks packs`));
    }
  });
});

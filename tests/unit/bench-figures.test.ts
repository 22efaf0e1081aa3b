// The bench's figures: which unit each case is read in, the share of a GPU's peak, the run estimate,
// and how the page recognises a software adapter or narrows the peak table by architecture.
import { describe, expect, it } from 'vitest';
import { formatMetric, metric, peakShare } from '../../bench/metric';
import { estimateSeconds, formatDuration } from '../../bench/page/estimate';
import { candidatesFor, isSoftwareAdapter, lookupPeak } from '../../bench/page/peaks';
import { relativeError, runSuites } from '../../bench/run';
import type { BenchCase } from '../../bench/suites/types';

const r = { medianMs: 4, gflops: 50, gbps: 20 };

describe('bench figures', () => {
  it('each case is read in its own unit', () => {
    expect(metric({ dispatches: 100, flops: 0 }, r)).toEqual({ value: 40, unit: 'µs/dispatch', lowerIsBetter: true });
    expect(metric({ tokens: 1, flops: 9 }, r)).toEqual({ value: 4, unit: 'ms/token', lowerIsBetter: true });
    expect(metric({ tokens: 128, flops: 9 }, r)).toEqual({ value: 32000, unit: 'tokens/s', lowerIsBetter: false });
    expect(metric({ flops: 9 }, r).unit).toBe('GFLOP/s');
    expect(metric({ flops: 0 }, r)).toEqual({ value: 20, unit: 'GB/s', lowerIsBetter: false });
    expect(formatMetric({ value: 0.01234, unit: 'GB/s', lowerIsBetter: false })).toBe('0.012 GB/s');
    expect(formatMetric({ value: 1234.5, unit: 'tokens/s', lowerIsBetter: false })).toBe('1235 tokens/s');
  });

  it('the share of the peak is that of the binding resource; none for overhead or without a peak', () => {
    const peak = { gflops: 1000, gbps: 100 };
    expect(peakShare({ flops: 1, bytes: 1 }, r, peak)).toEqual({ percent: 20, of: 'bandwidth' });
    expect(peakShare({ flops: 1, bytes: 1 }, { gflops: 500, gbps: 20 }, peak)).toEqual({ percent: 50, of: 'FP32' });
    expect(peakShare({ flops: 0, bytes: 1, dispatches: 1 }, r, peak)).toBeNull();
    expect(peakShare({ flops: 1, bytes: 1 }, r, { gflops: 0, gbps: 0 })).toBeNull();
  });

  it('the estimate adds setup per variant and (warm-up + repetitions) × the slower of compute and memory time', () => {
    const variant = { name: 'ours', setup: async () => null };
    const cases: BenchCase[] = [
      { kernel: 'a', size: '1', flops: 2e9, bytes: 1e9, variants: [variant, variant] }, // 2 s compute vs 0.1 s memory at the rates below
      { kernel: 'b', size: '1', flops: 0, bytes: 0, dispatches: 1000, variants: [variant] },
    ];
    const s = estimateSeconds(cases, { gflops: 1, gbps: 10 }, 3);
    expect(s).toBeCloseTo(2 * (0.25 + 3 * 2) + (0.25 + 3 * 1000 * 20e-6), 9);
    expect(formatDuration(0.2)).toBe('1 s');
    expect(formatDuration(150)).toBe('3 min');
    expect(formatDuration(7200)).toBe('2.0 h');
  });

  it('software adapters, table lookups and architecture candidates', () => {
    const swiftshader = { vendor: 'google', architecture: 'swiftshader', device: 'subzero', description: 'SwiftShader Device (Subzero)' };
    expect(isSoftwareAdapter(swiftshader)).toBe(true);
    expect(isSoftwareAdapter({ vendor: 'mesa', architecture: '', device: '', description: 'llvmpipe (LLVM 15.0.6, 256 bits)' })).toBe(true);
    const chrome4090 = { vendor: 'nvidia', architecture: 'lovelace', device: '', description: '' };
    expect(isSoftwareAdapter(chrome4090)).toBe(false);
    expect(lookupPeak(swiftshader)).toBeNull();
    expect(lookupPeak({ ...chrome4090, description: 'NVIDIA GeForce RTX 4090' })?.name).toBe('NVIDIA RTX 4090');
    expect(lookupPeak(chrome4090)).toBeNull();
    expect(candidatesFor(chrome4090).map((p) => p.name)).toEqual(['NVIDIA RTX 4090', 'NVIDIA RTX 4080']);
    expect(candidatesFor({ architecture: 'gen-12lp' }).map((p) => p.name)).toEqual(['Intel Iris Xe (96 EU)']);
    expect(candidatesFor({ architecture: '' })).toEqual([]);
  });

  it('a variant whose output disagrees with the reference is reported wrong and never timed; ours is checked too', async () => {
    const runs: string[] = [];
    const variant = (name: string, out: number[]) => ({
      name,
      setup: async () => ({
        run: async () => void runs.push(name),
        output: async () => Float32Array.from(out),
        dispose() {},
      }),
    });
    const suite = {
      name: 's',
      description: '',
      cases: (): BenchCase[] => [
        {
          kernel: 'k',
          size: '3',
          flops: 1,
          bytes: 1,
          tolerance: 1e-3,
          reference: () => Float64Array.of(1, 2, 4),
          variants: [variant('ours', [1, 2, 4.001]), variant('good peer', [1, 2.0001, 4]), variant('bad peer', [1, 2.5, 4])],
        },
        {
          kernel: 'k2',
          size: '1',
          flops: 1,
          bytes: 1,
          tolerance: 1e-3,
          reference: () => Float64Array.of(1),
          variants: [variant('ours', [Number.NaN])],
        },
      ],
    };
    const [c, c2] = await runSuites({ engine: null as never, tf: null, quick: true }, [suite], { warmup: 0, reps: 1 });
    expect(c.results.map((r) => r.variant)).toEqual(['ours', 'good peer']);
    expect(c.wrong).toEqual([{ variant: 'bad peer', maxError: 0.125, tolerance: 1e-3 }]);
    expect(runs).not.toContain('bad peer');
    expect(c2.wrong?.map((w) => [w.variant, w.maxError])).toEqual([['ours', Infinity]]);
    expect(relativeError(Float32Array.of(1, 2), Float64Array.of(1))).toBe(Infinity);
  });

  it('an interleaved case sets every variant up, then alternates their timed calls', async () => {
    const runs: string[] = [];
    const variant = (name: string) => ({
      name,
      setup: async () => ({ run: async () => void runs.push(name), dispose() {} }),
    });
    const suite = {
      name: 's',
      description: '',
      cases: (): BenchCase[] => [
        { kernel: 'k', size: '1', flops: 1, bytes: 1, interleave: true, variants: [variant('ours'), variant('peer')] },
      ],
    };
    const [c] = await runSuites({ engine: null as never, tf: null, quick: true }, [suite], { warmup: 1, reps: 3 });
    expect(runs).toEqual(['ours', 'peer', 'ours', 'peer', 'ours', 'peer', 'ours', 'peer']);
    expect(c.results.map((r) => [r.variant, r.reps])).toEqual([
      ['ours', 3],
      ['peer', 3],
    ]);
  });
});

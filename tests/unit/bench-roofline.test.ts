// The bench report's roofline figures (bench/roofline.ts) and what the CLI records about the machine
// (bench/kit/system.ts): peaks from the table or typed, the bytes a decode step must read, the share
// columns and lines, and the parsers for nvidia-smi, /proc/driver/nvidia, vulkaninfo and a manifest.
import { describe, expect, it } from 'vitest';
import { manifestVersion, parseNvidiaProc, parseNvidiaSmi, parseVulkaninfo } from '../../bench/kit/system';
import { report } from '../../bench/report';
import { decodeStepBytes, formatShare, peakFor, roofline, rooflineLines } from '../../bench/roofline';
import type { CaseResult } from '../../bench/suites/types';

const H100 = { vendor: 'nvidia', architecture: 'hopper', device: 'NVIDIA H100 80GB HBM3', description: 'NVIDIA: 550.54.15' };
const SWIFTSHADER = {
  vendor: 'google',
  architecture: 'swiftshader',
  device: 'swiftshader-device-subzero-',
  description: 'SwiftShader driver 5.0.0',
};

/**
 * A decode step of 100 MB of weights at 2 ms (f32) and 0.5 ms (q4_0, 30 MB): 50 and 60 GB/s. The case's
 * own bytes (200 MB) and the rates from them are what each variant's minimum replaces.
 */
const decode: CaseResult = {
  suite: 'gpt2',
  kernel: 'gpt2 decode step',
  size: 'pos 16..',
  flops: 2e8,
  bytes: 2e8,
  tokens: 1,
  results: [
    { variant: 'ours', medianMs: 2, gflops: 100, gbps: 100, minMs: 2, maxMs: 2, reps: 1, info: { minBytes: 1e8 } },
    { variant: 'q4_0', medianMs: 0.5, gflops: 400, gbps: 400, minMs: 0.5, maxMs: 0.5, reps: 1, info: { minBytes: 3e7 } },
  ] as CaseResult['results'],
  skipped: [],
};
const matmul: CaseResult = {
  suite: 'matmul',
  kernel: 'matmul',
  size: '1024x1024x1024',
  flops: 2 * 1024 ** 3,
  bytes: 12 * 1024 ** 2,
  results: [{ variant: 'ours', medianMs: 1, gflops: 2147.48, gbps: 12.58, minMs: 1, maxMs: 1, reps: 1 }] as CaseResult['results'],
  skipped: [],
};

describe('bench roofline', () => {
  it('peaks come from the table, typed values win and fill in, bad ones are refused', () => {
    expect(peakFor(H100)).toEqual({ name: 'NVIDIA H100 SXM', gflops: 67000, gbps: 3350, source: 'table' });
    expect(peakFor(SWIFTSHADER)).toBeNull();
    expect(peakFor({ ...H100, description: 'NVIDIA: 550.54.15 NVIDIA H100 PCIe' })?.name).toBe('NVIDIA H100 PCIe');
    expect(peakFor(H100, { gbps: 2000 })).toEqual({ name: 'NVIDIA H100 SXM', gflops: 67000, gbps: 2000, source: 'typed' });
    expect(peakFor(SWIFTSHADER, { gflops: 50 })).toEqual({ name: 'typed peak', gflops: 50, gbps: 0, source: 'typed' });
    expect(() => peakFor(H100, { gbps: Number.NaN })).toThrow(/--peak-gbps must be a positive number, got NaN/);
    expect(() => peakFor(H100, { gflops: -1 })).toThrow(/--peak-gflops/);
  });

  it('a decode step reads every weight and the KV cache up to its position', () => {
    expect(decodeStepBytes(1000, 2560, 256, 16)).toBe(1000 + 160);
    expect(decodeStepBytes(1000, 2560, 256, 18.5)).toBe(1000 + 185);
    expect(decodeStepBytes(1000, 2560, 256, 999)).toBe(1000 + 2560); // never more than the cache
  });

  it("each variant's share uses its own minimum bytes, else the case's", () => {
    const peak = { name: 'p', gflops: 1000, gbps: 100, source: 'typed' as const };
    const f32 = roofline(decode, decode.results[0], peak);
    expect(f32.gbps).toBeCloseTo(50, 9);
    expect(f32.share).toEqual({ percent: 50, of: 'bandwidth' });
    const q4 = roofline(decode, decode.results[1], peak);
    expect(q4.bytes).toBe(3e7);
    expect(q4.gbps).toBeCloseTo(60, 9);
    expect(q4.share).toEqual({ percent: expect.closeTo(60, 9), of: 'bandwidth' }); // 60 of 100 GB/s beats 400 of 1000 GFLOP/s
    expect(roofline(matmul, matmul.results[0], peak).share).toEqual({ percent: expect.closeTo(214.7, 1), of: 'FP32' });
    expect(roofline(matmul, matmul.results[0], null).share).toBeNull();
    expect(formatShare({ percent: 3.14, of: 'bandwidth' })).toBe('3.1% BW');
    expect(formatShare({ percent: 0.01234, of: 'FP32' })).toBe('0.012% FP32');
    expect(formatShare(null)).toBe('-');
  });

  it('the report has a % peak column and a memory-limit line per memory-bound variant', () => {
    const peak = peakFor(H100);
    const text = report([matmul, decode], peak);
    expect(text).toMatch(/^kernel\s+size\s+ours ms\s+ours\s+GB\/s\s+% peak/);
    expect(text).toMatch(/^matmul\s+1024x1024x1024\s+1\.000\s+2147 GFLOP\/s\s+12\.58\s+3\.2% FP32/m);
    expect(text).toContain('peaks (known): NVIDIA H100 SXM, 67000 GFLOP/s FP32, 3350 GB/s');
    expect(text).toContain(
      'gpt2 decode step pos 16.. q4_0: reads at least 30.0 MB per token, 60.00 GB/s, 1.8% of the memory limit (3350 GB/s)',
    );
    expect(text).not.toMatch(/minBytes/);
    // Ours' GB/s is its own 100 MB over 2 ms (not the case's 200 MB), with its share of 3350 GB/s.
    expect(text).toMatch(/^gpt2 decode step\s+pos 16\.\.\s+2\.000\s+2\.00 ms\/token\s+50\.00\s+1\.5% BW/m);
    expect(rooflineLines([matmul], peak)).toEqual([]);
    expect(report([matmul], null)).toContain('no peak known for this adapter (--peak-gflops N --peak-gbps N gives them)');
  });
});

describe('bench system info', () => {
  it('reads nvidia-smi, /proc/driver/nvidia, vulkaninfo and a driver manifest', () => {
    expect(parseNvidiaSmi('NVIDIA H100 80GB HBM3, 550.54.15\nNVIDIA H100 80GB HBM3, 550.54.15\n')).toEqual({
      gpu: 'NVIDIA H100 80GB HBM3',
      driver: '550.54.15',
    });
    expect(parseNvidiaSmi('')).toBeNull();
    expect(parseNvidiaProc('NVRM version: NVIDIA UNIX x86_64 Kernel Module  550.54.15  Tue Mar  5 22:23:56 UTC 2024\n')).toBe('550.54.15');
    expect(parseNvidiaProc('nothing')).toBeNull();
    const summary = [
      'Devices:',
      '========',
      'GPU0:',
      '\tapiVersion         = 1.3.277',
      '\tdriverVersion      = 550.54.15.0',
      '\tdeviceName         = NVIDIA H100 80GB HBM3',
      '\tdriverName         = NVIDIA',
      '\tdriverInfo         = 550.54.15',
    ].join('\n');
    expect(parseVulkaninfo(summary)).toEqual({ gpu: 'NVIDIA H100 80GB HBM3', vulkan: '1.3.277', driver: 'NVIDIA 550.54.15' });
    expect(parseVulkaninfo('')).toEqual({ gpu: undefined, vulkan: undefined, driver: undefined });
    expect(
      manifestVersion('{"file_format_version": "1.0.1", "ICD": {"library_path": "libGLX_nvidia.so.0", "api_version": "1.3.277"}}'),
    ).toBe('1.3.277');
    expect(manifestVersion('not json')).toBeNull();
  });
});

// Peak FP32 throughput and memory bandwidth of common GPUs (vendor spec sheets), to show each result
// as a fraction of what the hardware can do. Matched against the adapter's vendor / architecture /
// description; the page lets the user correct or fill in the numbers.

export interface Peak {
  name: string;
  gflops: number;
  gbps: number;
}

/**
 * Chrome reports only vendor and architecture unless a flag is set (device and description stay
 * empty), so an architecture narrows the table to the entries the chooser offers first.
 */
const ARCHITECTURES: Record<string, RegExp> = {
  ampere: /a100|rtx 30/i,
  lovelace: /rtx 40/i,
  'rdna-3': /rx 7/i,
  'gen-12lp': /iris xe/i,
};

export const TABLE: [RegExp, Peak][] = [
  [/h100.*pcie/i, { name: 'NVIDIA H100 PCIe', gflops: 51200, gbps: 2000 }],
  [/h100/i, { name: 'NVIDIA H100 SXM', gflops: 67000, gbps: 3350 }],
  [/h200/i, { name: 'NVIDIA H200', gflops: 67000, gbps: 4800 }],
  [/a100/i, { name: 'NVIDIA A100', gflops: 19500, gbps: 1555 }],
  [/rtx 4090|ad102/i, { name: 'NVIDIA RTX 4090', gflops: 82600, gbps: 1008 }],
  [/rtx 4080/i, { name: 'NVIDIA RTX 4080', gflops: 48700, gbps: 717 }],
  [/rtx 3090/i, { name: 'NVIDIA RTX 3090', gflops: 35600, gbps: 936 }],
  [/rtx 3080/i, { name: 'NVIDIA RTX 3080', gflops: 29800, gbps: 760 }],
  [/rtx 3060/i, { name: 'NVIDIA RTX 3060', gflops: 12700, gbps: 360 }],
  [/rx 7900 xtx/i, { name: 'AMD RX 7900 XTX', gflops: 61400, gbps: 960 }],
  [/apple.*m3 max|m3 max/i, { name: 'Apple M3 Max (40-core GPU)', gflops: 16400, gbps: 400 }],
  [/apple.*m2|\bm2\b/i, { name: 'Apple M2 (10-core GPU)', gflops: 3600, gbps: 100 }],
  [/apple.*m1|\bm1\b/i, { name: 'Apple M1 (8-core GPU)', gflops: 2600, gbps: 68 }],
  [/iris xe|gen-12lp|xe-lp/i, { name: 'Intel Iris Xe (96 EU)', gflops: 2200, gbps: 68 }],
];

/** Entries by name, for the page's chooser. */
export const PEAKS: Record<string, Peak> = Object.fromEntries(TABLE.map(([, p]) => [p.name, p]));

/**
 * A CPU rasteriser posing as a GPU (SwiftShader, llvmpipe / lavapipe, WARP): no hardware peak, and
 * full-size benchmark cases take many minutes, so the page starts with the quick sizes.
 */
export { isSoftwareAdapter } from '../../demos/common/webgpu-check';

/** Table entries that fit the adapter's architecture (empty when it says nothing the table knows). */
export function candidatesFor(adapter: { architecture: string }): Peak[] {
  const re = ARCHITECTURES[adapter.architecture.toLowerCase()];
  return re ? TABLE.map(([, p]) => p).filter((p) => re.test(p.name)) : [];
}

/** The table entry for an adapter, or null when it is not known (SwiftShader, most laptops). */
export function lookupPeak(adapter: { vendor: string; architecture: string; device: string; description: string }): Peak | null {
  const text = `${adapter.vendor} ${adapter.architecture} ${adapter.device} ${adapter.description}`;
  for (const [re, peak] of TABLE) if (re.test(text)) return peak;
  return null;
}

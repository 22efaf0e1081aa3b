// Dispatch-grid helpers shared by the op descriptors.

/** Workgroups for `n` items at `perGroup` items each, folded into 2-D when one dimension is not enough. */
export function grid1D(n: number, perGroup: number, limits: GPUSupportedLimits): [number, number, number] {
  const groups = Math.max(1, Math.ceil(n / perGroup));
  const maxX = limits.maxComputeWorkgroupsPerDimension;
  if (groups <= maxX) return [groups, 1, 1];
  return [maxX, Math.ceil(groups / maxX), 1];
}

/** Workgroups of a tiled kernel whose workgroup computes a 4·WG_Y × 4·WG_X tile, one grid layer per batch. */
export function tileGrid(M: number, N: number, batch: number, tiles: Record<string, number>): [number, number, number] {
  return [ceilDiv(N, 4 * tiles.WG_X), ceilDiv(M, 4 * tiles.WG_Y), batch];
}

export function ceilDiv(a: number, b: number): number {
  return Math.ceil(a / b);
}

/** A shape-class lookup in the tuning table, falling back to the given defaults. */
export function tuned(
  tuning: Record<string, Record<string, number>>,
  key: string,
  defaults: Record<string, number>,
): Record<string, number> {
  return { ...defaults, ...(tuning[key] ?? {}) };
}

// Dispatch-grid helpers shared by the op descriptors.

/** Workgroups for `n` items at `perGroup` items each, folded into 2-D when one dimension is not enough. */
export function grid1D(n: number, perGroup: number, limits: GPUSupportedLimits): [number, number, number] {
  const groups = Math.max(1, Math.ceil(n / perGroup));
  const maxX = limits.maxComputeWorkgroupsPerDimension;
  if (groups <= maxX) return [groups, 1, 1];
  return [maxX, Math.ceil(groups / maxX), 1];
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

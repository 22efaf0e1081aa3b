// Workgroup numbering shared by the kernels.

// The flat index of a workgroup in a grid folded into two dimensions (ops/grid.ts: grid1D folds a
// grid wider than maxComputeWorkgroupsPerDimension into rows of that many).
fn flat_group(wid: vec3<u32>, nwg: vec3<u32>) -> u32 {
  return wid.y * nwg.x + wid.x;
}

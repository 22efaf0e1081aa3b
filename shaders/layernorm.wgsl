// Layer norm over the last dimension, one workgroup per row, as PyTorch's nn.LayerNorm:
//   y = (x - mean) / sqrt(var + eps) * gamma + beta,  var biased (divided by C)
// RMS (Llama's RMSNorm): y = x / sqrt(mean(x²) + eps) * gamma, no mean and no beta.
// Optionally x is first replaced by x + residual (HAS_RESIDUAL). Each thread keeps its part of the
// row in registers; mean and variance are two passes over those registers (no cancellation from
// E[x^2] - E[x]^2). Entries: main (any C ≤ 32 * WG), main_vec4 (C % 4 == 0, C ≤ 32 * WG).
// Bindings: 0 params, 1 x, 2 gamma, 3 beta, 4 residual (dummy unless HAS_RESIDUAL), 5 out.
//#import lib/index
//#import lib/reduce

override WG: u32 = 256;
override HAS_RESIDUAL: bool = false;
override RMS: bool = false;

struct Params {
  C: u32,
  eps: f32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> gamma: array<f32>;
@group(0) @binding(3) var<storage, read> beta: array<f32>;
@group(0) @binding(4) var<storage, read> residual: array<f32>;
@group(0) @binding(5) var<storage, read_write> out: array<f32>;

@group(0) @binding(1) var<storage, read> x4: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> gamma4: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> beta4: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> residual4: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read_write> out4: array<vec4<f32>>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let C = params.C;
  let base = flat_group(wid, nwg) * C;
  var vals: array<f32, 32>;
  var s = 0.0;
  for (var i = 0u; i < 32u; i++) {
    let c = lid + i * WG;
    if (c < C) {
      var v = x[base + c];
      if (HAS_RESIDUAL) { v += residual[base + c]; }
      vals[i] = v;
      s += v;
    }
  }
  var mean = 0.0;
  if (!RMS) { mean = wg_sum(s, lid) / f32(C); }
  var q = 0.0;
  for (var i = 0u; i < 32u; i++) {
    if (lid + i * WG < C) { let d = vals[i] - mean; q += d * d; }
  }
  let inv = inverseSqrt(wg_sum(q, lid) / f32(C) + params.eps);
  for (var i = 0u; i < 32u; i++) {
    let c = lid + i * WG;
    if (c < C) {
      let y = (vals[i] - mean) * inv * gamma[c];
      out[base + c] = select(y + beta[c], y, RMS);
    }
  }
}

@compute @workgroup_size(WG)
fn main_vec4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
             @builtin(local_invocation_index) lid: u32) {
  let C4 = params.C / 4u;
  let base = flat_group(wid, nwg) * C4;
  var vals: array<vec4<f32>, 8>;
  var s = vec4(0.0);
  for (var i = 0u; i < 8u; i++) {
    let c = lid + i * WG;
    if (c < C4) {
      var v = x4[base + c];
      if (HAS_RESIDUAL) { v += residual4[base + c]; }
      vals[i] = v;
      s += v;
    }
  }
  var mean = 0.0;
  if (!RMS) { mean = wg_sum(dot(s, vec4(1.0)), lid) / f32(params.C); }
  var q = 0.0;
  for (var i = 0u; i < 8u; i++) {
    if (lid + i * WG < C4) { let d = vals[i] - mean; q += dot(d, d); }
  }
  let inv = inverseSqrt(wg_sum(q, lid) / f32(params.C) + params.eps);
  for (var i = 0u; i < 8u; i++) {
    let c = lid + i * WG;
    if (c < C4) {
      let y = (vals[i] - mean) * inv * gamma4[c];
      out4[base + c] = select(y + beta4[c], y, RMS);
    }
  }
}

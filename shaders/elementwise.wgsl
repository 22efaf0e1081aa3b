// Element-wise ops over flat f32 arrays.
//   binary: out[i] = a[i] OP b[i % len_b]   (OP 0: add, 1: mul); b may be a row broadcast over a
//   unary:  out[i] = f(a[i])                (OP 0: GELU, tanh approximation as GPT-2; 1: GELU, exact
//                                            erf form as BERT; 2: ReLU; 3: SiLU; 4: tanh)
// Both have a vec4 form (binary_vec4 / unary_vec4) for lengths that are multiples of 4.
// The grid may be 2-D when one dimension is not enough: the flat index folds wid.y in.
// Bindings: 0 params, 1 a, 2 b (binary only), then out.
//#import lib/index
//#import lib/gelu

override WG: u32 = 256;
override OP: u32 = 0;

struct Params {
  len: u32,     // elements (binary/unary) or vec4s (the _vec4 forms) in out
  len_b: u32,   // elements or vec4s in b (binary only)
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

@group(0) @binding(1) var<storage, read> a4: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> b4: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> out4: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> unary_out: array<f32>;
@group(0) @binding(2) var<storage, read_write> unary_out4: array<vec4<f32>>;

fn flat_index(wid: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {
  return flat_group(wid, nwg) * WG + lid;
}

/** erfc(z) for z ≥ 0 (Numerical Recipes' erfcc, Chebyshev fit: fractional error < 1.2e-7 everywhere). */
fn erfc_pos(z: vec4<f32>) -> vec4<f32> {
  let t = 1.0 / (1.0 + 0.5 * z);
  let p = -1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807
        + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  return t * exp(-z * z + p);
}

/**
 * x·Φ(x) = 0.5·x·(1 + erf(x/√2)), written through erfc(|x|/√2) so that both tails keep their relative
 * precision: 0.5·x·erfc(|x|/√2) below zero, x - 0.5·x·erfc(x/√2) above.
 */
fn gelu_erf(x: vec4<f32>) -> vec4<f32> {
  let e = 0.5 * x * erfc_pos(abs(x) * 0.7071067811865476);
  return select(x - e, e, x < vec4(0.0));
}

/** The unary function OP names. tanh's argument is clamped as gelu's is (tanh(15) == 1 in f32). */
fn unary_op(x: vec4<f32>) -> vec4<f32> {
  switch OP {
    case 1u: { return gelu_erf(x); }
    case 2u: { return max(x, vec4(0.0)); }
    case 3u: { return x / (1.0 + exp(-x)); }
    case 4u: { return tanh(clamp(x, vec4(-15.0), vec4(15.0))); }
    default: { return gelu(x); }
  }
}

fn binary_op(x: vec4<f32>, y: vec4<f32>) -> vec4<f32> {
  if (OP == 1u) { return x * y; }
  return x + y;
}

@compute @workgroup_size(WG)
fn binary(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
          @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid);
  if (i >= params.len) { return; }
  out[i] = binary_op(vec4(a[i]), vec4(b[i % params.len_b])).x;
}

@compute @workgroup_size(WG)
fn binary_vec4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid);
  if (i >= params.len) { return; }
  out4[i] = binary_op(a4[i], b4[i % params.len_b]);
}

@compute @workgroup_size(WG)
fn unary(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
         @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid);
  if (i >= params.len) { return; }
  unary_out[i] = unary_op(vec4(a[i])).x;
}

@compute @workgroup_size(WG)
fn unary_vec4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
              @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid);
  if (i >= params.len) { return; }
  unary_out4[i] = unary_op(a4[i]);
}

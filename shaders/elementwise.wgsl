// Element-wise ops over flat f32 arrays.
//   binary: out[i] = a[i] OP b[i % len_b]   (OP 0: add, 1: mul); b may be a row broadcast over a
//   unary:  out[i] = f(a[i])                (OP 0: GELU, tanh approximation as GPT-2)
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
  unary_out[i] = gelu(vec4(a[i])).x;
}

@compute @workgroup_size(WG)
fn unary_vec4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
              @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid);
  if (i >= params.len) { return; }
  unary_out4[i] = gelu(a4[i]);
}

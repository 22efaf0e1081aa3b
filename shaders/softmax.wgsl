// Numerically stable softmax over the last dimension, one workgroup per row, in two passes over it:
//   m = max(x); y = exp(x - m) / sum(exp(x - m))
// 1. Each thread walks its share of the row once, four elements a step, keeping a running maximum m
//    and the sum s of exp(x - m) (online softmax, Milakov & Gimelshein 2018): a new maximum rescales
//    s by exp(m_old - m_new), so one pass finds both.
// 2. The threads' (m, s) pairs merge (lib/maxsum: a workgroup-memory tree, or with subgroups a merge
//    in registers and one barrier; deterministic either way: the same pairs meet in the same order on
//    every run), then every thread writes exp(x - M) / S.
// Entries: main (any N), main_vec4 (N % 4 == 0: vec4 loads and stores).
// WG, the threads per row, is a tuning choice (ops/softmax.ts): a long row on a GPU wants many threads
// (more loads in flight for each of few rows); a software adapter runs each subgroup of a workgroup
// with barriers as a coroutine of its own and wants few.
// Bindings: 0 params, 1 x, 2 out.
//#import lib/index
//#import lib/consts
//#import lib/maxsum

override WG: u32 = 256;

struct Params {
  N: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

@group(0) @binding(1) var<storage, read> x4: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> out4: array<vec4<f32>>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let N = params.N;
  let base = flat_group(wid, nwg) * N;
  var acc = MaxSum(-F32_MAX, 0.0);
  // Four elements per step (strided by WG, so a workgroup's loads stay contiguous): one rescale per
  // four, five exponentials per four elements, no branch.
  let N4 = N - N % (4u * WG);
  var c = lid;
  for (; c < N4; c += 4u * WG) {
    let v = vec4(x[base + c], x[base + c + WG], x[base + c + 2u * WG], x[base + c + 3u * WG]);
    acc = add4(acc, v);
  }
  for (; c < N; c += WG) { acc = merge(acc, MaxSum(x[base + c], 1.0)); }
  let row = row_max_sum(acc, lid);
  let inv = 1.0 / row.s;
  // The write pass unrolled the same way: four loads in flight per thread before the first store.
  c = lid;
  for (; c < N4; c += 4u * WG) {
    let v = vec4(x[base + c], x[base + c + WG], x[base + c + 2u * WG], x[base + c + 3u * WG]);
    let y = exp(v - vec4(row.m)) * inv;
    out[base + c] = y.x;
    out[base + c + WG] = y.y;
    out[base + c + 2u * WG] = y.z;
    out[base + c + 3u * WG] = y.w;
  }
  for (; c < N; c += WG) { out[base + c] = exp(x[base + c] - row.m) * inv; }
}

@compute @workgroup_size(WG)
fn main_vec4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
             @builtin(local_invocation_index) lid: u32) {
  let N4 = params.N / 4u;
  let base = flat_group(wid, nwg) * N4;
  var acc = MaxSum(-F32_MAX, 0.0);
  for (var c = lid; c < N4; c += WG) { acc = add4(acc, x4[base + c]); }
  let row = row_max_sum(acc, lid);
  let inv = 1.0 / row.s;
  for (var c = lid; c < N4; c += WG) { out4[base + c] = exp(x4[base + c] - vec4(row.m)) * inv; }
}



// Per-channel int8 quantization of f32 weights on the GPU, round to nearest (half away from zero),
// absmax scales. W is read as [K, N] (KN: Conv1D / x·W layout) or [N, K] (NK: nn.Linear layout); the
// result is always row-major by output channel: qw [N, Kp / 4] (four int8 per u32, zero padding past
// K) and scales [N, 1]. (q8_0's blocks are written by quantize_blocks.wgsl.)
//   scales: one thread per row: scale = max |w| / 127 over the row
//   pack:   one thread per output word: four weights divided by their scale, rounded, clamped to ±127
// Bindings (scales): 0 params, 1 w, 2 scales out. Bindings (pack): 0 params, 1 w, 2 scales, 3 qw out.
//#import lib/index

override WG: u32 = 64;

struct Params {
  K: u32,
  N: u32,
  row_words: u32,
  n_blocks: u32,
  kn: u32,   // 1: W is [K, N]; 0: W is [N, K]
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> w: array<f32>;
@group(0) @binding(2) var<storage, read_write> scales_out: array<f32>;
@group(0) @binding(2) var<storage, read> scales: array<f32>;
@group(0) @binding(3) var<storage, read_write> qw: array<u32>;

fn weight(n: u32, k: u32) -> f32 {
  if (k >= params.K) { return 0.0; }
  if (params.kn == 1u) { return w[k * params.N + n]; }
  return w[n * params.K + k];
}

fn index(wid: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {
  return flat_group(wid, nwg) * WG + lid;
}

@compute @workgroup_size(WG)
fn scales_main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) lid: u32) {
  let i = index(wid, nwg, lid);
  if (i >= params.N * params.n_blocks) { return; }
  let n = i / params.n_blocks;
  var amax = 0.0;
  for (var k = 0u; k < params.K; k++) { amax = max(amax, abs(weight(n, k))); }
  scales_out[i] = amax / 127.0;
}

@compute @workgroup_size(WG)
fn pack(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = index(wid, nwg, lid);
  if (i >= params.N * params.row_words) { return; }
  let n = i / params.row_words;
  let k0 = (i % params.row_words) * 4u;
  let s = scales[n];
  var word = 0u;
  for (var j = 0u; j < 4u; j++) {
    var q = 0.0;
    if (s > 0.0) {
      let v = weight(n, k0 + j) / s;
      q = clamp(sign(v) * floor(abs(v) + 0.5), -127.0, 127.0);
    }
    word |= (u32(i32(q)) & 0xffu) << (8u * j);
  }
  qw[i] = word;
}

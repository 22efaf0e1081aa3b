// Matmul against packed weights, dequantised in registers (never to an f32 copy in memory):
//   out = act(a · dequant(W)ᵀ + delta + bias) + residual,  a [M, K], W [N, K] packed as ops/quantize.ts does
// The cores are matmul.wgsl's (lib/tile.wgsl's GEMM, lib/gemv.wgsl's GEMV); the format is a library
// the op aliases for lib/weights (ops/matmul.ts WEIGHT_FORMATS): lib/weights_int8 (per-channel int8,
// f32 scales), lib/weights_half (f16, or bf16 through lib/bf16), lib/weights_blocks (llama.cpp's
// q8_0, q4_0, q4_k, q6_k through lib/q8_0's twins; q8_0 with dot4I8Packed through
// lib/blocks_gemv_dp4a).
// Entry points: gemm (any M, K: B's slice dequantised as it is staged), gemv (M == 1, K % 4 == 0).
// Bindings: 0 params, 1 a (the activations), 2 qw, 3 scales (per-channel int8 only), 4 bias,
// 5 residual, 6 delta, 7 out.
//#import lib/matmul_io
//#import lib/tile
//#import lib/lanes
//#import lib/gemv
//#import lib/weights

@compute @workgroup_size(WG_X, WG_Y, 1)
fn gemm(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
        @builtin(local_invocation_index) tid: u32) {
  tile_matmul(wid, lid, tid);
}

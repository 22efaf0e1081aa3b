// The dot4I8Packed GEMV chunk of lib/weights_blocks.wgsl (twin of lib/blocks_gemv.wgsl), for q8_0
// only, where the adapter has the packed_4x8_integer_dot_product language feature; M == 1, K ≤ 4096.
// stage_x quantizes the activations per block of 32 (absmax / 127, round half away from zero) into
// workgroup memory once per workgroup; each weight block then costs eight 4-way int8 dot products and
// one scale multiply. Less exact than lib/blocks_gemv: the activations lose precision too (the tests
// report by how much).

const CHUNK_K: u32 = 32u;
alias Chunk = u32;   // the block's index in the row: its activations are in xq / xs

var<workgroup> xq: array<u32, 1024>;
var<workgroup> xs: array<f32, 128>;

fn stage_x(tid: u32) {
  let K = params.K;
  for (var b = tid; b < row_blocks(); b += 256u) {
    var amax = 0.0;
    for (var k = b * 32u; k < min(K, b * 32u + 32u); k++) { amax = max(amax, abs(a[k])); }
    let s = amax / 127.0;
    xs[b] = s;
    for (var w = 0u; w < 8u; w++) {
      var word = 0u;
      for (var j = 0u; j < 4u; j++) {
        let k = b * 32u + w * 4u + j;
        var q = 0.0;
        if (k < K && s > 0.0) {
          let v = a[k] / s;
          q = clamp(sign(v) * floor(abs(v) + 0.5), -127.0, 127.0);
        }
        word |= (u32(i32(q)) & 0xffu) << (8u * j);
      }
      xq[b * 8u + w] = word;
    }
  }
  workgroupBarrier();
}

fn load_chunk(c: u32) -> Chunk {
  return c;
}

fn add_row(acc: f32, n: u32, row: u32, c: u32, x: ptr<function, Chunk>) -> f32 {
  // Block (n, b) of q8_0: an f16 scale, then 32 int8 at an even byte offset (lib/q8_0).
  let b = *x;
  let at = row + b * BLOCK_BYTES;
  var d = 0;
  for (var w = 0u; w < 8u; w++) { d += dot4I8Packed(xq[b * 8u + w], word_at(at + 2u + 4u * w)); }
  return fma(f32(d), xs[b] * half_at(at), acc);
}

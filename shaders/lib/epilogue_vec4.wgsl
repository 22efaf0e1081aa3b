// The matmul epilogue (lib/epilogue.wgsl) on four columns at once (matmul.wgsl's main_vec4 and the
// GEMV of lib/columns4 store vec4s), and the one scalar store of the matmul cores (lib/tile's GEMM,
// lib/gemv's GEMV). `delta4`, `bias4`, `residual4`, `out` and `out4` are the bindings of lib/matmul_io.wgsl:
// an entry point may use either view of a binding, never both.
//#import lib/epilogue

/** Output columns 4·n4..4·n4+3, whose residual is residual4[o4]. */
fn epilogue4(v: vec4<f32>, n4: u32, o4: u32) -> vec4<f32> {
  var r = v;
  if (HAS_DELTA) { r += delta4[o4]; }
  if (HAS_BIAS) { r += bias4[n4]; }
  r = activate(r);
  if (HAS_RESIDUAL) { r += residual4[o4]; }
  return r;
}

/**
 * Writes `count` (1..4) adjacent outputs of one row through the epilogue: v[j] is column n + j, at
 * flat index o + j. SwiGLU (ACT 2): pairs (n even, count even) become one output each at (o + j) / 2.
 */
fn store_out(o: u32, n: u32, v: vec4<f32>, count: u32) {
  for (var j = 0u; j < count; j++) {
    if (ACT != 2u) { out[o + j] = epilogue(v[j], n + j, o + j); }
    else if (j % 2u == 0u) { out[(o + j) / 2u] = glu(v[j], v[j + 1u], n + j, o + j); }
  }
}

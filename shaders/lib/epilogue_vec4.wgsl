// The matmul epilogue (lib/epilogue.wgsl) on four columns at once, for kernels that also declare
// `bias4` and `residual4` as array<vec4<f32>> views of the same bindings.
//#import lib/epilogue

/** Output columns 4·n4..4·n4+3, whose residual is residual4[o4]. */
fn epilogue4(v: vec4<f32>, n4: u32, o4: u32) -> vec4<f32> {
  var r = v;
  if (HAS_BIAS) { r += bias4[n4]; }
  r = activate(r);
  if (HAS_RESIDUAL) { r += residual4[o4]; }
  return r;
}

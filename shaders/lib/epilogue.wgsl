// The fused epilogue of the matmul family, in this order: + delta[o] (HAS_DELTA: a low-rank update such
// as a LoRA adapter's x·Aᵀ·Bᵀ, [M, N] before any activation or SwiGLU pairing), + bias[n] (HAS_BIAS),
// the activation (ACT), + residual (HAS_RESIDUAL). The importing shader declares the bindings `delta`
// (the un-activated output's shape), `bias` [N] and `residual` (the output's shape) as array<f32>;
// unused ones are bound to a dummy buffer and never read, since the override constants fold the
// branches away.
//#import lib/gelu

override HAS_BIAS: bool = false;
override ACT: u32 = 0;          // 0: identity, 1: GELU (tanh approximation, as GPT-2), 2: SwiGLU pairs
override HAS_RESIDUAL: bool = false;
override HAS_DELTA: bool = false;

fn activate(v: vec4<f32>) -> vec4<f32> {
  if (ACT == 1u) { return gelu(v); }
  return v;
}

/**
 * ACT 2, SwiGLU (Llama's MLP): the weights' output rows interleave gate and up (row 2j is gate j, row
 * 2j + 1 up j), so a kernel's adjacent accumulators g (column n, even) and u become one output,
 * silu(g) · u, at column n / 2 of an output half as wide (o: g's flat index before pairing). The intermediate never exists unpaired.
 */
fn glu(g: f32, u: f32, n: u32, o: u32) -> f32 {
  var gb = g;
  var ub = u;
  if (HAS_DELTA) {
    gb += delta[o];
    ub += delta[o + 1u];
  }
  if (HAS_BIAS) {
    gb += bias[n];
    ub += bias[n + 1u];
  }
  return gb / (1.0 + exp(-gb)) * ub;
}

/** Output column n, whose residual element is residual[o]. */
fn epilogue(v: f32, n: u32, o: u32) -> f32 {
  var r = v;
  if (HAS_DELTA) { r += delta[o]; }
  if (HAS_BIAS) { r += bias[n]; }
  r = activate(vec4(r)).x;
  if (HAS_RESIDUAL) { r += residual[o]; }
  return r;
}

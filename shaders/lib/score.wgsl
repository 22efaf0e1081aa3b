// The attention score hook, one definition for every attention kernel (attention.wgsl and
// sparse_attention.wgsl through lib/flash, attention_decode.wgsl): which keys a query sees, and what
// happens to a score between the dot product and the softmax. src/ops/attention_score.ts is the same
// definition in float64 for the references. Each modifier is an override, off by default, so a kernel
// that uses none compiles to the bare scaled dot product. Its values are fields of lib/attention_params.
//#import lib/attention_params

override CAUSAL: bool = true;   // a query sees no key after its own position
override SOFTCAP: bool = false; // s → softcap · tanh(s / softcap) (Gemma 2's logit soft-capping)
override ALIBI: bool = false;   // s → s − slope(head) · |q_pos − k_pos| (BLOOM, MPT; symmetric in encoders)
override WINDOW: bool = false;  // a query sees only keys with |q_pos − k_pos| < window (sliding window)

/**
 * The keys [x, y) that the query at q_pos sees among its sequence's keys [lo, hi): the causal mask and
 * the window cut the interval, so every mask but a key-padding mask is a range a kernel can skip by.
 */
fn visible_keys(q_pos: u32, lo: u32, hi: u32) -> vec2<u32> {
  var a = lo;
  var b = hi;
  if (CAUSAL) { b = min(b, q_pos + 1u); }
  if (WINDOW) {
    a = max(a, q_pos + 1u - min(q_pos + 1u, params.window));
    b = min(b, q_pos + params.window);
  }
  return vec2(a, b);
}

/** Head h's ALiBi slope (llama.cpp's formula: m0^(h+1) for the first alibi_n heads, then odd powers of m1). */
fn alibi_slope(head: u32) -> f32 {
  if (!ALIBI) { return 0.0; }
  if (head < params.alibi_n) { return pow(params.alibi_m0, f32(head + 1u)); }
  return pow(params.alibi_m1, f32(2u * (head - params.alibi_n) + 1u));
}

/**
 * The scores the softmax sees for keys k_pos, k_pos + 1, k_pos + 2, k_pos + 3, from s = scale · q·k
 * (the kernels pre-scale q). Four at a time, as the flash core scores keys; one key uses `.x`.
 */
fn score_mod(s: vec4<f32>, q_pos: u32, k_pos: u32, slope: f32) -> vec4<f32> {
  var x = s;
  if (SOFTCAP) { x = params.softcap * tanh(x / params.softcap); }
  if (ALIBI) { x -= slope * abs(f32(q_pos) - (f32(k_pos) + vec4(0.0, 1.0, 2.0, 3.0))); }
  return x;
}

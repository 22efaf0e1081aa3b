// GELU, tanh approximation (GPT-2's gelu_new): 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
// Clamping the tanh argument keeps large |x| from overflowing exp inside tanh (tanh(15) == 1 in f32).
fn gelu(x: vec4<f32>) -> vec4<f32> {
  let inner = clamp(0.7978845608028654 * (x + 0.044715 * x * x * x), vec4(-15.0), vec4(15.0));
  return 0.5 * x * (1.0 + tanh(inner));
}

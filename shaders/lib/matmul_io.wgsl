// The matmul family's uniforms and its activation and epilogue bindings, shared by matmul.wgsl and
// dequant_matmul.wgsl. The weights' bindings (2, and 3 for scales) come with the weight format's
// library (lib/weights*.wgsl); 6 is the delta epilogue's. The plan binds each variable to the op's input of the same name (a
// view such as `a4` to `a`); the output is the last binding.

struct Params {
  M: u32,
  N: u32,
  K: u32,
  batch_stride_a: u32,   // elements between batches of A (0: A shared by every batch)
  batch_stride_b: u32,   // elements between batches of B (0: weights shared by every batch)
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(4) var<storage, read> bias: array<f32>;
@group(0) @binding(5) var<storage, read> residual: array<f32>;
@group(0) @binding(6) var<storage, read> delta: array<f32>;
@group(0) @binding(7) var<storage, read_write> out: array<f32>;

@group(0) @binding(1) var<storage, read> a4: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> bias4: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read> residual4: array<vec4<f32>>;
@group(0) @binding(6) var<storage, read> delta4: array<vec4<f32>>;
@group(0) @binding(7) var<storage, read_write> out4: array<vec4<f32>>;

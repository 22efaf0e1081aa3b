// Head dims up to 256 (Gemma): the variant of lib/head_dim_128.wgsl the attention ops alias in for D > 128.
// Twice the private memory per thread, so smaller heads keep the 128 variant.
const MAX_D4 = 64u;

// Head dims up to 128: the size of flash attention's per-thread query and accumulator rows (in vec4s).
// lib/head_dim_256.wgsl is the variant for head dims up to 256 (Gemma), chosen by the op through an alias.
const MAX_D4 = 32u;

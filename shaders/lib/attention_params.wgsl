// The uniforms of every attention kernel (attention.wgsl, attention_decode.wgsl, sparse_attention.wgsl)
// and of the score hook (lib/score), one struct so the hook's fields are declared once. A kernel reads
// the fields it needs; the op leaves the others zero.
struct Params {
  T: u32,               // queries (sparse decode: cache rows)
  S: u32,               // keys, or cache rows
  L: u32,               // decode: keys that count (the query sits at L - 1)
  scale: f32,           // multiplies q·k (the kernels pre-scale q)
  q_offset: u32,        // dense prefill: query t sits at position t + q_offset
  group: u32,           // query heads per KV head (grouped-query attention)
  n_seqs: u32,          // varlen: sequences packed
  heads_per_batch: u32, // key padding: query heads per batch row (ALiBi's head is h mod this)
  n_split: u32,         // decode: key splits (flash-decoding)
  softcap: f32,         // lib/score: SOFTCAP's cap
  alibi_m0: f32,        // lib/score: ALiBi's bases and head count
  alibi_m1: f32,
  alibi_n: u32,
  window: u32,          // lib/score: WINDOW's width
}

@group(0) @binding(0) var<uniform> params: Params;

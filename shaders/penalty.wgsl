// Repetition penalty, as Hugging Face's RepetitionPenaltyLogitsProcessor: every token id that occurs
// among the first `length` ids of `history` (the prompt and what was generated) has its logit divided
// by the penalty when positive, multiplied by it when negative; other logits are copied. One
// workgroup: it copies the row, then (after a storage barrier) rewrites the history's tokens from the
// original logits, so an id that occurs many times is written many times with the same value.
// Bindings: 0 params, 1 logits [V], 2 history (u32), 3 out [V].

override WG: u32 = 256;

struct Params {
  V: u32,
  length: u32,
  penalty: f32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read> history: array<u32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32) {
  for (var v = lid; v < params.V; v += WG) { out[v] = logits[v]; }
  storageBarrier();
  for (var i = lid; i < params.length; i += WG) {
    let id = history[i];
    if (id < params.V) {
      let x = logits[id];
      out[id] = select(x * params.penalty, x / params.penalty, x > 0.0);
    }
  }
}

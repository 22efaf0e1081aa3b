// A block's (largest value m, sum s of exp(v - m)): the state of an online softmax (Milakov &
// Gimelshein 2018). Shared by lib/maxsum and lib/maxsum_subgroup.
//#import lib/consts

struct MaxSum {
  m: f32,
  s: f32,
}

/** Two blocks as one: the sums rescaled to the larger maximum. */
fn merge(a: MaxSum, b: MaxSum) -> MaxSum {
  let m = max(a.m, b.m);
  return MaxSum(m, a.s * exp(a.m - m) + b.s * exp(b.m - m));
}

/** Four more elements: the running maximum moves to theirs if larger, and the sum is rescaled once. */
fn add4(a: MaxSum, v: vec4<f32>) -> MaxSum {
  let m = max(a.m, max(max(v.x, v.y), max(v.z, v.w)));
  let e = exp(v - vec4(m));
  return MaxSum(m, a.s * exp(a.m - m) + (e.x + e.y) + (e.z + e.w));
}


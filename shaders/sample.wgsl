// Picks the next token from one row of logits [rows, V] on the GPU, so a decode step reads back one
// u32 instead of V floats. One workgroup:
//   temperature <= 0: argmax (the lowest index among equal maxima)
//   else: z = logits / temperature; keep the top_k largest (0: all), then the smallest set of largest
//         probabilities whose mass reaches top_p (1: all), as Hugging Face's TopK then TopP warpers;
//         draw u in [0, 1) from (seed, step) and return the token where the cumulative kept mass,
//         in index order, passes u × (kept mass).
// Thresholds are found by bisection on the value (up to 32 halvings of [min z, max z]), so nothing is
// sorted. Top-k stops scanning the row once exactly top_k values lie above the midpoint (that set is
// the top k). Top-p bisects over the values it may keep once at most WG of them are left (at once
// after such a top-k, else after 8 halvings over the row): they are gathered into workgroup memory in
// a fixed order, and the remaining halvings no longer scan the row.
// main() runs the steps in order: argmax, top_k_cut, top_p_cut, draw. WG (threads, a power of two up to
// 256: lib/reduce's limit) sizes the workgroup arrays; src/ops/sample.ts takes it from the tuning table.
// Bindings: 0 params, 1 logits, 2 out (u32 [1]).
//#import lib/consts
//#import lib/reduce

override WG: u32 = 256;
const COARSE_HALVINGS = 8u; // top-p's halvings over the whole row before it gathers
const HALVINGS = 32u;       // halvings of a threshold's range in all

struct Params {
  V: u32,
  row_offset: u32,   // element offset of the row to sample
  temperature: f32,
  top_k: u32,
  top_p: f32,
  seed: u32,
  step: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<u32>;

var<workgroup> best_v: array<f32, WG>;
var<workgroup> best_i: array<u32, WG>;
var<workgroup> prefix: array<f32, WG>;
var<workgroup> chosen: u32;
var<workgroup> kept: array<f32, WG>;   // the values top-p gathered (their count in kept_n)
var<workgroup> kept_n: u32;
var<workgroup> few_kept: u32;

/** A bisection's state: the range [lo, hi] and how many values lie at or above lo. */
struct Cut {
  lo: f32,
  hi: f32,
  above: f32,
}

fn pcg(x: u32) -> u32 {
  let state = x * 747796405u + 2891336453u;
  let word = ((state >> ((state >> 28u) + 4u)) ^ state) * 277803737u;
  return (word >> 22u) ^ word;
}

fn z(c: u32) -> f32 {
  return logits[params.row_offset + c] / params.temperature;
}

/** One thread: prefix[i] becomes the sum of prefix[0..i) (an exclusive scan); returns the total. */
fn scan_prefix() -> f32 {
  var run = 0.0;
  for (var i = 0u; i < WG; i++) { let x = prefix[i]; prefix[i] = run; run += x; }
  return run;
}

/** Kept mass above threshold t, over the whole row. */
fn mass_above(t: f32, m: f32, lid: u32) -> f32 {
  var s = 0.0;
  for (var c = lid; c < params.V; c += WG) { let x = z(c); if (x >= t) { s += exp(x - m); } }
  return wg_sum(s, lid);
}

/** The row's largest logit into best_v[0] and its index into best_i[0], the lowest among equal maxima. */
fn argmax(lid: u32) {
  let V = params.V;
  var bv = -F32_MAX;
  var bi = 0xffffffffu;
  for (var c = lid; c < V; c += WG) {
    let x = logits[params.row_offset + c];
    if (x > bv) { bv = x; bi = c; }
  }
  best_v[lid] = bv;
  best_i[lid] = bi;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s) {
      let ov = best_v[lid + s];
      let oi = best_i[lid + s];
      if (ov > best_v[lid] || (ov == best_v[lid] && oi < best_i[lid])) { best_v[lid] = ov; best_i[lid] = oi; }
    }
    workgroupBarrier();
  }
}

/** The smallest z of the row. */
fn row_min(lid: u32) -> f32 {
  let V = params.V;
  var local_min = F32_MAX;
  for (var c = lid; c < V; c += WG) { local_min = min(local_min, z(c)); }
  return -wg_max(-local_min, lid);
}

/**
 * Top-k: bisects [cut.lo, cut.hi] for the threshold with top_k values at or above it. Once exactly
 * top_k values lie above lo, {z >= lo} is the top k: later halvings scan nothing (every thread sees
 * the same count, so the scans stop together; the barriers stay uniform).
 */
fn top_k_cut(cut: Cut, lid: u32) -> Cut {
  var b = cut;
  var end = params.V;
  for (var it = 0u; it < HALVINGS; it++) {
    let mid = 0.5 * (b.lo + b.hi);
    var cnt = 0.0;
    for (var c = lid; c < end; c += WG) { if (z(c) >= mid) { cnt += 1.0; } }
    let n = wg_sum(cnt, lid);
    // Selects, not branches: what follows a barrier must stay in uniform control flow.
    let scanned = end != 0u;
    let up = scanned && n >= f32(params.top_k);
    b.lo = select(b.lo, mid, up);
    b.above = select(b.above, n, up);
    b.hi = select(b.hi, mid, scanned && !up);
    end = select(end, 0u, up && n == f32(params.top_k));
  }
  return b;
}

/**
 * Top-p's first halvings, over the whole row, counting the values at or above lo as they go: they
 * narrow the range 256-fold, after which those values usually fit in workgroup memory.
 */
fn coarse_halvings(cut: Cut, goal: f32, m: f32, lid: u32) -> Cut {
  let V = params.V;
  var b = cut;
  for (var it = 0u; it < COARSE_HALVINGS; it++) {
    let mid = 0.5 * (b.lo + b.hi);
    var s = 0.0;
    var n = 0.0;
    for (var c = lid; c < V; c += WG) { let x = z(c); if (x >= mid) { s += exp(x - m); n += 1.0; } }
    let mass = wg_sum(s, lid);
    let count = wg_sum(n, lid);
    let up = mass >= goal;
    b.lo = select(b.lo, mid, up);
    b.hi = select(mid, b.hi, up);
    b.above = select(b.above, count, up);
  }
  return b;
}

/**
 * Gathers the values at or above lo into kept[]: each thread's (index order within its stride) after
 * those of lower threads. Returns this thread's kept value (-F32_MAX past the `count` gathered).
 */
fn gather_kept(lo: f32, count: u32, lid: u32) -> f32 {
  let V = params.V;
  var mine = 0u;
  for (var c = lid; c < V; c += WG) { if (z(c) >= lo) { mine++; } }
  prefix[lid] = f32(mine);
  workgroupBarrier();
  if (lid == 0u) { scan_prefix(); }
  workgroupBarrier();
  var at = u32(prefix[lid]);
  for (var c = lid; c < V; c += WG) {
    let x = z(c);
    if (x >= lo && at < WG) { kept[at] = x; at++; }
  }
  workgroupBarrier();
  return select(-F32_MAX, kept[lid], lid < count);
}

/**
 * Top-p: HALVINGS halvings in all of [thr, max z] for the largest threshold whose kept mass reaches
 * top_p of the mass at or above thr; `above` values lie at or above thr.
 */
fn top_p_cut(thr: f32, m: f32, above: f32, lid: u32) -> f32 {
  var b = Cut(thr, m, above);
  var done = 0u;
  var goal = 0.0;
  if (lid == 0u) { few_kept = select(0u, 1u, above <= f32(WG)); }
  let few = workgroupUniformLoad(&few_kept) == 1u;
  if (!few) {
    goal = params.top_p * mass_above(thr, m, lid);
    b = coarse_halvings(b, goal, m, lid);
    done = COARSE_HALVINGS;
  }
  if (lid == 0u) { kept_n = select(0xffffffffu, u32(b.above), b.above <= f32(WG)); }
  let gathered = workgroupUniformLoad(&kept_n);
  if (gathered != 0xffffffffu) {
    // The remaining halvings work on the gathered values alone.
    let own = gather_kept(b.lo, gathered, lid);
    if (few) { goal = params.top_p * wg_sum(select(0.0, exp(own - m), own >= b.lo), lid); }
    for (; done < HALVINGS; done++) {
      let mid = 0.5 * (b.lo + b.hi);
      if (wg_sum(select(0.0, exp(own - m), own >= mid), lid) >= goal) { b.lo = mid; } else { b.hi = mid; }
    }
  } else {
    for (; done < HALVINGS; done++) {
      let mid = 0.5 * (b.lo + b.hi);
      if (mass_above(mid, m, lid) >= goal) { b.lo = mid; } else { b.hi = mid; }
    }
  }
  return b.lo;
}

/**
 * The draw: u in [0, kept mass) from (seed, step), and the token where the kept mass, in index order,
 * passes u, into `chosen` (`arg` if rounding leaves none). Each thread owns a contiguous chunk; a scan
 * of chunk masses finds the chunk that holds u.
 */
fn draw(thr: f32, m: f32, arg: u32, lid: u32) {
  let V = params.V;
  let chunk = (V + WG - 1u) / WG;
  let c0 = min(V, lid * chunk);
  let c1 = min(V, c0 + chunk);
  var mine = 0.0;
  for (var c = c0; c < c1; c++) { let x = z(c); if (x >= thr) { mine += exp(x - m); } }
  prefix[lid] = mine;
  if (lid == 0u) { chosen = arg; }
  workgroupBarrier();
  if (lid == 0u) { best_v[0] = scan_prefix(); }
  workgroupBarrier();
  let u = f32(pcg(pcg(params.seed) ^ params.step) >> 8u) / 16777216.0 * best_v[0];
  let start = prefix[lid];
  if (mine > 0.0 && u >= start && u < start + mine) {
    var cum = start;
    var pick = 0xffffffffu;
    for (var c = c0; c < c1; c++) {
      let x = z(c);
      if (x >= thr) {
        pick = c;
        cum += exp(x - m);
        if (cum > u) { break; }
      }
    }
    chosen = pick;
  }
  workgroupBarrier();
}

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32) {
  let V = params.V;
  argmax(lid);
  let arg = best_i[0];
  if (params.temperature <= 0.0) {
    if (lid == 0u) { out[0] = arg; }
    return;
  }
  let m = best_v[0] / params.temperature; // the largest z
  var cut = Cut(row_min(lid), m, f32(V));
  if (params.top_k > 0u && params.top_k < V) { cut = top_k_cut(cut, lid); }
  var thr = cut.lo;
  if (params.top_p < 1.0) { thr = top_p_cut(thr, m, cut.above, lid); }
  draw(thr, m, arg, lid);
  if (lid == 0u) { out[0] = chosen; }
}

// One time step of one LSTM layer with PyTorch's nn.LSTM semantics: gates in the order i, f, g, o,
//   gates = xproj[t] + W_hh · h_{t-1}     (xproj = x · W_ihᵀ + b_ih + b_hh, one matmul for all steps)
//   c_t = σ(f) c_{t-1} + σ(i) tanh(g),    h_t = σ(o) tanh(c_t)
// One thread per hidden unit; W_hh is stored transposed ([H, 4H]) so neighbouring threads read
// neighbouring weights. The layer's work buffer hc [T + 3, H] (a state, written in place) holds
// h_0..h_T in rows 0..T and c in rows T+1, T+2 by turns: step t reads h row t and c row T+1+(t%2),
// and writes h row t+1 and c row T+1+((t+1)%2), so no thread overwrites what another still reads.
// Bindings: 0 params, 1 xproj [T, 4H], 2 whh_t [H, 4H], 3 hc (read-write).

override WG: u32 = 64;

struct Params {
  T: u32,
  H: u32,
  t: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> xproj: array<f32>;
@group(0) @binding(2) var<storage, read> whh_t: array<f32>;
@group(0) @binding(3) var<storage, read_write> hc: array<f32>;

fn sigmoid(x: f32) -> f32 {
  return 1.0 / (1.0 + exp(-x));
}

fn tanh_safe(x: f32) -> f32 {
  return tanh(clamp(x, -15.0, 15.0));
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let j = gid.x;
  let H = params.H;
  let T = params.T;
  let t = params.t;
  if (j >= H) { return; }
  let G = 4u * H;
  var acc = vec4(xproj[t * G + j], xproj[t * G + H + j], xproj[t * G + 2u * H + j], xproj[t * G + 3u * H + j]);
  for (var k = 0u; k < H; k++) {
    let hk = hc[t * H + k];
    let row = k * G + j;
    acc = fma(vec4(hk), vec4(whh_t[row], whh_t[row + H], whh_t[row + 2u * H], whh_t[row + 3u * H]), acc);
  }
  let c_prev = hc[(T + 1u + t % 2u) * H + j];
  let c = sigmoid(acc.y) * c_prev + sigmoid(acc.x) * tanh_safe(acc.z);
  hc[(t + 1u) * H + j] = sigmoid(acc.w) * tanh_safe(c);
  hc[(T + 1u + (t + 1u) % 2u) * H + j] = c;
}

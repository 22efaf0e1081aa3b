// A character-level language model around the engine's LSTM: embedding (a table lookup on the CPU),
// nn.LSTM layers, a linear decoder and GPU sampling, replayed one character per run with the LSTM
// state carried on the GPU. The file is a safetensors with the nn.LSTM names plus 'embedding.weight',
// 'decoder.weight', 'decoder.bias', and its metadata gives vocab (JSON), inputSize, hiddenSize, numLayers.
// Each step also returns what the page teaches with: the logits (the next character's probabilities at any
// temperature, on the CPU) and the top layer's cell c and input x, from which gatesOf() recomputes the
// gates i, f, g, o of one unit in float64 (the kernel keeps them in registers only).
import { LSTM, SafetensorsFile, type Engine, type Plan, type SymbolicTensor, type Tensor } from 'webgpu-nlp';

/** One step's results: the sampled next id, the top layer's h and c after the step, its input x, and the logits. */
export interface Step {
  next: number;
  h: Float32Array;
  c: Float32Array;
  x: Float32Array;
  logits: Float32Array;
}

/** The top layer's weights for the CPU's gate recomputation: W_ih [4H, in], W_hh [4H, H], b_ih + b_hh [4H]. */
interface TopLayer {
  wih: Float32Array;
  whh: Float32Array;
  bias: Float32Array;
  inSize: number;
}

export class CharLSTM {
  private constructor(
    readonly engine: Engine,
    readonly lstm: LSTM,
    readonly vocab: string[],
    private readonly embedding: Float32Array,
    private readonly decoder: { w: Tensor; b: Tensor },
    private readonly plan: Plan,
    private readonly top: TopLayer,
  ) {}

  static async load(engine: Engine, bytes: Uint8Array): Promise<CharLSTM> {
    const file = SafetensorsFile.parse(bytes);
    const meta = file.metadata;
    if (!meta.vocab || !meta.hiddenSize)
      throw new Error('this safetensors file has no vocab / hiddenSize metadata, so it is not a character LSTM model');
    const vocab = JSON.parse(meta.vocab) as string[];
    const cfg = { inputSize: Number(meta.inputSize), hiddenSize: Number(meta.hiddenSize), numLayers: Number(meta.numLayers) };
    const V = vocab.length;
    const embedding = file.float32('embedding.weight', [V, cfg.inputSize]);
    const lstm = await LSTM.fromSafetensors(engine, bytes, cfg);
    const w = engine.tensor(file.float32('decoder.weight', [V, cfg.hiddenSize]), [V, cfg.hiddenSize], 'decoder.weight');
    const b = engine.tensor(file.float32('decoder.bias', [V]), [V], 'decoder.bias');
    const g = engine.graph('char lstm step');
    const x = g.input('x', [1, cfg.inputSize]);
    const { output, hc } = lstm.build(g, x, 1); // [1, H]; each layer's (h, c) [2, H] after the step
    const logits = g.matmul(output, g.constant('decoder.weight', w), { transposeB: true, bias: g.constant('decoder.bias', b) }); // [1, V]
    const next = g.sample(logits, { temperature: g.scalar('temperature'), seed: g.scalar('seed'), step: g.scalar('step') });
    const L = cfg.numLayers;
    const outs: Record<string, SymbolicTensor> = { next, h: output, logits, hcTop: hc[L - 1] };
    if (L > 1) outs.hcBelow = hc[L - 2];
    const plan = await g.compile(outs);
    lstm.resetState();
    const H = cfg.hiddenSize;
    const p = `${L - 1}`;
    const bih = file.float32(`bias_ih_l${p}`, [4 * H]);
    const top: TopLayer = {
      inSize: L > 1 ? H : cfg.inputSize,
      wih: file.float32(`weight_ih_l${p}`, [4 * H, L > 1 ? H : cfg.inputSize]),
      whh: file.float32(`weight_hh_l${p}`, [4 * H, H]),
      bias: file.float32(`bias_hh_l${p}`, [4 * H]).map((v, i) => v + bih[i]),
    };
    return new CharLSTM(engine, lstm, vocab, embedding, { w, b }, plan, top);
  }

  get hiddenSize(): number {
    return this.lstm.config.hiddenSize;
  }

  /** Feeds one character; returns the sampled next character id, the top layer's h, c and input, and the logits. */
  async step(id: number, temperature: number, seed: number, step: number): Promise<Step> {
    const E = this.lstm.config.inputSize;
    const H = this.hiddenSize;
    const emb = this.embedding.subarray(id * E, (id + 1) * E);
    const out = await this.plan.run({ x: emb, temperature, seed, step });
    const hcTop = out.hcTop as Float32Array;
    return {
      next: (out.next as Uint32Array)[0],
      h: out.h as Float32Array,
      c: hcTop.slice(H, 2 * H),
      x: out.hcBelow ? (out.hcBelow as Float32Array).slice(0, H) : emb.slice(),
      logits: out.logits as Float32Array,
    };
  }

  /**
   * The top layer's gates for `unit` at one step, in float64 from that step's input x and the previous
   * h: i, f, o = σ(·), g = tanh(·) of W_ih·x + W_hh·h_prev + b (PyTorch's order i, f, g, o). With them,
   * c = f·c_prev + i·g and h = o·tanh(c) (the kernel's result; the test checks it).
   */
  gatesOf(unit: number, x: Float32Array, hPrev: Float32Array): { i: number; f: number; g: number; o: number } {
    const H = this.hiddenSize;
    const { wih, whh, bias, inSize } = this.top;
    if (!Number.isInteger(unit) || unit < 0 || unit >= H) throw new RangeError(`gatesOf: unit ${unit} is outside 0–${H - 1}`);
    if (x.length !== inSize || hPrev.length !== H)
      throw new RangeError(`gatesOf: x has ${x.length} values (needs ${inSize}) and hPrev ${hPrev.length} (needs ${H})`);
    const pre = [0, 1, 2, 3].map((k) => {
      const r = k * H + unit;
      let s = bias[r];
      for (let j = 0; j < inSize; j++) s += wih[r * inSize + j] * x[j];
      for (let j = 0; j < H; j++) s += whh[r * H + j] * hPrev[j];
      return s;
    });
    const sig = (v: number) => 1 / (1 + Math.exp(-v));
    return { i: sig(pre[0]), f: sig(pre[1]), g: Math.tanh(pre[2]), o: sig(pre[3]) };
  }

  /** The next character's probabilities at `temperature` (0: all on the most likely), softmax in float64. */
  static probabilities(logits: Float32Array, temperature: number): Float64Array {
    const p = new Float64Array(logits.length);
    let best = 0;
    for (let i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
    if (!(temperature > 0)) {
      p[best] = 1;
      return p;
    }
    let sum = 0;
    for (let i = 0; i < logits.length; i++) sum += p[i] = Math.exp((logits[i] - logits[best]) / temperature);
    for (let i = 0; i < p.length; i++) p[i] /= sum;
    return p;
  }

  /** Ids of the characters of `text` that the vocabulary has. */
  encode(text: string): number[] {
    return [...text].map((ch) => this.vocab.indexOf(ch)).filter((i) => i >= 0);
  }

  memoryBytes(): number {
    return this.lstm.memoryBytes() + this.decoder.w.byteLength + this.decoder.b.byteLength;
  }

  dispose(): void {
    this.plan.dispose();
    this.lstm.dispose();
    this.decoder.w.dispose();
    this.decoder.b.dispose();
  }
}

// nn.LSTM on the GPU, with PyTorch's semantics and state_dict names (weight_ih_l0, weight_hh_l0,
// bias_ih_l0, bias_hh_l0, ...). Per layer, the input projection of every time step is one matmul;
// then one fused cell dispatch per step. Each layer's final (h, c) is kept in a state tensor, so a run
// continues where the last one stopped (stateful generation); forward() starts from zeros like PyTorch.
import type { GPUContext } from '../gpu/engine';
import { CallQueue } from '../gpu/call-queue';
import { ArgumentError, DisposedError, ShapeError } from '../errors';
import { Graph, type SymbolicTensor } from '../graph/graph';
import type { Plan } from '../graph/plan';
import { PlanCache } from '../graph/plan-cache';
import { SafetensorsFile } from '../io/safetensors';
import type { Tensor } from '../gpu/tensor';

export interface LSTMConfig {
  inputSize: number;
  hiddenSize: number;
  numLayers: number;
  /** Prefix of the nn.LSTM names in the file, e.g. 'lstm.' (default none). */
  prefix?: string;
}

interface Layer {
  wih: Tensor; // [4H, in]
  whhT: Tensor; // [H, 4H]
  bias: Tensor; // [4H] = b_ih + b_hh
  hc: Tensor; // [2, H]: the layer's h and c between runs
}

export class LSTM {
  /** Compiled plans per sequence length, at most 8 (least recently used out). */
  private plans = new PlanCache(8);
  /** Work buffers of graphs an app built with build(), per length; the model's own plans own theirs. */
  private work = new Map<number, Tensor[]>();
  private disposed = false;

  private constructor(
    readonly engine: GPUContext,
    readonly config: Required<LSTMConfig>,
    private readonly layers: Layer[],
  ) {}

  static async fromSafetensors(engine: GPUContext, bytes: Uint8Array | ArrayBuffer, config: LSTMConfig): Promise<LSTM> {
    const cfg: Required<LSTMConfig> = { prefix: '', ...config };
    const { inputSize, hiddenSize: H, numLayers } = cfg;
    for (const k of ['inputSize', 'hiddenSize', 'numLayers'] as const) {
      if (!Number.isInteger(cfg[k]) || cfg[k] < 1) throw new ShapeError(`LSTM config: ${k} must be a positive integer, got ${cfg[k]}`);
    }
    const file = SafetensorsFile.parse(bytes);
    const layers: Layer[] = [];
    try {
      for (let l = 0; l < numLayers; l++) {
        const inSize = l === 0 ? inputSize : H;
        const wih = file.float32(`${cfg.prefix}weight_ih_l${l}`, [4 * H, inSize]);
        const whh = file.float32(`${cfg.prefix}weight_hh_l${l}`, [4 * H, H]);
        const bih = file.float32(`${cfg.prefix}bias_ih_l${l}`, [4 * H]);
        const bhh = file.float32(`${cfg.prefix}bias_hh_l${l}`, [4 * H]);
        const whhT = new Float32Array(H * 4 * H);
        for (let r = 0; r < 4 * H; r++) for (let k = 0; k < H; k++) whhT[k * 4 * H + r] = whh[r * H + k];
        layers.push({
          wih: engine.tensor(wih, [4 * H, inSize], `weight_ih_l${l}`),
          whhT: engine.tensor(whhT, [H, 4 * H], `weight_hh_l${l}ᵀ`),
          bias: engine.tensor(
            bih.map((v, i) => v + bhh[i]),
            [4 * H],
            `bias_l${l}`,
          ),
          hc: engine.empty([2, H], 'f32', `h/c l${l}`),
        });
      }
    } catch (e) {
      for (const L of layers) for (const t of Object.values(L)) t.dispose();
      throw e;
    }
    return new LSTM(engine, cfg, layers);
  }

  /**
   * Adds the LSTM over x [T, inputSize] to graph g, continuing from the stored state and storing the
   * final state. Returns the last layer's outputs [T, H] and each layer's (h, c) [2, H] after the run.
   */
  build(g: Graph, x: SymbolicTensor, T: number): { output: SymbolicTensor; hc: SymbolicTensor[] } {
    let work = this.work.get(T);
    if (!work) {
      work = this.workTensors(T);
      this.work.set(T, work);
    }
    return this.buildWith(g, x, T, work);
  }

  private workTensors(T: number): Tensor[] {
    return this.layers.map((_, l) => this.engine.empty([T + 3, this.config.hiddenSize], 'f32', `lstm work l${l} T=${T}`));
  }

  private buildWith(g: Graph, x: SymbolicTensor, T: number, work: Tensor[]): { output: SymbolicTensor; hc: SymbolicTensor[] } {
    const H = this.config.hiddenSize;
    if (x.shape.length !== 2 || x.shape[0] !== T || x.shape[1] !== this.config.inputSize) {
      throw new ShapeError(`LSTM: input ${JSON.stringify(x.shape)} must be [${T}, ${this.config.inputSize}]`);
    }
    let input = x;
    const hc: SymbolicTensor[] = [];
    this.layers.forEach((L, l) => {
      const xproj = g.matmul(input, g.constant(`wih${l}`, L.wih), { transposeB: true, bias: g.constant(`b${l}`, L.bias) }); // [T, 4H]
      const whhT = g.constant(`whhT${l}`, L.whhT);
      const saved = g.state(`hc${l}`, L.hc);
      let cur = g.state(`work${l}`, work[l]);
      cur = g.assign(cur, g.slice(saved, 0, 1)); // h_0 -> row 0
      cur = g.assign(cur, g.slice(saved, 1, 1), { offset: (T + 1) * H }); // c_0 -> row T+1
      for (let t = 0; t < T; t++) cur = g.lstmCell(xproj, whhT, cur, t);
      const last = g.slice(cur, T, 1);
      const lastC = g.slice(cur, T + 1 + (T % 2), 1);
      hc.push(g.assign(g.assign(saved, last), lastC, { offset: H }));
      input = g.slice(cur, 1, T); // h_1..h_T
    });
    return { output: input, hc };
  }

  /** Runs `fn` with the plan for sequence length T (compiled on first use, with its own work buffers). */
  private withPlan<R>(T: number, fn: (plan: Plan) => Promise<R>): Promise<R> {
    if (this.disposed) throw new DisposedError('LSTM: the model was disposed');
    let work: Tensor[] = [];
    const build = () => {
      const g = new Graph(this.engine, `lstm T=${T}`);
      work = this.workTensors(T);
      const { output, hc } = this.buildWith(g, g.input('x', [T, this.config.inputSize]), T, work);
      const outs: Record<string, SymbolicTensor> = { output };
      for (const [l, t] of hc.entries()) outs[`hc${l}`] = t;
      return g.compile(outs);
    };
    return this.plans.use(String(T), build, fn, () => {
      for (const t of work) t.dispose();
    });
  }

  /**
   * Calls that touch the stored state (run, forward, resetState) execute one after another in call
   * order, each from the state the previous one left: 20 un-awaited forward() calls give the 20
   * results of sequential calls.
   */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    return this.calls.run(fn);
  }

  private readonly calls = new CallQueue();

  /** [numLayers × 2H] of h then c per layer; zeros where h0 / c0 are not given. */
  private initialState(h0: Float32Array | undefined, c0: Float32Array | undefined, where: string): Float32Array[] {
    const { hiddenSize: H, numLayers } = this.config;
    for (const [name, v] of [
      ['h0', h0],
      ['c0', c0],
    ] as const) {
      if (v === undefined) continue;
      if (!(v instanceof Float32Array)) throw new ArgumentError(`${where}: ${name} must be a Float32Array [numLayers, hiddenSize]`);
      if (v.length !== numLayers * H) {
        throw new ArgumentError(
          `${where}: ${name} has ${v.length} values; [numLayers ${numLayers}, hiddenSize ${H}] needs ${numLayers * H}`,
        );
      }
    }
    return this.layers.map((_, l) => {
      const v = new Float32Array(2 * H);
      if (h0) v.set(h0.subarray(l * H, (l + 1) * H));
      if (c0) v.set(c0.subarray(l * H, (l + 1) * H), H);
      return v;
    });
  }

  /** Sets every layer's (h, c) to zeros, or to the given [numLayers, H] values, after earlier calls. */
  resetState(h0?: Float32Array, c0?: Float32Array): Promise<void> {
    const states = this.initialState(h0, c0, 'LSTM.resetState');
    const write = () => {
      for (const [l, L] of this.layers.entries()) L.hc.write(states[l]);
    };
    if (!this.calls.busy) {
      write(); // now, so plans an app built with build() and runs next see it (writes keep engine order)
      return Promise.resolve();
    }
    return this.serial(async () => write());
  }

  private checkInput(x: Float32Array, seqLen: number, where: string): Float32Array {
    const { inputSize } = this.config;
    if (!Number.isInteger(seqLen) || seqLen < 1) throw new ShapeError(`${where}: seqLen must be a positive integer, got ${seqLen}`);
    if (!(x instanceof Float32Array)) throw new ShapeError(`${where}: x must be a Float32Array [seqLen, inputSize]`);
    if (x.length !== seqLen * inputSize)
      throw new ShapeError(`${where}: x has ${x.length} values, [${seqLen}, ${inputSize}] needs ${seqLen * inputSize}`);
    return new Float32Array(x); // the values at call time, whatever the caller does with x before the run starts
  }

  /** Runs x [seqLen, inputSize] from the stored state; returns outputs and the final h, c. */
  async run(x: Float32Array, seqLen: number): Promise<{ output: Float32Array; h: Float32Array; c: Float32Array }> {
    const input = this.checkInput(x, seqLen, 'LSTM.run');
    return this.serial(() => this.execute(input, seqLen));
  }

  private async execute(x: Float32Array, seqLen: number): Promise<{ output: Float32Array; h: Float32Array; c: Float32Array }> {
    const { hiddenSize: H, numLayers } = this.config;
    const out = await this.withPlan(seqLen, (plan) => plan.run({ x }));
    const h = new Float32Array(numLayers * H);
    const c = new Float32Array(numLayers * H);
    for (let l = 0; l < numLayers; l++) {
      const s = out[`hc${l}`] as Float32Array;
      h.set(s.subarray(0, H), l * H);
      c.set(s.subarray(H, 2 * H), l * H);
    }
    return { output: out.output as Float32Array, h, c };
  }

  /** PyTorch's nn.LSTM forward on unbatched input: zero (or given) initial state. */
  async forward(
    x: Float32Array,
    seqLen: number,
    initial: { h0?: Float32Array; c0?: Float32Array } = {},
  ): Promise<{ output: Float32Array; h: Float32Array; c: Float32Array }> {
    const input = this.checkInput(x, seqLen, 'LSTM.forward');
    const states = this.initialState(initial.h0, initial.c0, 'LSTM.forward');
    return this.serial(async () => {
      for (const [l, L] of this.layers.entries()) L.hc.write(states[l]);
      return this.execute(input, seqLen);
    });
  }

  memoryBytes(): number {
    return this.layers.reduce((s, L) => s + L.wih.byteLength + L.whhT.byteLength + L.bias.byteLength + L.hc.byteLength, 0);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.plans.dispose();
    for (const L of this.layers) for (const t of Object.values(L)) t.dispose();
    for (const w of this.work.values()) for (const t of w) t.dispose();
  }
}

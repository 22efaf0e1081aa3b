// A character-level language model around the engine's LSTM: embedding (a table lookup on the CPU),
// nn.LSTM layers, a linear decoder and GPU sampling, replayed one character per run with the LSTM
// state carried on the GPU. The file is a safetensors with the nn.LSTM names plus 'embedding.weight',
// 'decoder.weight', 'decoder.bias', and its metadata gives vocab (JSON), inputSize, hiddenSize, numLayers.
import { LSTM, SafetensorsFile, type Engine, type Plan, type Tensor } from 'webgpu-nlp';

export class CharLSTM {
  private constructor(
    readonly engine: Engine,
    readonly lstm: LSTM,
    readonly vocab: string[],
    private readonly embedding: Float32Array,
    private readonly decoder: { w: Tensor; b: Tensor },
    private readonly plan: Plan,
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
    const { output } = lstm.build(g, g.input('x', [1, cfg.inputSize]), 1); // [1, H]
    const logits = g.matmul(output, g.constant('decoder.weight', w), { transposeB: true, bias: g.constant('decoder.bias', b) }); // [1, V]
    const next = g.sample(logits, { temperature: g.scalar('temperature'), seed: g.scalar('seed'), step: g.scalar('step') });
    const plan = await g.compile({ next, h: output });
    lstm.resetState();
    return new CharLSTM(engine, lstm, vocab, embedding, { w, b }, plan);
  }

  get hiddenSize(): number {
    return this.lstm.config.hiddenSize;
  }

  /** Feeds one character; returns the sampled next character id and the top layer's hidden state. */
  async step(id: number, temperature: number, seed: number, step: number): Promise<{ next: number; h: Float32Array }> {
    const E = this.lstm.config.inputSize;
    const out = await this.plan.run({ x: this.embedding.subarray(id * E, (id + 1) * E), temperature, seed, step });
    return { next: (out.next as Uint32Array)[0], h: out.h as Float32Array };
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

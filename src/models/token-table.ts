// A token table [V, C] that serves both the embedding lookup and a tied lm_head, f32 or int8. Where
// the table is larger than one storage binding may be (GPT-2 124M's 154 MB against a 128 MiB limit),
// it is split into row blocks: each block embeds the ids in its range (the others add zero) and the
// block embeddings are summed; the lm_head is the concatenation of each block's logits.
import type { GPUContext } from '../gpu/engine';
import type { Tensor } from '../gpu/tensor';
import type { Graph, SymbolicTensor } from '../graph/graph';
import { quantize } from '../graph/quantize';
import { QuantizedTensor, quantLayout, type QuantScheme } from '../ops/quantize';
import { gatherRows, type Matrix } from './matrix';
import type { UniformValue } from '../ops/types';

const zeroRows = new Map<number, Float32Array>();

/**
 * One zero row [1, C] standing in for the position table of a lookup without positions: the same array
 * for every table of width C, so a graph with several such lookups binds it once (constants are
 * deduplicated by their data).
 */
export function noPositions(g: Graph, C: number): SymbolicTensor {
  const z = zeroRows.get(C) ?? new Float32Array(C);
  zeroRows.set(C, z);
  return g.constant(`no positions ${C}`, z, [1, C]);
}

interface Block {
  f32?: Tensor;
  int8?: QuantizedTensor;
  /** The first token id of the block's rows. */
  firstId: number;
}

export class TokenTable {
  private constructor(
    private readonly blocks: Block[],
    readonly vocab: number,
    readonly dim: number,
  ) {}

  /** Uploads `data` [V, C] (int8 with `scheme`), in as many row blocks as the binding limit needs. */
  static async load(
    engine: GPUContext,
    data: Float32Array,
    V: number,
    C: number,
    o: { quantize?: QuantScheme; label: string },
  ): Promise<TokenTable> {
    const rowBytes = o.quantize ? quantLayout(o.quantize, C, 1).rowBytes : 4 * C;
    const rowsPer = Math.max(1, Math.floor(engine.maxBindingSize / rowBytes));
    const blocks: Block[] = [];
    try {
      for (let lo = 0; lo < V; lo += rowsPer) {
        const rows = Math.min(rowsPer, V - lo);
        const part = data.subarray(lo * C, (lo + rows) * C);
        const label = `${o.label} rows ${lo}..${lo + rows - 1}`;
        blocks.push(
          o.quantize
            ? { int8: await quantize(engine, part, { K: C, N: rows, layout: 'NK', scheme: o.quantize, label }), firstId: lo }
            : { f32: engine.tensor(part, [rows, C], label), firstId: lo },
        );
      }
    } catch (e) {
      new TokenTable(blocks, V, C).dispose();
      throw e;
    }
    return new TokenTable(blocks, V, C);
  }

  /**
   * A table from a matrix [V, C] (rows are tokens): f32 as load() takes it, or packed data (a GGUF
   * tensor) uploaded as it is, in as many row blocks as the binding limit needs.
   */
  static async fromMatrix(engine: GPUContext, m: Matrix, o: { quantize?: QuantScheme; label: string }): Promise<TokenTable> {
    if (m.kind === 'f32') return TokenTable.load(engine, m.data, m.N, m.K, o);
    const rowsPer = Math.max(1, Math.floor(engine.maxBindingSize / quantLayout(m.q.scheme, m.K, 1).rowBytes));
    const blocks: Block[] = [];
    try {
      for (let lo = 0; lo < m.N; lo += rowsPer) {
        const rows = Math.min(rowsPer, m.N - lo);
        const part =
          rows === m.N
            ? m
            : gatherRows(
                [m],
                Array.from({ length: rows }, (_, i): [number, number] => [0, lo + i]),
                o.label,
              );
        const q = part.kind === 'packed' ? part.q : m.q; // rows of packed data are packed
        blocks.push({ int8: QuantizedTensor.upload(engine, q, `${o.label} rows ${lo}..${lo + rows - 1}`), firstId: lo });
      }
    } catch (e) {
      new TokenTable(blocks, m.N, m.K).dispose();
      throw e;
    }
    return new TokenTable(blocks, m.N, m.K);
  }

  /**
   * Rows of the table for ids [T], plus position rows wpe[pos + t] (added once, by the first block):
   * [T, C]. With wpe null (rotary models), the token rows alone.
   */
  embed(g: Graph, ids: SymbolicTensor, wpe: SymbolicTensor | null, pos: UniformValue): SymbolicTensor {
    // Without positions the kernels never read wpe; one zero row stands in for the binding.
    const positions = wpe ?? noPositions(g, this.dim);
    return this.blocks
      .map((b, i) => {
        const o = { pos, firstId: b.firstId, addPosition: !!wpe && i === 0 };
        return b.int8 ? g.dequantEmbedding(ids, b.int8, positions, o) : g.embedding(ids, g.weight(b.f32!), positions, o);
      })
      .reduce((a, b) => g.add(a, b));
  }

  /** h [T, C] against every row: logits [T, V] (the tied lm_head). */
  logits(g: Graph, h: SymbolicTensor): SymbolicTensor {
    return this.blocks
      .map((b) => (b.int8 ? g.dequantMatmul(h, b.int8) : g.matmul(h, g.weight(b.f32!), { transposeB: true })))
      .reduce((a, b) => g.concat(a, b));
  }

  get byteLength(): number {
    return this.blocks.reduce((s, b) => s + (b.int8?.byteLength ?? 0) + (b.f32?.byteLength ?? 0), 0);
  }

  dispose(): void {
    for (const b of this.blocks) (b.int8 ?? b.f32)!.dispose();
  }
}

// What the encoder core (encoder.ts) needs of a model definition (bert.ts: BERT, RoBERTa, DistilBERT;
// modernbert.ts): its sizes, which heads it has, the graph of its encoder over a packed batch and of
// each head, and its GPU objects to free.
import type { Graph, SymbolicTensor } from '../graph/graph';
import type { ActivationFn } from '../ops/elementwise';

export type Act = ActivationFn | 'gelu_tanh';

/** The sizes the core checks batches against and names in messages. */
export interface EncoderShape {
  type: string;
  vocab: number;
  hidden: number;
  /** Position rows: the longest sequence is positions (less RoBERTa's pad + 1). */
  positions: number;
  /** Token types (segment ids) the model embeds; 0 for none. */
  typeVocab: number;
  /** RoBERTa's padding_idx: positions start at pad + 1 and padding tokens keep pad. Null: positions 0, 1, … */
  pad: number | null;
}

/** The packed batch's graph inputs: ids, positions, token types [T] (u32) and the sequence starts [n + 1]. */
export interface PackedInputs {
  ids: SymbolicTensor;
  pos: SymbolicTensor;
  types: SymbolicTensor | null;
  cuSeqlens: SymbolicTensor;
}

/** Heads over every token ([T, width]) or over one pooled row per sequence ([B, width]). */
export type HeadTask = 'mlm' | 'tokens' | 'qa' | 'classify' | 'nsp';
export const ROW_TASKS: readonly HeadTask[] = ['classify', 'nsp'];

export interface EncoderDef {
  shape: EncoderShape;
  heads: { maskedLM: boolean; classify: boolean; tokenClassify: boolean; questionAnswering: boolean; nextSentence: boolean };
  /** Labels of the sequence classifier and of the token classifier (0 without one). */
  classLabels: number;
  tokenLabels: number;
  /** How the row heads see a sequence: its first token's state, or the mean of its tokens' states. */
  pooling: 'cls' | 'mean';
  /** The last hidden state [T, C] of the packed batch. */
  encode(g: Graph, x: PackedInputs): SymbolicTensor;
  /** A head over h [T, C] (token tasks) or over `rows()` [B, C] (row tasks). */
  head(task: HeadTask, g: Graph, h: SymbolicTensor, rows: () => SymbolicTensor): SymbolicTensor;
  /** Every GPU object of the weights. */
  tensors(): { dispose(): void }[];
}

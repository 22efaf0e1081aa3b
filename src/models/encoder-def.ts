// What the encoder core (encoder.ts) needs of a model definition (bert.ts: BERT, RoBERTa, DistilBERT;
// modernbert.ts): its sizes, which heads it has, the graph of its encoder over a packed batch and of
// each head, and its GPU objects to free; and the config.json fields and activation names they share.
import type { Graph, SymbolicTensor } from '../graph/graph';
import type { ActivationFn } from '../ops/elementwise';
import type { LoraSite } from './lora';

/** A bound LoRA adapter's update of a linear site for input x (lora.ts), or undefined where it has none. */
export type LoraDelta = (site: string, x: SymbolicTensor) => SymbolicTensor | undefined;

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
  encode(g: Graph, x: PackedInputs, lora?: LoraDelta): SymbolicTensor;
  /** The linear layers LoRA adapters can reach (lora.ts), where the family takes adapters. */
  loraSites?(): LoraSite[];
  /**
   * Where attention can be drawn: the layer and head counts, and the query and key heads [H, T, D] that
   * `layer` scores (its attention is softmax(q kᵀ / √D) within each sequence).
   */
  attention?: { layers: number; heads: number; qk(g: Graph, x: PackedInputs, layer: number): { q: SymbolicTensor; k: SymbolicTensor } };
  /** A head over h [T, C] (token tasks) or over `rows()` [B, C] (row tasks). */
  head(task: HeadTask, g: Graph, h: SymbolicTensor, rows: () => SymbolicTensor): SymbolicTensor;
  /** Every GPU object of the weights. */
  tensors(): { dispose(): void }[];
}

/** The fields of config.json the encoders use (DistilBERT's and ModernBERT's own names included); others are ignored. */
export interface EncoderConfig {
  model_type?: string;
  architectures?: string[];
  vocab_size: number;
  hidden_size?: number;
  num_hidden_layers?: number;
  num_attention_heads?: number;
  intermediate_size?: number;
  hidden_act?: string;
  max_position_embeddings?: number;
  type_vocab_size?: number;
  layer_norm_eps?: number;
  pad_token_id?: number;
  id2label?: Record<string, string>;
  problem_type?: string;
  tie_word_embeddings?: boolean;
  // ModernBERT (modernbert.ts)
  norm_eps?: number;
  norm_bias?: boolean;
  attention_bias?: boolean;
  mlp_bias?: boolean;
  classifier_bias?: boolean;
  decoder_bias?: boolean;
  hidden_activation?: string;
  classifier_activation?: string;
  classifier_pooling?: 'cls' | 'mean';
  global_rope_theta?: number;
  local_rope_theta?: number;
  local_attention?: number;
  global_attn_every_n_layers?: number;
  layer_types?: string[];
  // DistilBERT
  dim?: number;
  n_layers?: number;
  n_heads?: number;
  hidden_dim?: number;
  activation?: string;
}

/** Hugging Face's ACT2FN names and the activation each is here. */
export const ACTS: Record<string, Act> = {
  gelu: 'gelu_erf',
  gelu_new: 'gelu_tanh',
  gelu_pytorch_tanh: 'gelu_tanh',
  gelu_fast: 'gelu_tanh',
  relu: 'relu',
  silu: 'silu',
  swish: 'silu',
};

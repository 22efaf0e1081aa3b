// Messages between the GPT demo page and its worker.

export interface Sampling {
  maxNewTokens: number;
  temperature: number;
  topK: number;
  topP: number;
  seed: number;
}

export interface Attention {
  sparse: boolean;
  window: number;
}

/**
 * f32; f16, int8 or 4-bit linear layers; or those and the token table (embedding + lm_head; q6_k with
 * q4_k, as llama.cpp's Q4_K_M files do).
 */
export const WEIGHT_CHOICES = ['f32', 'f16', 'f16 + wte', 'int8', 'int8 + wte', 'q4_0', 'q4_0 + wte', 'q4_k', 'q4_k + wte'] as const;
export type WeightChoice = (typeof WEIGHT_CHOICES)[number];

export type ToWorker =
  | { type: 'load-default' }
  | { type: 'set-weights'; weights: WeightChoice }
  | { type: 'compare'; text: string; attention: Attention }
  | { type: 'load-bytes'; bytes: Uint8Array; name: string; gpt2: boolean }
  | { type: 'load-url'; url: string }
  | { type: 'generate'; prompt: string; sampling: Sampling; attention: Attention }
  | { type: 'attention'; text: string; layer: number; head: number }
  /** Ends a running generation after the current token; nothing else is cancelled. */
  | { type: 'stop' };

export interface ModelInfo {
  name: string;
  layers: number;
  heads: number;
  vocab: number;
  weightBytes: number;
  gpuBytes: number;
  weights: WeightChoice;
  adapter: string;
  /** Positions the model holds: prompt tokens + generated tokens at most. */
  context: number;
}

export type FromWorker =
  | { type: 'loaded'; info: ModelInfo }
  | { type: 'progress'; loaded: number; total: number }
  | { type: 'token'; text: string; count: number; msPerToken: number; tokensPerSecond: number }
  | { type: 'done'; count: number; prefillMs: number; stopped: boolean; cappedAt?: number }
  | { type: 'attention'; tokens: string[]; weights: Float32Array; layer: number; head: number }
  | { type: 'compare'; kl: number; klLast: number; denseMs: number; sparseMs: number; tokens: number }
  | { type: 'error'; message: string; during: string };

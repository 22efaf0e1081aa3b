// Messages between the GPT demo page and its worker.

export interface Sampling {
  maxNewTokens: number;
  temperature: number;
  topK: number;
  topP: number;
  seed: number;
}

export type ToWorker =
  | { type: 'load-default' }
  | { type: 'load-bytes'; bytes: Uint8Array; name: string; gpt2: boolean }
  | { type: 'load-url'; url: string }
  | { type: 'generate'; prompt: string; sampling: Sampling }
  | { type: 'attention'; text: string; layer: number; head: number };

export interface ModelInfo {
  name: string;
  layers: number;
  heads: number;
  vocab: number;
  weightBytes: number;
  gpuBytes: number;
  adapter: string;
}

export type FromWorker =
  | { type: 'loaded'; info: ModelInfo }
  | { type: 'progress'; loaded: number; total: number }
  | { type: 'token'; text: string; count: number; msPerToken: number; tokensPerSecond: number }
  | { type: 'done'; count: number; prefillMs: number }
  | { type: 'attention'; tokens: string[]; weights: Float32Array; layer: number; head: number }
  | { type: 'error'; message: string; during: string };

// What the "Small language models" page and its worker exchange, over the library's worker engine
// (createWorkerEngine / exposeEngine): the requests' names and arguments, and the events and results.
import type { AdapterInfo } from 'webgpu-nlp';

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

/** The block size of the sliding-window layout for a window: 16 below 32 tokens, else 32. */
export const windowBlock = (window: number): 16 | 32 => (window < 32 ? 16 : 32);

/**
 * f32; f16, int8 or 4-bit linear layers; or those and the token table (embedding + lm_head; q6_k with
 * q4_k, as llama.cpp's Q4_K_M files do). Llama-family models always store their token table like their
 * other weights, so 'x + wte' is 'x' for them; GGUF files keep their own formats.
 */
export const WEIGHT_CHOICES = ['f32', 'f16', 'f16 + wte', 'int8', 'int8 + wte', 'q4_0', 'q4_0 + wte', 'q4_k', 'q4_k + wte'] as const;
export type WeightChoice = (typeof WEIGHT_CHOICES)[number];

/** The models the page ships (public/models/). */
export const BUNDLED = {
  'kjv-llama': 'KJV tiny Llama (BPE, chat template)',
  'kjv-char-gpt': 'KJV character GPT (GPT-2 layout)',
} as const;
export type Bundled = keyof typeof BUNDLED;

export interface NamedBytes {
  name: string;
  bytes: Uint8Array;
}

export interface ChatTurn {
  role: 'user' | 'assistant';
  content: string;
}

/**
 * The page's requests to its worker: methods the worker registers with the library's exposeEngine, that
 * the page calls with createWorkerEngine(worker).call(name, args, { onProgress, signal }). Their events
 * (progress) and results are FromWorker messages; a cancelled call (Stop) still answers.
 */
export type RequestName =
  | 'load-bundled'
  | 'load-bytes'
  | 'load-folder'
  | 'load-url'
  | 'clear-cache'
  | 'cache-info'
  | 'set-weights'
  | 'generate'
  | 'load-adapter'
  | 'load-adapter-url'
  | 'compare-adapters'
  | 'tokenize'
  | 'compare'
  | 'attention';

export interface GenerateRequest {
  prompt: string;
  /** The conversation with the new user turn (chat mode), or null: plain continuation of `prompt`. */
  chat: ChatTurn[] | null;
  sampling: Sampling;
  attention: Attention;
  candidates: number;
  /** A LoRA adapter loaded in the worker, by name; null: the base model. */
  adapter: string | null;
}

export interface AttentionRequest {
  text: string;
  chat?: ChatTurn[] | null;
  layer: number;
  head: number;
  attention: Attention;
  allHeads?: boolean;
}

export interface ModelInfo {
  name: string;
  /** 'GPT-2' or the Llama family's model_type. */
  arch: string;
  layers: number;
  heads: number;
  kvHeads: number;
  vocab: number;
  weightBytes: number;
  gpuBytes: number;
  weights: string;
  adapter: string;
  /** Positions the model holds: prompt tokens + generated tokens at most. */
  context: number;
  /** The tokenizer has a chat template. */
  chat: boolean;
  /** The token table can take the weights' format on its own ('+ wte'): GPT-2 layout; Llama models store it like the rest. */
  separateTable: boolean;
}

/** A next-token candidate as the page shows it (see TokenCandidate in the library). */
export interface Candidate {
  id: number;
  text: string;
  p: number;
  kept: number;
}

/** One generation step: the token drawn and the likeliest candidates it was drawn from. */
export interface Step {
  chosen: number;
  /** The drawn token's text (it may rank below the candidates shown). */
  text: string;
  candidates: Candidate[];
}

/** A token of the tokenizer view: id, and its text made readable (spaces, new lines, split characters). */
export interface TokenPiece {
  id: number;
  text: string;
  special: boolean;
}

export type FromWorker =
  | { type: 'loaded'; info: ModelInfo }
  | { type: 'progress'; loaded: number; total: number }
  /** The downloaded models kept in Cache Storage. */
  | { type: 'cache'; files: number; bytes: number; fromCache?: boolean }
  /** What the worker is doing before the first token: e.g. compiling kernels (i of n). */
  | { type: 'phase'; text: string; done?: number; total?: number }
  | { type: 'token'; text: string; count: number; msPerToken: number; tokensPerSecond: number; steps: Step[] }
  | {
      type: 'done';
      count: number;
      /** The tokens asked for, and the most the prompt left room for (the context minus the prompt). */
      requested: number;
      room: number;
      promptTokens: number;
      stopped: boolean;
      reason: string;
      /** Wall time from the request to the first token and to the end (compiling included). */
      firstTokenMs: number;
      wallMs: number;
      /** Time the model's GPU runs took (submit to read-back): the prefill, and the decode steps. */
      prefillMs: number;
      decodeMs: number;
      /** Waiting for kernels and plans to compile (the warm-up, then generate()'s own), within wallMs. */
      compileMs: number;
    }
  | { type: 'tokens'; pieces: TokenPiece[]; chat: boolean }
  /** The LoRA adapters loaded, and the base model's weight bytes to compare their size with. */
  | { type: 'adapters'; list: AdapterInfo[]; baseBytes: number; hidden: number }
  /** A column of the side-by-side comparison: its text so far (`done` when finished). */
  | { type: 'adapter-text'; index: number; adapter: string | null; text: string; done: boolean; final: boolean; stopped: boolean }
  | {
      type: 'attention';
      tokens: string[];
      weights: Float32Array;
      /** [T × T], 1 where a sliding window lets the query see the key; null for dense attention. */
      mask: Uint8Array | null;
      /** The sliding window the map was computed with (null: dense). */
      window: number | null;
      /** Tokens in the text (the map shows the last tokens.length of them). */
      total: number;
      layer: number;
      head: number;
      /** With allHeads: every head's map of the layer, [heads × T × T]. */
      heads?: Float32Array;
    }
  | { type: 'compare'; kl: number; klLast: number; denseMs: number; sparseMs: number; tokens: number };

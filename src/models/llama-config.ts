// The Llama family's configuration: the fields of a Hugging Face config.json that the model reads,
// in the layouts of transformers 4.x (rope_theta, rope_scaling) and 5.x (rope_parameters), checked
// and with every default filled in (resolveLlamaConfig); the same config from a GGUF file's llama.* /
// qwen2.* metadata (ggufConfig); RoPE's inverse frequencies (ropeInvFreq). A field that changes the
// math and that the model does not follow is an error, never a silent default.
import { ArgumentError, ShapeError, UnsupportedError } from '../errors';
import type { GGUFFile } from '../io/gguf';

/** The fields of a Hugging Face config.json the Llama family reads (checkUnreadFields refuses those it would get wrong). */
export interface LlamaConfig {
  model_type?: string;
  architectures?: string[];
  vocab_size: number;
  hidden_size: number;
  intermediate_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  /** Default num_attention_heads (multi-head attention). */
  num_key_value_heads?: number;
  /** Default hidden_size / num_attention_heads. */
  head_dim?: number;
  /** Default 1e-6. */
  rms_norm_eps?: number;
  /** Default 10000 (transformers 4.x; 5.x keeps it in rope_parameters). */
  rope_theta?: number;
  /** 'llama3' (Llama 3.1 / 3.2) and 'linear' are supported; null or 'default' is plain RoPE (transformers 4.x). */
  rope_scaling?: RopeScaling | null;
  /** transformers 5's home of RoPE: rope_theta and the rope_scaling fields in one object. */
  rope_parameters?: (RopeScaling & { rope_theta?: number }) | null;
  /** Must be 1 where given (every rotated dim); also read from rope_parameters. */
  partial_rotary_factor?: number;
  /** Must be 'silu' where given (SwiGLU). */
  hidden_act?: string;
  /** Must be false where given (no MLP biases). */
  mlp_bias?: boolean;
  /** Qwen2: must be false where given (sliding-window layers are not built). */
  use_sliding_window?: boolean;
  /** transformers 5's attention kind per layer: must all be 'full_attention' where given. */
  layer_types?: string[];
  /** Default 2048. */
  max_position_embeddings?: number;
  /** Default false (Hugging Face's default; SmolLM2 and Llama 3.2 set it). */
  tie_word_embeddings?: boolean;
  /** Llama's q/k/v/o biases (default false); Qwen2 always has q/k/v biases. */
  attention_bias?: boolean;
  bos_token_id?: number | null;
  eos_token_id?: number | number[] | null;
}

export interface RopeScaling {
  rope_type?: string;
  type?: string;
  factor?: number;
  low_freq_factor?: number;
  high_freq_factor?: number;
  original_max_position_embeddings?: number;
  partial_rotary_factor?: number;
  /** yarn: the cos/sin scale (default from factor, or mscale / mscale_all_dim), ramp bounds, truncation. */
  attention_factor?: number;
  beta_fast?: number;
  beta_slow?: number;
  mscale?: number;
  mscale_all_dim?: number;
  truncate?: boolean;
}

/** The RoPE types ropeInvFreq computes, and the fields each needs (Hugging Face's rope validation). */
const ROPE_FIELDS: Record<string, (keyof RopeScaling)[]> = {
  default: [],
  linear: ['factor'],
  // Dynamic NTK rescales θ only past max_position_embeddings, which maxLength never passes: plain RoPE.
  dynamic: ['factor'],
  llama3: ['factor', 'low_freq_factor', 'high_freq_factor', 'original_max_position_embeddings'],
  // original_max_position_embeddings defaults to max_position_embeddings (standardize_rope_params).
  yarn: ['factor'],
};

const ARCHITECTURES = ['llama', 'qwen2'] as const;
const ARCH_CLASSES: Record<string, (typeof ARCHITECTURES)[number]> = {
  LlamaForCausalLM: 'llama',
  Qwen2ForCausalLM: 'qwen2',
};

/** A config with every default filled in and checked. */
export type ResolvedLlamaConfig = Required<
  Omit<
    LlamaConfig,
    | 'architectures'
    | 'rope_scaling'
    | 'rope_parameters'
    | 'partial_rotary_factor'
    | 'hidden_act'
    | 'mlp_bias'
    | 'use_sliding_window'
    | 'layer_types'
    | 'bos_token_id'
    | 'eos_token_id'
  >
> & {
  model_type: (typeof ARCHITECTURES)[number];
  rope_scaling: RopeScaling | null;
  eos: number[];
};

export function resolveLlamaConfig(c: LlamaConfig): ResolvedLlamaConfig {
  if (typeof c !== 'object' || c === null) throw new ArgumentError('Llama: config must be the object of config.json');
  const type = c.model_type ?? ARCH_CLASSES[c.architectures?.[0] ?? ''];
  if (!ARCHITECTURES.includes(type as 'llama')) {
    throw new UnsupportedError(
      `Llama: model_type ${JSON.stringify(c.model_type ?? c.architectures?.[0])} is not supported; supported: ${ARCHITECTURES.join(', ')}`,
    );
  }
  for (const k of ['vocab_size', 'hidden_size', 'intermediate_size', 'num_hidden_layers', 'num_attention_heads'] as const) {
    if (!(Number.isInteger(c[k]) && c[k] > 0)) throw new ShapeError(`Llama config: ${k} must be a positive integer, got ${c[k]}`);
  }
  const H = c.num_attention_heads;
  const KVH = c.num_key_value_heads ?? H;
  if (!(Number.isInteger(KVH) && KVH > 0 && H % KVH === 0))
    throw new ShapeError(`Llama config: num_key_value_heads ${KVH} must divide num_attention_heads ${H}`);
  const D = c.head_dim ?? c.hidden_size / H;
  if (!(Number.isInteger(D) && D > 0 && D % 4 === 0 && D <= 128))
    throw new ShapeError(`Llama config: head_dim ${D} must be a multiple of 4 up to 128 (the attention kernels' limit)`);
  const eos = c.eos_token_id == null ? [] : Array.isArray(c.eos_token_id) ? c.eos_token_id : [c.eos_token_id];
  checkUnreadFields(c);
  const rope = resolveRope(c);
  return {
    model_type: type as (typeof ARCHITECTURES)[number],
    vocab_size: c.vocab_size,
    hidden_size: c.hidden_size,
    intermediate_size: c.intermediate_size,
    num_hidden_layers: c.num_hidden_layers,
    num_attention_heads: H,
    num_key_value_heads: KVH,
    head_dim: D,
    rms_norm_eps: c.rms_norm_eps ?? 1e-6,
    ...rope,
    max_position_embeddings: c.max_position_embeddings ?? 2048,
    tie_word_embeddings: c.tie_word_embeddings ?? false,
    attention_bias: c.attention_bias ?? false,
    eos,
  };
}

/** Config fields that change the math and that build() does not follow: an error, never a silent default. */
function checkUnreadFields(c: LlamaConfig): void {
  const unsupported = (what: string) => new UnsupportedError(`Llama config: ${what} is not supported`);
  if (c.hidden_act !== undefined && c.hidden_act !== 'silu') throw unsupported(`hidden_act '${c.hidden_act}' (only 'silu')`);
  if (c.mlp_bias) throw unsupported('mlp_bias true (MLP biases)');
  if (c.use_sliding_window) throw unsupported('use_sliding_window true (Qwen2 sliding-window layers)');
  const other = c.layer_types?.find((t) => t !== 'full_attention');
  if (other !== undefined) throw unsupported(`layer_types '${other}' (only 'full_attention')`);
}

/**
 * rope_theta and rope_scaling wherever the config keeps them: transformers 5's rope_parameters (one
 * object with rope_theta and rope_type), or 4.x's top-level rope_theta and rope_scaling. A type
 * ropeInvFreq does not compute, a missing field it needs, or two layouts that disagree is an error.
 */
function resolveRope(c: LlamaConfig): { rope_theta: number; rope_scaling: RopeScaling | null } {
  const p = c.rope_parameters ?? null;
  if (p !== null && typeof p !== 'object') throw new ArgumentError('Llama config: rope_parameters must be an object');
  if (p && Object.values(p).some((v) => typeof v === 'object' && v !== null))
    throw new UnsupportedError(
      `Llama config: rope_parameters per layer type (${Object.keys(p).join(', ')}) is not supported; one rope_type for every layer is`,
    );
  const typeOf = (s: RopeScaling | null) => (s ? (s.rope_type ?? s.type ?? 'default') : 'default');
  const legacy = c.rope_scaling ?? null;
  if (p && legacy && typeOf(p) !== typeOf(legacy))
    throw new ArgumentError(`Llama config: rope_parameters says rope_type '${typeOf(p)}', rope_scaling says '${typeOf(legacy)}'`);
  if (p?.rope_theta !== undefined && c.rope_theta !== undefined && p.rope_theta !== c.rope_theta)
    throw new ArgumentError(`Llama config: rope_parameters says rope_theta ${p.rope_theta}, rope_theta says ${c.rope_theta}`);
  const scaling = p ?? legacy;
  const where = p ? 'rope_parameters' : 'rope_scaling';
  const type = typeOf(scaling);
  const fields = ROPE_FIELDS[type];
  if (!fields)
    throw new UnsupportedError(
      `Llama config: ${where} rope_type '${type}' is not supported; supported: ${Object.keys(ROPE_FIELDS).join(', ')}`,
    );
  for (const k of fields)
    if (typeof scaling?.[k] !== 'number') throw new ArgumentError(`Llama config: ${where} rope_type '${type}' needs a number ${k}`);
  const partial = scaling?.partial_rotary_factor ?? c.partial_rotary_factor ?? 1;
  if (partial !== 1) throw new UnsupportedError(`Llama config: partial_rotary_factor ${partial} is not supported (only 1)`);
  const theta = p?.rope_theta ?? c.rope_theta ?? 10000;
  if (!(theta > 0)) throw new ArgumentError(`Llama config: rope_theta must be positive, got ${theta}`);
  if (type === 'dynamic') {
    const old = scaling?.original_max_position_embeddings;
    if (old !== undefined && old < (c.max_position_embeddings ?? 2048))
      throw new UnsupportedError(
        `Llama config: dynamic rope with original_max_position_embeddings ${old} below max_position_embeddings is not supported`,
      );
  }
  if (type === 'default' || type === 'dynamic') return { rope_theta: theta, rope_scaling: null };
  const { rope_theta: _theta, ...fieldsOnly } = scaling as RopeScaling & { rope_theta?: number };
  if (type === 'yarn') {
    fieldsOnly.original_max_position_embeddings ??= c.max_position_embeddings ?? 2048;
    for (const k of ['attention_factor', 'beta_fast', 'beta_slow', 'mscale', 'mscale_all_dim'] as const)
      if (fieldsOnly[k] != null && typeof fieldsOnly[k] !== 'number')
        throw new ArgumentError(`Llama config: ${where} rope_type 'yarn' ${k} must be a number, got ${JSON.stringify(fieldsOnly[k])}`);
  }
  return { rope_theta: theta, rope_scaling: { ...fieldsOnly, rope_type: type } };
}

/**
 * RoPE's inverse frequency per rotated pair, in float64: 1 / θ^(2i / D), rescaled as Hugging Face's
 * _compute_llama3_parameters ('llama3': long wavelengths divided by factor, a smooth blend between)
 * or divided by factor ('linear'), or blended as _compute_yarn_parameters does in transformers 5
 * ('yarn': pairs that turn more than beta_fast times over original_max_position_embeddings keep their
 * frequency, fewer than beta_slow times are divided by factor, a linear ramp between). `divisors`
 * (GGUF's rope_freqs tensor) divide it instead.
 */
export function ropeInvFreq(c: ResolvedLlamaConfig, divisors?: Float32Array): Float64Array {
  const D = c.head_dim;
  const inv = Float64Array.from({ length: D / 2 }, (_, i) => 1 / c.rope_theta ** ((2 * i) / D));
  if (divisors) return inv.map((f, i) => f / divisors[i]);
  const s = c.rope_scaling;
  if (!s) return inv;
  // resolveRope checked that the type's fields are there.
  const factor = s.factor as number;
  if (s.rope_type === 'linear') return inv.map((f) => f / factor);
  if (s.rope_type === 'yarn') {
    const [low, high] = yarnRange(s, D, c.rope_theta);
    return inv.map((f, i) => {
      const ramp = Math.min(1, Math.max(0, (i - low) / (high - low)));
      return (f / factor) * ramp + f * (1 - ramp);
    });
  }
  const lo = s.low_freq_factor as number;
  const hi = s.high_freq_factor as number;
  const old = s.original_max_position_embeddings as number;
  const [lowWavelen, highWavelen] = [old / lo, old / hi];
  return inv.map((f) => {
    const wavelen = (2 * Math.PI) / f;
    if (wavelen < highWavelen) return f;
    if (wavelen > lowWavelen) return f / factor;
    const smooth = (old / wavelen - lo) / (hi - lo);
    return (1 - smooth) * (f / factor) + smooth * f;
  });
}

/**
 * yarn's ramp over the rotated pairs (find_correction_range and linear_ramp_factor of transformers'
 * _compute_yarn_parameters): the pair indices where beta_fast and beta_slow rotations over the original
 * context fall, floored and ceiled unless truncate is false, within 0 .. D − 1 (never equal).
 */
function yarnRange(s: RopeScaling, D: number, theta: number): [number, number] {
  const old = s.original_max_position_embeddings as number;
  const pairAt = (rotations: number) => (D * Math.log(old / (rotations * 2 * Math.PI))) / (2 * Math.log(theta));
  let low = pairAt(s.beta_fast || 32);
  let high = pairAt(s.beta_slow || 1);
  if (s.truncate !== false) [low, high] = [Math.floor(low), Math.ceil(high)];
  [low, high] = [Math.max(low, 0), Math.min(high, D - 1)];
  return [low, low === high ? high + 0.001 : high];
}

/**
 * The scale RoPE's cos and sin tables carry (transformers' attention_scaling): yarn's attention_factor,
 * else 0.1 · mscale · ln(factor) + 1 (1 for factor ≤ 1), as a ratio of two such where mscale and
 * mscale_all_dim are both given; 1 for every other rope type.
 */
export function ropeAttentionFactor(c: ResolvedLlamaConfig): number {
  const s = c.rope_scaling;
  if (s?.rope_type !== 'yarn') return 1;
  if (s.attention_factor != null) return s.attention_factor;
  const factor = s.factor as number;
  const mscale = (m: number) => (factor <= 1 ? 1 : 0.1 * m * Math.log(factor) + 1);
  return s.mscale && s.mscale_all_dim ? mscale(s.mscale) / mscale(s.mscale_all_dim) : mscale(1);
}

/** The Hugging Face config a GGUF file's metadata describes. */
export function ggufConfig(f: GGUFFile): LlamaConfig {
  const arch = f.metadata.get('general.architecture');
  if (typeof arch !== 'string' || !ARCHITECTURES.includes(arch as 'llama'))
    throw new UnsupportedError(`Llama: GGUF architecture ${JSON.stringify(arch)} is not supported; supported: ${ARCHITECTURES.join(', ')}`);
  const num = (key: string, fallback?: number): number => {
    const v = f.metadata.get(`${arch}.${key}`);
    if (typeof v === 'number') return v;
    if (typeof v === 'bigint') return Number(v);
    if (fallback !== undefined) return fallback;
    throw new ShapeError(`Llama: GGUF metadata lacks '${arch}.${key}'`);
  };
  const tokens = f.metadata.get('tokenizer.ggml.tokens');
  const embd = f.tensors.get('token_embd.weight');
  const vocab = num('vocab_size', Array.isArray(tokens) ? tokens.length : (embd?.dims[1] ?? 0));
  const H = num('attention.head_count');
  const C = num('embedding_length');
  // Mixtral-style files say general.architecture 'llama' too; their experts are not built here.
  if (num('expert_count', 0) > 0)
    throw new UnsupportedError(`Llama: GGUF '${arch}' with ${num('expert_count')} experts (mixture of experts) is not supported`);
  const scalingType = f.metadata.get(`${arch}.rope.scaling.type`);
  // llama.cpp's yarn keys (original_context_length, attn_factor, yarn_beta_*, yarn_log_multiplier) are not mapped yet.
  if (scalingType === 'yarn')
    throw new UnsupportedError(`Llama: GGUF ${arch}.rope.scaling.type 'yarn' is not supported (a config.json with rope_type 'yarn' is)`);
  const eos = f.metadata.get('tokenizer.ggml.eos_token_id');
  return {
    model_type: arch,
    vocab_size: vocab,
    hidden_size: C,
    intermediate_size: num('feed_forward_length'),
    num_hidden_layers: num('block_count'),
    num_attention_heads: H,
    num_key_value_heads: num('attention.head_count_kv', H),
    head_dim: num('attention.key_length', C / H),
    // Rotated dims per head (all of them unless a file says fewer; resolveLlamaConfig refuses partial RoPE).
    partial_rotary_factor: num('rope.dimension_count', num('attention.key_length', C / H)) / num('attention.key_length', C / H),
    rms_norm_eps: num('attention.layer_norm_rms_epsilon', 1e-6),
    rope_theta: num('rope.freq_base', 10000),
    rope_scaling:
      scalingType === 'linear'
        ? { rope_type: 'linear', factor: num('rope.scaling.factor', 1) }
        : scalingType && scalingType !== 'none'
          ? { rope_type: String(scalingType) }
          : null,
    max_position_embeddings: num('context_length', 2048),
    tie_word_embeddings: !f.tensors.has('output.weight'),
    attention_bias: f.tensors.has('blk.0.attn_output.bias'),
    eos_token_id: typeof eos === 'number' ? eos : null,
  };
}

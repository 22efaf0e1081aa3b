// The tokenizer.json and tokenizer_config.json that a GGUF file's embedded vocabulary (tokenizer.ggml.*)
// stands for, so a GGUF tokenizer takes the same path through @huggingface/tokenizers as a Hugging Face
// folder. Two vocabulary kinds (tokenizer.ggml.model):
//   'gpt2'  byte-level BPE with merges (Llama 3, Qwen2, SmolLM2), split by the regexes of tokenizer.ggml.pre
//   'llama' SentencePiece BPE with scores (TinyLlama, Llama 2, Mistral, Gemma): merges rebuilt from the
//           scores as transformers' GGUF integration does (GGUFTokenizerSkeleton), '▁' for spaces, byte
//           fallback through the <0xNN> tokens
// Defaults where the metadata is silent (BOS/EOS ids, add_bos, the space prefix, clean-up) are llama.cpp's
// (llama-vocab.cpp, llama_vocab::impl::load); the normalizer of a pre-tokenizer type is Hugging Face's
// (NFC for Qwen2's tokenizer.json).
import { TokenizerError, UnsupportedError } from '../errors';
import type { GGUFValue } from '../io/gguf';

type Json = Record<string, unknown>;

/** GGUF token types (llama.cpp's llama_token_type). */
const TOKEN_TYPE = { normal: 1, unknown: 2, control: 3, userDefined: 4, unused: 5, byte: 6 } as const;

/**
 * Split patterns per tokenizer.ggml.pre (llama.cpp's llama-vocab.cpp lists the same families): the
 * regex(es) of the byte-level pre-tokenizer, applied in order; `addBos` and `cleanSpaces` are
 * llama.cpp's defaults for the type, `nfc` is Hugging Face's normalizer for it.
 */
interface PreType {
  patterns: string[];
  addBos?: boolean;
  cleanSpaces?: boolean;
  nfc?: boolean;
}
const GPT2_SPLIT = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";
const LLAMA3_SPLIT =
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const QWEN2_SPLIT =
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
// Mistral's tekken (Nemo, Small 3) as its tokenizer.json writes it (llama.cpp approximates the case classes).
const TEKKEN_SPLIT =
  '[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+';
const PRE_TYPES: Record<string, PreType> = {
  default: { patterns: [GPT2_SPLIT] },
  gpt2: { patterns: [GPT2_SPLIT] },
  'gpt-2': { patterns: [GPT2_SPLIT] },
  'llama-bpe': { patterns: [LLAMA3_SPLIT], addBos: true },
  llama3: { patterns: [LLAMA3_SPLIT], addBos: true },
  'llama-v3': { patterns: [LLAMA3_SPLIT], addBos: true },
  qwen2: { patterns: [QWEN2_SPLIT], cleanSpaces: false, nfc: true },
  smollm: { patterns: ['\\p{N}', GPT2_SPLIT], cleanSpaces: false },
  tekken: { patterns: [TEKKEN_SPLIT], addBos: true, cleanSpaces: false },
};
const IGNORE_MERGES = new Set(['llama-bpe', 'llama3', 'llama-v3', 'tekken']);

/** A GGUF vocabulary's metadata, read and checked. */
interface Vocab {
  tokens: string[];
  /** GGUF token types (1 normal when the file has none). */
  types: number[];
  meta: Map<string, GGUFValue>;
}

const TEMPLATE_SLOT = (id: string) => ({ SpecialToken: { id, type_id: 0 } });

/** The tokenizer.json and tokenizer_config.json a GGUF file's tokenizer.ggml.* metadata stands for. */
export function ggufTokenizerJSON(meta: Map<string, GGUFValue>): { json: Json; config: Json } {
  const model = meta.get('tokenizer.ggml.model');
  if (model === undefined)
    throw new TokenizerError('gguf: the file embeds no tokenizer (no tokenizer.ggml.model); load tokenizer.json instead');
  if (model !== 'gpt2' && model !== 'llama')
    throw new UnsupportedError(
      `gguf: tokenizer.ggml.model '${String(model)}' is not supported; supported: gpt2 (byte-level BPE: Llama 3, Qwen2, SmolLM2), llama (SentencePiece: TinyLlama, Llama 2, Mistral, Gemma)`,
    );
  const tokens = meta.get('tokenizer.ggml.tokens');
  if (!Array.isArray(tokens) || !tokens.every((t) => typeof t === 'string'))
    throw new TokenizerError('gguf: tokenizer.ggml.tokens must be a list of strings');
  const rawTypes = meta.get('tokenizer.ggml.token_type');
  if (rawTypes !== undefined && !(Array.isArray(rawTypes) && rawTypes.length === tokens.length))
    throw new TokenizerError(`gguf: tokenizer.ggml.token_type must list one type per token (${tokens.length})`);
  const v: Vocab = {
    tokens: tokens as string[],
    types: Array.isArray(rawTypes) ? rawTypes.map(Number) : tokens.map(() => TOKEN_TYPE.normal),
    meta,
  };
  return model === 'gpt2' ? byteLevelBPE(v) : sentencePiece(v);
}

/** A token id's text from tokenizer.ggml.<key>_token_id, else llama.cpp's default id; null if neither is a token. */
function specialToken(v: Vocab, key: string, fallback: number | null): string | null {
  const x = v.meta.get(`tokenizer.ggml.${key}_token_id`);
  const id = typeof x === 'number' ? x : typeof x === 'bigint' ? Number(x) : fallback;
  return id !== null && id >= 0 && id < v.tokens.length ? v.tokens[id] : null;
}

/** tokenizer.ggml.<key> when the file has it, else llama.cpp's default. */
function flag(v: Vocab, key: string, fallback: boolean): boolean {
  const x = v.meta.get(`tokenizer.ggml.${key}`);
  return typeof x === 'boolean' ? x : fallback;
}

/**
 * The parts both vocabulary kinds share: added tokens (unknown, control and user-defined tokens are
 * matched whole before the model, as llama.cpp's special-token partition does), the BOS/EOS template,
 * and tokenizer_config.json.
 */
function assemble(
  v: Vocab,
  o: { bos: string | null; eos: string | null; unk?: string | null; addBos: boolean; addEos: boolean; cleanSpaces: boolean },
  parts: { normalizer: Json | null; pre_tokenizer: Json | null; decoder: Json; model: Json },
): { json: Json; config: Json } {
  const added = v.tokens.flatMap((content, id) => {
    const type = v.types[id];
    return type === TOKEN_TYPE.unknown || type === TOKEN_TYPE.control || type === TOKEN_TYPE.userDefined
      ? [{ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: type !== TOKEN_TYPE.userDefined }]
      : [];
  });
  const ids = new Map(v.tokens.map((t, i) => [t, i]));
  const addBos = o.addBos && o.bos !== null;
  const addEos = o.addEos && o.eos !== null;
  const specials = [...(addBos ? [o.bos as string] : []), ...(addEos ? [o.eos as string] : [])];
  const wrap = (seq: Json[]) => [
    ...(addBos ? [TEMPLATE_SLOT(o.bos as string)] : []),
    ...seq,
    ...(addEos ? [TEMPLATE_SLOT(o.eos as string)] : []),
  ];
  const json: Json = {
    added_tokens: added,
    ...parts,
    post_processor: specials.length
      ? {
          type: 'TemplateProcessing',
          single: wrap([{ Sequence: { id: 'A', type_id: 0 } }]),
          pair: wrap([{ Sequence: { id: 'A', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }]),
          special_tokens: Object.fromEntries(specials.map((t) => [t, { id: t, ids: [ids.get(t)], tokens: [t] }])),
        }
      : null,
  };
  const template = v.meta.get('tokenizer.chat_template');
  const config: Json = {
    bos_token: o.bos,
    eos_token: o.eos,
    ...(o.unk !== undefined ? { unk_token: o.unk } : {}),
    add_bos_token: addBos,
    add_eos_token: addEos,
    clean_up_tokenization_spaces: o.cleanSpaces,
    ...(typeof template === 'string' ? { chat_template: template } : {}),
  };
  return { json, config };
}

/** 'gpt2': byte-level BPE with the file's merges. */
function byteLevelBPE(v: Vocab): { json: Json; config: Json } {
  const merges = v.meta.get('tokenizer.ggml.merges');
  if (!Array.isArray(merges) || !merges.every((t) => typeof t === 'string'))
    throw new TokenizerError('gguf: tokenizer.ggml.merges must be a list of strings');
  const pre = String(v.meta.get('tokenizer.ggml.pre') ?? 'default');
  const type = PRE_TYPES[pre];
  if (!type) throw new UnsupportedError(`gguf: pre-tokenizer '${pre}' is not supported; supported: ${Object.keys(PRE_TYPES).join(', ')}`);
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false };
  // llama.cpp's default BOS/EOS id for a BPE vocabulary is 11 (Falcon's); files name their own.
  return assemble(
    v,
    {
      bos: specialToken(v, 'bos', 11),
      eos: specialToken(v, 'eos', 11),
      addBos: flag(v, 'add_bos_token', type.addBos ?? false),
      addEos: flag(v, 'add_eos_token', false),
      cleanSpaces: type.cleanSpaces ?? true,
    },
    {
      normalizer: type.nfc ? { type: 'NFC' } : null,
      pre_tokenizer: {
        type: 'Sequence',
        pretokenizers: [
          ...type.patterns.map((p) => ({ type: 'Split', pattern: { Regex: p }, behavior: 'Isolated', invert: false })),
          byteLevel,
        ],
      },
      decoder: byteLevel,
      model: {
        type: 'BPE',
        vocab: Object.fromEntries(v.tokens.map((t, i) => [t, i])),
        merges,
        byte_fallback: false,
        ignore_merges: IGNORE_MERGES.has(pre),
        fuse_unk: false,
        unk_token: null,
      },
    },
  );
}

/**
 * 'llama': SentencePiece BPE. The merges are every split of a token into two tokens, ordered by the
 * merged token's score (highest first; within one token by its pieces' scores), which is the order
 * llama.cpp's SPM tokenizer merges bigrams in; text is '▁'-escaped with a '▁' prefix (add_space_prefix)
 * per text segment between special tokens, as llama.cpp and Hugging Face's legacy Llama tokenizer do.
 */
function sentencePiece(v: Vocab): { json: Json; config: Json } {
  const scores = v.meta.get('tokenizer.ggml.scores');
  if (!Array.isArray(scores) || scores.length !== v.tokens.length || !scores.every((s) => typeof s === 'number'))
    throw new TokenizerError(`gguf: a SentencePiece vocabulary needs tokenizer.ggml.scores, one number per token (${v.tokens.length})`);
  const score = new Map<string, number>();
  v.tokens.forEach((t, i) => {
    if (!score.has(t)) score.set(t, scores[i] as number);
  });
  const merges: [string, string, number][] = [];
  const local: [string, string, number][] = [];
  const by = (x: string) => score.get(x) as number;
  for (const [t, s] of score) {
    local.length = 0;
    for (let i = 1; i < t.length; i++) {
      const c = t.charCodeAt(i);
      if (c >= 0xdc00 && c <= 0xdfff) continue; // never split a surrogate pair
      const [l, r] = [t.slice(0, i), t.slice(i)];
      if (score.has(l) && score.has(r)) local.push([l, r, s]);
    }
    if (local.length > 1) local.sort((a, b) => by(b[0]) - by(a[0]) || by(b[1]) - by(a[1]));
    merges.push(...local);
  }
  merges.sort((a, b) => b[2] - a[2]); // stable: ties keep the token order
  const missingBytes = Array.from({ length: 256 }, (_, b) => `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`).filter(
    (t) => !score.has(t),
  );
  if (missingBytes.length && missingBytes.length < 256)
    throw new TokenizerError(`gguf: the SentencePiece vocabulary has some byte tokens but not ${missingBytes.slice(0, 3).join(', ')}…`);
  const prefix = flag(v, 'add_space_prefix', true);
  const spacesToMarks = { type: 'Replace', pattern: { String: ' ' }, content: '▁' };
  const unk = specialToken(v, 'unknown', 0);
  return assemble(
    v,
    {
      bos: specialToken(v, 'bos', 1),
      eos: specialToken(v, 'eos', 2),
      unk,
      addBos: flag(v, 'add_bos_token', true),
      addEos: flag(v, 'add_eos_token', false),
      cleanSpaces: false,
    },
    {
      normalizer: prefix ? { type: 'Sequence', normalizers: [{ type: 'Prepend', prepend: '▁' }, spacesToMarks] } : spacesToMarks,
      pre_tokenizer: null,
      decoder: {
        type: 'Sequence',
        decoders: [
          { type: 'Replace', pattern: { String: '▁' }, content: ' ' },
          { type: 'ByteFallback' },
          { type: 'Fuse' },
          ...(prefix ? [{ type: 'Strip', content: ' ', start: 1, stop: 0 }] : []),
        ],
      },
      model: {
        type: 'BPE',
        vocab: Object.fromEntries(v.tokens.map((t, i) => [t, i])),
        merges: merges.map(([l, r]) => [l, r]),
        byte_fallback: missingBytes.length === 0,
        ignore_merges: false,
        fuse_unk: true,
        unk_token: unk,
      },
    },
  );
}

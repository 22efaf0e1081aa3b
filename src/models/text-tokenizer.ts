// Tokenizers of the models people download, through Hugging Face's own JavaScript libraries:
// @huggingface/tokenizers reads tokenizer.json (byte-level BPE as Llama 3 / Qwen2 / SmolLM2 ship it,
// SentencePiece-style BPE with byte fallback as Llama 2 / TinyLlama), and @huggingface/jinja renders
// the chat template of tokenizer_config.json. A GGUF file's embedded vocabulary (tokenizer.ggml.*) is
// turned into the tokenizer.json that describes it, so both sources take the same path.
import { Template } from '@huggingface/jinja';
import { Tokenizer } from '@huggingface/tokenizers';
import { ArgumentError, FormatError, UnsupportedError } from '../errors';
import { GGUFFile, type GGUFValue } from '../io/gguf';
import { encodePair } from './pair';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant' | (string & {});
  content: string;
}

/** A tokenizer.json (object or text) is missing or cannot be read. */
export class TokenizerError extends FormatError {
  override name = 'TokenizerError';
}

type Json = Record<string, unknown>;

const parse = (x: unknown, what: string): Json => {
  if (typeof x === 'string') {
    try {
      return JSON.parse(x) as Json;
    } catch (e) {
      throw new TokenizerError(`${what} is not valid JSON (${(e as Error).message})`);
    }
  }
  if (typeof x !== 'object' || x === null) throw new TokenizerError(`${what} is missing: pass the parsed JSON or its text`);
  return x as Json;
};

/** A special token's text, whether the config gives a string or an AddedToken object. */
const tokenText = (v: unknown): string | null =>
  typeof v === 'string'
    ? v
    : v && typeof v === 'object' && typeof (v as Json).content === 'string'
      ? ((v as Json).content as string)
      : null;

export class TextTokenizer {
  private readonly template: Template | null;

  private constructor(
    private readonly tok: Tokenizer,
    private readonly config: Json,
    /** The chat template's source (Jinja), or null when the model has none. */
    readonly chatTemplate: string | null,
  ) {
    try {
      this.template = chatTemplate ? new Template(chatTemplate) : null;
    } catch (e) {
      throw new TokenizerError(`the chat template does not parse: ${(e as Error).message}`);
    }
  }

  /** From tokenizer.json and (for special tokens and the chat template) tokenizer_config.json. */
  static fromJSON(tokenizerJson: unknown, tokenizerConfig: unknown = {}): TextTokenizer {
    const json = parse(tokenizerJson, 'tokenizer.json');
    const config = parse(tokenizerConfig, 'tokenizer_config.json');
    if (typeof json.model !== 'object' || json.model === null) throw new TokenizerError('tokenizer.json has no "model" section');
    let tok: Tokenizer;
    try {
      tok = new Tokenizer(json, config);
    } catch (e) {
      throw new TokenizerError(`tokenizer.json could not be loaded: ${(e as Error).message}`);
    }
    const template = config.chat_template;
    // tokenizer_config may hold several named templates; the default one is used.
    const source =
      typeof template === 'string'
        ? template
        : Array.isArray(template)
          ? ((template as Json[]).find((t) => t.name === 'default')?.template as string)
          : null;
    return new TextTokenizer(tok, config, source ?? null);
  }

  /** From the vocabulary a GGUF file embeds (tokenizer.ggml.model 'gpt2', i.e. byte-level BPE). */
  static fromGGUF(file: GGUFFile | Uint8Array | ArrayBuffer): TextTokenizer {
    const f = file instanceof GGUFFile ? file : GGUFFile.parse(file);
    const { json, config } = ggufTokenizerJSON(f.metadata);
    return TextTokenizer.fromJSON(json, config);
  }

  /** Token ids of `text`; special tokens of the tokenizer's post-processor (a BOS) added unless told not to. */
  encode(text: string, o: { addSpecialTokens?: boolean } = {}): number[] {
    if (typeof text !== 'string') throw new ArgumentError(`tokenizer: encode needs a string, got ${typeof text}`);
    return this.tok.encode(text, { add_special_tokens: o.addSpecialTokens ?? true }).ids;
  }

  /**
   * A pair of texts (a question and its context, two sentences) as a BERT-style model takes them: ids
   * with the post-processor's special tokens, its segment ids, cut 'longest_first' to `maxLength`
   * (default the config's model_max_length). See pair.ts.
   */
  encodePair(a: string, b: string, o: { maxLength?: number } = {}): { ids: number[]; typeIds: number[] } {
    return encodePair(this.tok, this.config, a, b, o);
  }

  /** The text of `ids`; special tokens (BOS, <|im_end|>, …) dropped when `skipSpecialTokens`. */
  decode(ids: readonly number[], o: { skipSpecialTokens?: boolean } = {}): string {
    return this.tok.decode([...ids], { skip_special_tokens: o.skipSpecialTokens ?? false });
  }

  /** The id of a token's text (e.g. '<|im_end|>'), or undefined. */
  tokenId(text: string): number | undefined {
    return this.tok.token_to_id(text);
  }

  /** Ids of the special tokens that end a turn: eos_token, plus the ChatML / Llama 3 turn ends the vocabulary has. */
  get stopTokens(): number[] {
    const names = [tokenText(this.config.eos_token), '<|im_end|>', '<|eot_id|>', '<|end_of_text|>', '<|endoftext|>'];
    return [...new Set(names.flatMap((n) => (n && this.tok.token_to_id(n) !== undefined ? [this.tok.token_to_id(n)!] : [])))];
  }

  /**
   * The conversation as the model was trained to see it (its chat template), ending with the
   * assistant's turn opened when `addGenerationPrompt` (default true).
   */
  applyChatTemplate(messages: readonly ChatMessage[], o: { addGenerationPrompt?: boolean } = {}): string {
    if (!this.template)
      throw new UnsupportedError(
        'tokenizer: this model has no chat template (tokenizer_config.json chat_template); use encode() on plain text',
      );
    if (!Array.isArray(messages) || messages.some((m) => typeof m?.role !== 'string' || typeof m.content !== 'string'))
      throw new ArgumentError('tokenizer: messages must be { role, content } strings');
    return this.template.render({
      messages,
      add_generation_prompt: o.addGenerationPrompt ?? true,
      bos_token: tokenText(this.config.bos_token) ?? '',
      eos_token: tokenText(this.config.eos_token) ?? '',
    });
  }

  /** applyChatTemplate, then its ids (the template writes the special tokens itself). */
  encodeChat(messages: readonly ChatMessage[], o: { addGenerationPrompt?: boolean } = {}): number[] {
    return this.encode(this.applyChatTemplate(messages, o), { addSpecialTokens: false });
  }

  /**
   * The text of a stream of ids (a model's generate()), piece by piece, ending before the first of
   * `stopStrings` it produces: the text up to it is yielded, the stop string is not, and the id
   * stream is closed (return()), which ends the generation and leaves the model ready. Text that could
   * be the start of a stop string is held back until it is clearly not.
   */
  async *streamText(
    ids: AsyncIterable<number>,
    o: { stopStrings?: readonly string[]; skipSpecialTokens?: boolean } = {},
  ): AsyncGenerator<string> {
    const stops = (o.stopStrings ?? []).filter((x) => x.length > 0);
    const next = this.streamDecoder({ skipSpecialTokens: o.skipSpecialTokens ?? true });
    let pending = '';
    for await (const id of ids) {
      pending += next(id);
      const at = stops.map((x) => pending.indexOf(x)).filter((i) => i >= 0);
      if (at.length) {
        const head = pending.slice(0, Math.min(...at));
        if (head) yield head;
        return; // leaving the loop closes the id stream
      }
      // Keep back the longest tail of the text that a stop string begins with.
      let keep = 0;
      for (const x of stops)
        for (let n = Math.min(x.length - 1, pending.length); n > keep; n--) if (x.startsWith(pending.slice(-n))) keep = n;
      if (pending.length > keep) {
        yield pending.slice(0, pending.length - keep);
        pending = pending.slice(pending.length - keep);
      }
    }
    if (pending) yield pending;
  }

  /**
   * A streaming decoder: feed ids one at a time, get the text they add. Text is held back while the
   * last ids end inside a multi-byte character (a byte-level token may be half of an emoji).
   */
  streamDecoder(o: { skipSpecialTokens?: boolean } = {}): (id: number) => string {
    const ids: number[] = [];
    let shown = '';
    return (id) => {
      ids.push(id);
      const text = this.decode(ids, o);
      if (text.endsWith('\uFFFD')) return ''; // an incomplete UTF-8 sequence so far
      const added = text.startsWith(shown) ? text.slice(shown.length) : text;
      shown = text;
      return added;
    };
  }
}

/**
 * GGUF split patterns per tokenizer.ggml.pre (llama.cpp's llama-vocab.cpp lists the same families):
 * the regex(es) of the byte-level pre-tokenizer, applied in order.
 */
const PRE_PATTERNS: Record<string, string[]> = {
  gpt2: ["'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+"],
  'llama-bpe': [
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
  ],
  qwen2: [
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
  ],
  smollm: ['\\p{N}', "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+"],
};
PRE_PATTERNS.default = PRE_PATTERNS.gpt2;
PRE_PATTERNS.llama3 = PRE_PATTERNS['llama-bpe'];

/** The tokenizer.json and tokenizer_config.json a GGUF file's tokenizer.ggml.* metadata stands for. */
export function ggufTokenizerJSON(meta: Map<string, GGUFValue>): { json: Json; config: Json } {
  const model = meta.get('tokenizer.ggml.model');
  if (model === undefined)
    throw new TokenizerError('gguf: the file embeds no tokenizer (no tokenizer.ggml.model); load tokenizer.json instead');
  if (model !== 'gpt2')
    throw new UnsupportedError(
      `gguf: tokenizer.ggml.model '${String(model)}' is not supported; supported: gpt2 (byte-level BPE: Llama 3, Qwen2, SmolLM2)`,
    );
  const tokens = meta.get('tokenizer.ggml.tokens');
  const merges = meta.get('tokenizer.ggml.merges');
  if (!Array.isArray(tokens) || !tokens.every((t) => typeof t === 'string'))
    throw new TokenizerError('gguf: tokenizer.ggml.tokens must be a list of strings');
  if (!Array.isArray(merges) || !merges.every((t) => typeof t === 'string'))
    throw new TokenizerError('gguf: tokenizer.ggml.merges must be a list of strings');
  const types = meta.get('tokenizer.ggml.token_type');
  const pre = String(meta.get('tokenizer.ggml.pre') ?? 'default');
  const patterns = PRE_PATTERNS[pre];
  if (!patterns)
    throw new UnsupportedError(`gguf: pre-tokenizer '${pre}' is not supported; supported: ${Object.keys(PRE_PATTERNS).join(', ')}`);
  const vocab: Record<string, number> = {};
  (tokens as string[]).forEach((t, i) => {
    vocab[t] = i;
  });
  // Control (3) and user-defined (4) tokens are matched whole before the BPE, as added tokens.
  const added = (tokens as string[]).flatMap((content, id) => {
    const type = Array.isArray(types) ? Number(types[id]) : 1;
    return type === 3 || type === 4
      ? [{ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: type === 3 }]
      : [];
  });
  const id = (key: string) => {
    const v = meta.get(`tokenizer.ggml.${key}`);
    return typeof v === 'number' && v >= 0 && v < tokens.length ? (tokens[v] as string) : null;
  };
  const bos = id('bos_token_id');
  const addBos = meta.get('tokenizer.ggml.add_bos_token') === true && bos !== null;
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false };
  const json: Json = {
    added_tokens: added,
    normalizer: null,
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [...patterns.map((p) => ({ type: 'Split', pattern: { Regex: p }, behavior: 'Isolated', invert: false })), byteLevel],
    },
    post_processor: addBos
      ? {
          type: 'TemplateProcessing',
          single: [{ SpecialToken: { id: bos, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
          pair: [{ SpecialToken: { id: bos, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }],
          special_tokens: { [bos]: { id: bos, ids: [vocab[bos]], tokens: [bos] } },
        }
      : null,
    decoder: byteLevel,
    model: {
      type: 'BPE',
      vocab,
      merges,
      byte_fallback: false,
      ignore_merges: pre === 'llama-bpe' || pre === 'llama3',
      fuse_unk: false,
      unk_token: null,
    },
  };
  const template = meta.get('tokenizer.chat_template');
  const config: Json = {
    bos_token: bos,
    eos_token: id('eos_token_id'),
    add_bos_token: addBos,
    ...(typeof template === 'string' ? { chat_template: template } : {}),
  };
  return { json, config };
}

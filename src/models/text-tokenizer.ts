// Tokenizers of the models people download, through Hugging Face's own JavaScript libraries:
// @huggingface/tokenizers reads tokenizer.json (byte-level BPE as Llama 3 / Qwen2 / SmolLM2 ship it,
// SentencePiece-style BPE with byte fallback as Llama 2 / TinyLlama), and @huggingface/jinja renders
// the chat template of tokenizer_config.json. A GGUF file's embedded vocabulary (tokenizer.ggml.*) is
// turned into the tokenizer.json that describes it (gguf-tokenizer.ts), so both sources take the same
// path. Errors the two libraries throw surface as TokenizerError.
import { Template } from '@huggingface/jinja';
import { Tokenizer } from '@huggingface/tokenizers';
import { ArgumentError, TokenizerError, UnsupportedError } from '../errors';
import { GGUFFile } from '../io/gguf';
import { encodePair, encodeWithOffsets } from './pair';
import { ggufTokenizerJSON } from './gguf-tokenizer';

export { TokenizerError } from '../errors';
export { ggufTokenizerJSON } from './gguf-tokenizer';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant' | (string & {});
  content: string;
}

type Json = Record<string, unknown>;

/** `run()`, with an error of @huggingface/tokenizers or @huggingface/jinja rethrown as a TokenizerError naming `what`. */
function wrapped<T>(what: string, run: () => T): T {
  try {
    return run();
  } catch (e) {
    if (e instanceof TokenizerError || e instanceof ArgumentError || e instanceof UnsupportedError) throw e;
    throw new TokenizerError(`tokenizer: ${what} failed: ${(e as Error)?.message ?? String(e)}`);
  }
}

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

  /** From the vocabulary a GGUF file embeds (tokenizer.ggml.model 'gpt2': byte-level BPE; 'llama': SentencePiece). */
  static fromGGUF(file: GGUFFile | Uint8Array | ArrayBuffer): TextTokenizer {
    const f = file instanceof GGUFFile ? file : GGUFFile.parse(file);
    const { json, config } = ggufTokenizerJSON(f.metadata);
    return TextTokenizer.fromJSON(json, config);
  }

  /** Token ids of `text`; special tokens of the tokenizer's post-processor (a BOS) added unless told not to. */
  encode(text: string, o: { addSpecialTokens?: boolean } = {}): number[] {
    if (typeof text !== 'string') throw new ArgumentError(`tokenizer: encode needs a string, got ${typeof text}`);
    return wrapped('encode', () => this.tok.encode(text, { add_special_tokens: o.addSpecialTokens ?? true }).ids);
  }

  /**
   * A pair of texts (a question and its context, two sentences) as a BERT-style model takes them: ids
   * with the post-processor's special tokens, its segment ids, cut 'longest_first' to `maxLength`
   * (default the config's model_max_length), with each token's offsets into its own text. See pair.ts.
   */
  encodePair(a: string, b: string, o: { maxLength?: number } = {}): { ids: number[]; typeIds: number[]; offsets: [number, number][] } {
    return encodePair(this.tok, this.config, a, b, o);
  }

  /**
   * `text`'s ids and each token's [start, end) in `text` ([0, 0] for special tokens), as Hugging Face's
   * offsets; cut to `maxLength` (default the config's model_max_length) keeping the special tokens.
   */
  encodeWithOffsets(
    text: string,
    o: { addSpecialTokens?: boolean; maxLength?: number } = {},
  ): { ids: number[]; offsets: [number, number][] } {
    return encodeWithOffsets(this.tok, this.config, text, o);
  }

  /** The text of `ids`; special tokens (BOS, <|im_end|>, …) dropped when `skipSpecialTokens`. */
  decode(ids: readonly number[], o: { skipSpecialTokens?: boolean } = {}): string {
    if (!Array.isArray(ids)) throw new ArgumentError(`tokenizer: decode needs an array of token ids, got ${typeof ids}`);
    if (ids.length === 0) return '';
    return wrapped('decode', () => this.tok.decode([...ids], { skip_special_tokens: o.skipSpecialTokens ?? false }));
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
    const template = this.template;
    return wrapped('the chat template', () =>
      template.render({
        messages,
        add_generation_prompt: o.addGenerationPrompt ?? true,
        bos_token: tokenText(this.config.bos_token) ?? '',
        eos_token: tokenText(this.config.eos_token) ?? '',
      }),
    );
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

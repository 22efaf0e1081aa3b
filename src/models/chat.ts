// Chat on a decoder: a session that keeps its messages and, through generate()'s KV-cache reuse, the
// model's cache between turns, so each turn prefills only what is new; and an OpenAI-shaped facade,
// chat.completions.create(), so an app written for WebLLM or the OpenAI SDK ports by changing its import.
// The conversation goes through the tokenizer's chat template. A turn is encoded as the previous turn's
// exact ids (prompt + reply tokens as generated) plus the new text the template adds after them, when
// the template renders the earlier conversation unchanged (ChatML, Llama 3 and most others do): the
// reply is never re-tokenized, so nothing before the new turn differs from what the cache holds.
import { ArgumentError, BusyError, ShapeError } from '../errors';
import type { GenerateOptions, GenerationStats } from './decoder';
import type { ChatMessage, TextTokenizer } from './text-tokenizer';

export type { ChatMessage } from './text-tokenizer';

/** What a chat needs of a tokenizer (TextTokenizer has it all). */
export type ChatTokenizer = Pick<TextTokenizer, 'applyChatTemplate' | 'encode' | 'decode' | 'streamText' | 'stopTokens'>;

/** What a chat needs of a model (GPT2 and Llama have it all). */
export interface ChatModel {
  generate(prompt: ArrayLike<number>, options?: GenerateOptions): AsyncGenerator<number>;
  readonly lastGeneration: GenerationStats;
  readonly maxLength: number;
}

/** When the conversation and the reply's room no longer fit the context. */
export type ContextPolicy = 'error' | 'drop-oldest';

export interface ChatOptions {
  /** A system message that opens the conversation (kept when older turns are dropped). */
  system?: string;
  /** The tokenizer with the model's chat template (default: the one loadModel attached to the model). */
  tokenizer?: ChatTokenizer;
  /**
   * The context is full when the conversation plus the reply's maxNewTokens exceed the model's
   * maxLength. 'error' (the default) throws a ShapeError; 'drop-oldest' drops the oldest turns (the
   * system message stays) until it fits, rebuilding the KV cache once, and lists them in the turn's
   * `dropped` and in chat.dropped.
   */
  contextPolicy?: ContextPolicy;
  /** The model's name in OpenAI-shaped responses (default 'webgpu-nlp'). */
  model?: string;
}

/** A turn's options: generate()'s, with chat defaults, and stop strings. */
export interface ChatSendOptions extends Omit<GenerateOptions, 'stopToken'> {
  /** Default 256 (capped at the room left in the context). */
  maxNewTokens?: number;
  /** Default: the tokenizer's turn-ending tokens (eos, <|im_end|>, <|eot_id|>, …). */
  stopTokens?: readonly number[];
  /** The reply ends before the first of these strings it produces (the string is not part of it). */
  stop?: readonly string[];
}

/** Why a reply ended, as OpenAI names it ('abort': the signal stopped it). */
export type FinishReason = 'stop' | 'length' | 'abort';

/** One turn's outcome: chat.lastTurn, and the value send()'s generator returns. */
export interface ChatTurn {
  /** The reply's text (what was streamed). */
  text: string;
  finishReason: FinishReason;
  /** The conversation's tokens this turn gave the model, and how many of them actually ran (the rest came from the KV cache). */
  promptTokens: number;
  prefilledTokens: number;
  completionTokens: number;
  /** Messages dropped to make room ('drop-oldest'), oldest first; empty when nothing was. */
  dropped: ChatMessage[];
  /** The ids the model was given (the whole conversation) and the ids it generated (a stop token included). */
  promptIds: number[];
  replyIds: number[];
  /** The generation's stats (time to first token, compile and prefill ms, per-step times). */
  stats: GenerationStats;
}

/**
 * The conversation's token ids, reusing the previous encoding's exact ids where the template renders
 * the earlier conversation unchanged. One per session and one per facade.
 */
class ConversationEncoder {
  /**
   * The ids of the last prompt plus its reply as generated, with the text they stand for; and the same
   * without the reply's last token, for a reply that ended on a token the template writes otherwise
   * (an eos where the template closes the turn with <|im_end|>).
   */
  private known: { ids: number[]; text: string }[] = [];

  constructor(private readonly tok: ChatTokenizer) {}

  /** The prompt for `messages` (assistant turn opened) and its rendered text. */
  encode(messages: readonly ChatMessage[]): { ids: number[]; rendered: string } {
    const rendered = this.tok.applyChatTemplate(messages, { addGenerationPrompt: true });
    const known = this.known.find((k) => rendered.startsWith(k.text));
    if (known) {
      const rest = rendered.slice(known.text.length);
      return { ids: [...known.ids, ...(rest ? this.tok.encode(rest, { addSpecialTokens: false }) : [])], rendered };
    }
    return { ids: this.tok.encode(rendered, { addSpecialTokens: false }), rendered };
  }

  /** After a reply: the prompt's ids and text followed by the reply's tokens and their text (special tokens written out). */
  commit(prompt: { ids: number[]; rendered: string }, reply: number[]): void {
    const text = (r: number[]) => prompt.rendered + (r.length ? this.tok.decode(r, { skipSpecialTokens: false }) : '');
    this.known = [{ ids: [...prompt.ids, ...reply], text: text(reply) }];
    if (reply.length) this.known.push({ ids: [...prompt.ids, ...reply.slice(0, -1)], text: text(reply.slice(0, -1)) });
  }

  reset(): void {
    this.known = [];
  }
}

const where = 'chat';

function checkMessages(messages: unknown, what: string): ChatMessage[] {
  if (!Array.isArray(messages) || messages.length === 0)
    throw new ArgumentError(`${where}: ${what} must be a non-empty array of { role, content }`);
  return messages.map((m, i) => {
    const content = (m as { content?: unknown })?.content;
    const role = (m as { role?: unknown })?.role;
    // OpenAI's content may be an array of parts; only text parts are understood.
    const text = Array.isArray(content)
      ? content
          .map((p) => {
            if ((p as { type?: unknown })?.type !== 'text' || typeof (p as { text?: unknown }).text !== 'string')
              throw new ArgumentError(`${where}: ${what}[${i}]: only text content parts ({ type: 'text', text }) are supported`);
            return (p as { text: string }).text;
          })
          .join('')
      : content;
    if (typeof role !== 'string' || typeof text !== 'string')
      throw new ArgumentError(`${where}: ${what}[${i}] must be { role: string, content: string }`);
    return { role, content: text };
  });
}

/**
 * Streams the reply to `ids`: text pieces as they complete (a multi-byte character is never split,
 * text that may begin a stop string is held back), returning the reply's ids and why it ended.
 */
async function* streamReply(
  model: ChatModel,
  tok: ChatTokenizer,
  ids: number[],
  options: GenerateOptions,
  stop: readonly string[],
): AsyncGenerator<string, { reply: number[]; text: string; finishReason: FinishReason }> {
  const reply: number[] = [];
  let ended = false; // the id stream ran out by itself (not cut at a stop string)
  async function* tokens(): AsyncGenerator<number> {
    for await (const id of model.generate(ids, options)) {
      reply.push(id);
      yield id;
    }
    ended = true;
  }
  let text = '';
  for await (const piece of tok.streamText(tokens(), { stopStrings: stop })) {
    text += piece;
    yield piece;
  }
  const reason = model.lastGeneration.stopReason;
  return { reply, text, finishReason: !ended || reason === 'stop' ? 'stop' : reason };
}

/**
 * The prompt for `messages` with room for `reserve` new tokens: as it is, or (drop-oldest) without
 * its oldest turns. `keep` trailing messages (the new input) are never dropped.
 */
function fitContext(
  enc: ConversationEncoder,
  messages: ChatMessage[],
  keep: number,
  reserve: number,
  maxLength: number,
  policy: ContextPolicy,
): { prompt: { ids: number[]; rendered: string }; messages: ChatMessage[]; dropped: ChatMessage[] } {
  let msgs = messages;
  const dropped: ChatMessage[] = [];
  for (;;) {
    const prompt = enc.encode(msgs);
    if (prompt.ids.length + reserve <= maxLength) return { prompt, messages: msgs, dropped };
    const full = `the conversation is ${prompt.ids.length} tokens, and the reply needs room for ${reserve} more: above the context of ${maxLength}`;
    if (policy === 'error')
      throw new ShapeError(`${where}: ${full}; start a new chat, lower maxNewTokens, or use contextPolicy 'drop-oldest'`);
    // The oldest turn that is not the system message nor the new input: a message and the replies after it.
    const first = msgs.findIndex((m, i) => m.role !== 'system' && i < msgs.length - keep);
    if (first < 0) throw new ShapeError(`${where}: ${full}, with every older turn dropped already`);
    let end = first + 1;
    while (end < msgs.length - keep && msgs[end].role === 'assistant') end++;
    dropped.push(...msgs.slice(first, end));
    msgs = [...msgs.slice(0, first), ...msgs.slice(end)];
  }
}

/** A conversation with a model: its messages, and the KV cache kept between turns by generate(). */
export class ChatSession {
  /** The conversation so far (system message, turns, replies), as the template sees it. */
  readonly messages: ChatMessage[] = [];
  /** Every message dropped to make room ('drop-oldest'), oldest first. */
  readonly dropped: ChatMessage[] = [];
  /** The last turn's outcome, or null before the first. */
  lastTurn: ChatTurn | null = null;
  /** OpenAI's chat.completions.create() on this model (stateless: each request brings its messages). */
  readonly completions: ChatCompletions;
  private readonly enc: ConversationEncoder;
  private readonly policy: ContextPolicy;
  private busy = false;

  constructor(
    private readonly model: ChatModel,
    readonly tokenizer: ChatTokenizer,
    options: Omit<ChatOptions, 'tokenizer'> = {},
  ) {
    if (!tokenizer || typeof tokenizer.applyChatTemplate !== 'function')
      throw new ArgumentError(`${where}: a tokenizer with a chat template is needed (options.tokenizer, or loadModel's)`);
    const policy = options.contextPolicy ?? 'error';
    if (policy !== 'error' && policy !== 'drop-oldest')
      throw new ArgumentError(`${where}: contextPolicy must be 'error' or 'drop-oldest', got ${JSON.stringify(policy)}`);
    if (options.system !== undefined && typeof options.system !== 'string') throw new ArgumentError(`${where}: system must be a string`);
    this.policy = policy;
    this.enc = new ConversationEncoder(tokenizer);
    if (options.system) this.messages.push({ role: 'system', content: options.system });
    this.completions = new ChatCompletions(model, tokenizer, options.model ?? 'webgpu-nlp');
  }

  /**
   * Sends a user message (a string) or messages, and streams the reply's text. Only what is new since
   * the last turn is prefilled. The reply joins the messages when it ends (one stopped by the signal
   * too, as far as it got); a failed turn, or one whose stream the caller closed (return(), break),
   * leaves the conversation as it was. The generator's return value (and chat.lastTurn) is the turn's
   * outcome.
   */
  async *send(input: string | readonly ChatMessage[], options: ChatSendOptions = {}): AsyncGenerator<string, ChatTurn> {
    const added = typeof input === 'string' ? [{ role: 'user', content: input }] : checkMessages(input, 'send(messages)');
    if (this.busy) throw new BusyError(`${where}.send: the previous reply is still streaming; finish it or call return() on it`);
    const { stop = [], ...gen } = options;
    if (!Array.isArray(stop) || stop.some((s) => typeof s !== 'string'))
      throw new ArgumentError(`${where}: stop must be an array of strings`);
    const maxNewTokens = gen.maxNewTokens ?? 256;
    if (!(Number.isInteger(maxNewTokens) && maxNewTokens >= 1))
      throw new ArgumentError(`${where}: maxNewTokens must be a positive integer, got ${maxNewTokens}`);
    this.busy = true;
    try {
      const { prompt, messages, dropped } = fitContext(
        this.enc,
        [...this.messages, ...added],
        added.length,
        Math.min(maxNewTokens, this.model.maxLength - 1),
        this.model.maxLength,
        this.policy,
      );
      const room = this.model.maxLength - prompt.ids.length;
      const stopTokens = gen.stopTokens ?? this.tokenizer.stopTokens;
      const out = yield* streamReply(
        this.model,
        this.tokenizer,
        prompt.ids,
        { ...gen, maxNewTokens: Math.min(maxNewTokens, room), stopTokens },
        stop,
      );
      // The turn happened: the conversation, the encoder's ids and the cache now include the reply.
      this.messages.splice(0, this.messages.length, ...messages, { role: 'assistant', content: out.text });
      this.dropped.push(...dropped);
      this.enc.commit(prompt, out.reply);
      const stats = this.model.lastGeneration;
      this.lastTurn = {
        text: out.text,
        finishReason: out.finishReason,
        promptTokens: prompt.ids.length,
        prefilledTokens: stats.prefilledTokens,
        completionTokens: out.reply.length,
        dropped,
        promptIds: prompt.ids,
        replyIds: out.reply,
        stats: { ...stats, steps: [...stats.steps] },
      };
      return this.lastTurn;
    } finally {
      this.busy = false;
    }
  }

  /** Forgets the turns (the system message stays); the model's cache is reused where the next prompt matches it. */
  clear(): void {
    this.messages.splice(this.messages[0]?.role === 'system' ? 1 : 0);
    this.enc.reset();
    this.lastTurn = null;
  }
}

/** OpenAI's request body (the fields understood; others are refused, not ignored). */
export interface ChatCompletionRequest {
  messages: { role: string; content: string | { type: 'text'; text: string }[] }[];
  stream?: boolean;
  /** Default: the room left in the context. */
  max_tokens?: number | null;
  /** OpenAI's newer name for max_tokens. */
  max_completion_tokens?: number | null;
  /** Default 1, as OpenAI's; 0 is greedy. */
  temperature?: number | null;
  top_p?: number | null;
  stop?: string | string[] | null;
  /** Default: a random seed per request. */
  seed?: number | null;
  /** Only 1. */
  n?: number | null;
  /** Default true here: the stream ends with a chunk of empty choices and the usage. */
  stream_options?: { include_usage?: boolean } | null;
  /** Echoed in responses (default: the facade's model name). */
  model?: string;
}

export interface ChatCompletionUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  /** Beyond OpenAI's fields (as WebLLM's usage.extra): how much of the prompt ran, and the timings. */
  extra: { prefilled_tokens: number; time_to_first_token_ms: number; compile_ms: number; prefill_ms: number };
}

export interface ChatCompletionChunk {
  id: string;
  object: 'chat.completion.chunk';
  created: number;
  model: string;
  choices: { index: number; delta: { role?: 'assistant'; content?: string }; finish_reason: FinishReason | null; logprobs: null }[];
  usage: ChatCompletionUsage | null;
}

export interface ChatCompletion {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  choices: { index: number; message: { role: 'assistant'; content: string }; finish_reason: FinishReason; logprobs: null }[];
  usage: ChatCompletionUsage;
}

const KNOWN = new Set([
  'messages',
  'stream',
  'max_tokens',
  'max_completion_tokens',
  'temperature',
  'top_p',
  'stop',
  'seed',
  'n',
  'stream_options',
  'model',
]);

/** chat.completions: OpenAI's create() on a model, each request bringing its whole conversation. */
export class ChatCompletions {
  private readonly enc: ConversationEncoder;

  constructor(
    private readonly model: ChatModel,
    private readonly tok: ChatTokenizer,
    private readonly name: string,
  ) {
    this.enc = new ConversationEncoder(tok);
  }

  /**
   * A chat completion: with `stream: true`, chunks as OpenAI streams them (the first delta carries the
   * role, the last chunk with choices the finish_reason, then one with the usage); else the whole
   * completion. `signal` (as the OpenAI SDK's request option) stops the generation: finish_reason 'abort'.
   */
  create(
    request: ChatCompletionRequest & { stream: true },
    options?: { signal?: AbortSignal },
  ): Promise<AsyncIterable<ChatCompletionChunk>>;
  create(request: ChatCompletionRequest & { stream?: false | null }, options?: { signal?: AbortSignal }): Promise<ChatCompletion>;
  create(request: ChatCompletionRequest, options?: { signal?: AbortSignal }): Promise<AsyncIterable<ChatCompletionChunk> | ChatCompletion>;
  async create(
    request: ChatCompletionRequest,
    options: { signal?: AbortSignal } = {},
  ): Promise<AsyncIterable<ChatCompletionChunk> | ChatCompletion> {
    const w = `${where}.completions.create`;
    if (typeof request !== 'object' || request === null) throw new ArgumentError(`${w}: the request must be an object`);
    for (const k of Object.keys(request))
      if (!KNOWN.has(k)) throw new ArgumentError(`${w}: '${k}' is not supported (understood: ${[...KNOWN].join(', ')})`);
    const messages = checkMessages(request.messages, 'messages');
    if ((request.n ?? 1) !== 1) throw new ArgumentError(`${w}: n must be 1, got ${request.n}`);
    const stop = request.stop == null ? [] : typeof request.stop === 'string' ? [request.stop] : request.stop;
    if (!Array.isArray(stop) || stop.some((s) => typeof s !== 'string'))
      throw new ArgumentError(`${w}: stop must be a string or an array of strings`);
    const max = request.max_completion_tokens ?? request.max_tokens;
    if (max != null && !(Number.isInteger(max) && max >= 1))
      throw new ArgumentError(`${w}: max_tokens must be a positive integer, got ${max}`);
    const prompt = fitContext(
      this.enc,
      messages,
      messages.length,
      Math.min(max ?? 1, this.model.maxLength - 1),
      this.model.maxLength,
      'error',
    ).prompt;
    const gen: GenerateOptions = {
      maxNewTokens: Math.min(max ?? Number.POSITIVE_INFINITY, this.model.maxLength - prompt.ids.length),
      temperature: request.temperature ?? 1,
      topP: request.top_p ?? 1,
      seed: request.seed ?? Math.floor(Math.random() * 0xffffffff),
      stopTokens: this.tok.stopTokens,
      signal: options.signal,
    };
    const head = { id: `chatcmpl-${randomId()}`, created: Math.floor(Date.now() / 1000), model: request.model ?? this.name };
    const usage = (completion: number): ChatCompletionUsage => {
      const s = this.model.lastGeneration;
      return {
        prompt_tokens: prompt.ids.length,
        completion_tokens: completion,
        total_tokens: prompt.ids.length + completion,
        extra: {
          prefilled_tokens: s.prefilledTokens,
          time_to_first_token_ms: s.timeToFirstTokenMs,
          compile_ms: s.compileMs,
          prefill_ms: s.prefillMs,
        },
      };
    };
    const run = streamReply(this.model, this.tok, prompt.ids, gen, stop);
    if (!request.stream) {
      let r = await run.next();
      while (!r.done) r = await run.next();
      this.enc.commit(prompt, r.value.reply);
      return {
        ...head,
        object: 'chat.completion',
        choices: [{ index: 0, message: { role: 'assistant', content: r.value.text }, finish_reason: r.value.finishReason, logprobs: null }],
        usage: usage(r.value.reply.length),
      };
    }
    const withUsage = request.stream_options?.include_usage ?? true;
    const enc = this.enc;
    const chunk = (delta: ChatCompletionChunk['choices'][0]['delta'], finish: FinishReason | null): ChatCompletionChunk => ({
      ...head,
      object: 'chat.completion.chunk',
      choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }],
      usage: null,
    });
    async function* chunks(): AsyncGenerator<ChatCompletionChunk> {
      yield chunk({ role: 'assistant', content: '' }, null);
      let r = await run.next();
      try {
        while (!r.done) {
          yield chunk({ content: r.value }, null);
          r = await run.next();
        }
      } finally {
        if (!r.done) await run.return(undefined as never); // the caller stopped reading: end the generation
      }
      enc.commit(prompt, r.value.reply);
      yield chunk({}, r.value.finishReason);
      if (withUsage) yield { ...head, object: 'chat.completion.chunk', choices: [], usage: usage(r.value.reply.length) };
    }
    return chunks();
  }
}

function randomId(): string {
  return Array.from({ length: 12 }, () => Math.floor(Math.random() * 36).toString(36)).join('');
}

// The chat case of the llama suite: what keeping the KV cache between turns and compiling ahead buy, as
// ratios measured in one run on a random-weight Llama with a character tokenizer (a ChatML-like template;
// one token per character, so a turn's length is its text's):
//   - prefilled tokens of turn 2 of a 5-turn chat: the whole conversation re-prefilled (generate() from
//     an empty cache, as before #27) against what model.chat() runs;
//   - time to first token of a cold model (its first generate() compiles the pipelines) against one
//     after warmup(), each on an engine of its own (the CLI's newEngine), compile and prefill ms apart;
//   - GPU memory (engine.memory(): live + pooled bytes) after turn 10 and turn 100 of a chat of turns of
//     different lengths, dropping the oldest turns as the context fills.
import { type ChatMessage, type ChatTokenizer, type Engine, Llama, type LlamaConfig } from 'webgpu-nlp';
import type { BenchCase, BenchContext } from './types';

/** id i is the character 32 + i: ASCII from the space on, then whatever the model's vocabulary reaches. */
class CharChat implements ChatTokenizer {
  readonly stopTokens: number[] = [];
  constructor(private readonly vocab: number) {}
  applyChatTemplate(messages: readonly ChatMessage[], o: { addGenerationPrompt?: boolean } = {}): string {
    return messages.map((m) => `<${m.role}>${m.content}</s>`).join('') + ((o.addGenerationPrompt ?? true) ? '<assistant>' : '');
  }
  encode(text: string): number[] {
    return Array.from(text, (c) => {
      const id = c.charCodeAt(0) - 32;
      if (!(id >= 0 && id < this.vocab)) throw new Error(`bench chat tokenizer: '${c}' is outside the vocabulary`);
      return id;
    });
  }
  decode(ids: readonly number[]): string {
    return String.fromCharCode(...ids.map((i) => i + 32));
  }
  async *streamText(ids: AsyncIterable<number>): AsyncGenerator<string> {
    for await (const id of ids) yield this.decode([id]);
  }
}

const WORDS = 'and the earth was without form void darkness upon face of deep spirit god moved waters light'.split(' ');
/** A user message of about `n` characters, deterministic in `seed`. */
function message(n: number, seed: number): string {
  let s = '';
  for (let i = 0; s.length < n; i++) s += `${WORDS[(seed * 7 + i * 3) % WORDS.length]} `;
  return s.slice(0, n);
}

async function drain(it: AsyncGenerator<string, unknown>): Promise<void> {
  for await (const _ of it) void _;
}

const MB = (b: number) => b / 1e6;

async function measure(ctx: BenchContext, config: LlamaConfig): Promise<{ info: Record<string, number> }> {
  const { engine } = ctx;
  const tok = new CharChat(config.vocab_size);
  const info: Record<string, number> = {};
  // 1. Turn 2 of a 5-turn chat: what chat() prefills against the whole conversation from an empty cache.
  const model = await Llama.random(engine, config, { weights: 'f16', maxLength: 1024 });
  try {
    // A system prompt of 200 characters, user messages of about 40, replies of 48 tokens.
    const chat = model.chat({ tokenizer: tok, system: message(200, 9) });
    const turns: { prefilled: number; prompt: number }[] = [];
    for (let t = 0; t < 5; t++) {
      await drain(chat.send(message(36 + 4 * t, t), { maxNewTokens: 48, stopTokens: [] }));
      turns.push({ prefilled: chat.lastTurn!.prefilledTokens, prompt: chat.lastTurn!.promptTokens });
    }
    // Before #27 generate() ran every turn from an empty cache: the whole conversation (checked once).
    model.resetCache();
    const second = chat.lastTurn!.promptIds.slice(0, turns[1].prompt);
    for await (const _ of model.generate(second, { maxNewTokens: 1, stopTokens: [] })) void _;
    const full = model.lastGeneration.prefilledTokens;
    Object.assign(info, {
      turn2Prefilled: turns[1].prefilled,
      turn2Reprefill: full,
      prefillRatio: full / turns[1].prefilled,
      turn5Prefilled: turns[4].prefilled,
      turn5Reprefill: turns[4].prompt,
      turn5Ratio: turns[4].prompt / turns[4].prefilled,
    });

    // 3. 100 turns of different lengths in a 1024-token context: the oldest turns drop as it fills.
    const long = model.chat({ tokenizer: tok, system: 'Answer briefly.', contextPolicy: 'drop-oldest' });
    const bytes = () => {
      const m = engine.memory();
      return m.liveBytes + m.pooledBytes;
    };
    // The first drops (about turn 12) rebuild the cache through the largest prefill bucket: its plan is
    // the last new allocation. After that, bounded plan and buffer caches keep memory where it is.
    const at: Record<number, number> = {};
    let peak = 0;
    let firstDrop = 0;
    for (let t = 1; t <= 100; t++) {
      await drain(long.send(message(5 + ((t * 37) % 90), t), { maxNewTokens: 1 + ((t * 5) % 12), stopTokens: [] }));
      if ([10, 25, 50, 100].includes(t)) at[t] = bytes();
      if (!firstDrop && long.dropped.length) firstDrop = t;
      peak = Math.max(peak, bytes());
    }
    Object.assign(info, {
      memTurn10MB: MB(at[10]),
      memTurn25MB: MB(at[25]),
      memTurn50MB: MB(at[50]),
      memTurn100MB: MB(at[100]),
      memRatio100to25: at[100] / at[25],
      memPeakMB: MB(peak),
      firstDropTurn: firstDrop,
      droppedMessages: long.dropped.length,
    });
  } finally {
    model.dispose();
  }

  // 2. Time to first token: a cold model against one warmed up, each on a fresh engine (pipelines are
  // cached per engine). Without newEngine (the page), both run on the shared, already warm engine.
  const prompt = Array.from({ length: 40 }, (_, i) => (i * 7919) % config.vocab_size);
  const first = async (e: Engine, warm: boolean) => {
    const m = await Llama.random(e, config, { weights: 'f16', maxLength: 512 });
    try {
      const w = warm ? await m.warmup({ maxPromptTokens: 64 }) : null;
      for await (const _ of m.generate(prompt, { maxNewTokens: 1, stopTokens: [] })) void _;
      const s = m.lastGeneration;
      return { ttft: s.timeToFirstTokenMs, compile: s.compileMs, prefill: s.prefillMs, warmupMs: w?.ms ?? 0, kernels: w?.kernels ?? 0 };
    } finally {
      m.dispose();
    }
  };
  const fresh = async (warm: boolean) => {
    const e = ctx.newEngine ? await ctx.newEngine() : engine;
    try {
      return await first(e, warm);
    } finally {
      if (e !== engine) e.dispose();
    }
  };
  const cold = await fresh(false);
  const warm = await fresh(true);
  Object.assign(info, {
    freshEngines: ctx.newEngine ? 1 : 0,
    coldTtftMs: cold.ttft,
    coldCompileMs: cold.compile,
    coldPrefillMs: cold.prefill,
    warmupMs: warm.warmupMs,
    warmupKernels: warm.kernels,
    warmTtftMs: warm.ttft,
    warmCompileMs: warm.compile,
    warmPrefillMs: warm.prefill,
    ttftRatio: cold.ttft / warm.ttft,
  });
  return { info };
}

/**
 * The chat case: the ratios are measured once, at setup, into its info line; its timed figure is the
 * time to first token of a warmed-up model on a 40-token prompt from an empty cache.
 */
export function chatCase(config: LlamaConfig, name: string): BenchCase {
  return {
    kernel: `${name} chat`,
    size: 'turns=5+100',
    tokens: 1,
    flops: 0,
    bytes: 0,
    variants: [
      {
        name: 'ours',
        async setup(ctx) {
          const { info } = await measure(ctx, config);
          const m = await Llama.random(ctx.engine, config, { weights: 'f16', maxLength: 512 });
          await m.warmup({ maxPromptTokens: 64 });
          const prompt = Array.from({ length: 40 }, (_, i) => (i * 7919) % config.vocab_size);
          return {
            info,
            async run() {
              m.resetCache();
              for await (const _ of m.generate(prompt, { maxNewTokens: 1, stopTokens: [] })) void _;
              return m.lastGeneration.timeToFirstTokenMs;
            },
            dispose: () => m.dispose(),
          };
        },
      },
    ],
  };
}

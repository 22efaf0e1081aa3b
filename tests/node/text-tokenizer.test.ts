// Tokenizers of downloaded models: tokenizer.json + tokenizer_config.json through @huggingface/tokenizers
// and @huggingface/jinja, and the same vocabulary embedded in a GGUF file. The ids to match come from
// tools/train_llama.py's own BPE encoder (the one that trained the bundled model's tokenizer).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GGUFFile, TextTokenizer, TokenizerError } from '../../src/index';

const dir = 'public/models/kjv-llama';
const tokJson = JSON.parse(readFileSync(`${dir}/tokenizer.json`, 'utf8'));
const tokConfig = JSON.parse(readFileSync(`${dir}/tokenizer_config.json`, 'utf8'));
const { samples } = JSON.parse(readFileSync('tests/fixtures/llama/tokenizer-expected.json', 'utf8')) as {
  samples: { text: string; ids: number[] }[];
};
const gguf = new Uint8Array(readFileSync('tests/fixtures/llama/tokenizer.gguf'));

describe('TextTokenizer', () => {
  for (const [what, make] of [
    ['tokenizer.json', () => TextTokenizer.fromJSON(tokJson, tokConfig)],
    ['GGUF metadata', () => TextTokenizer.fromGGUF(gguf)],
  ] as const) {
    it(`${what}: ids as the trainer's BPE gives them, special tokens whole, and every text round-trips`, () => {
      const tok = make();
      for (const s of samples) {
        expect(tok.encode(s.text), s.text).toEqual(s.ids);
        expect(tok.decode(tok.encode(s.text))).toBe(s.text);
      }
      // Streaming: pieces joined equal the whole, and no piece ends in half a character.
      const ids = tok.encode(samples[3].text);
      const next = tok.streamDecoder();
      const pieces = ids.map(next);
      expect(pieces.join('')).toBe(samples[3].text);
      expect(pieces.some((p) => p.includes('\uFFFD'))).toBe(false);
      expect(tok.stopTokens).toEqual([tok.tokenId('<|endoftext|>'), tok.tokenId('<|im_end|>')]);
    });

    it(`${what}: the chat template renders a two-turn conversation and opens the assistant's turn`, () => {
      const tok = make();
      const chat = [
        { role: 'user', content: 'Who was Moses?' },
        { role: 'assistant', content: 'A prophet.' },
        { role: 'user', content: 'And Aaron?' },
      ];
      const text = tok.applyChatTemplate(chat);
      expect(text).toBe(
        '<|im_start|>user\nWho was Moses?<|im_end|>\n<|im_start|>assistant\nA prophet.<|im_end|>\n<|im_start|>user\nAnd Aaron?<|im_end|>\n<|im_start|>assistant\n',
      );
      const ids = tok.encodeChat(chat);
      expect(ids[0]).toBe(tok.tokenId('<|im_start|>'));
      expect(ids.filter((i) => i === tok.tokenId('<|im_end|>')).length).toBe(3);
      expect(tok.decode(ids)).toBe(text);
      expect(tok.decode(ids, { skipSpecialTokens: true })).not.toContain('<|im_start|>');
    });
  }

  it('streamText ends before the first stop string, closing the id stream; text that only starts one is not held forever', async () => {
    const tok = TextTokenizer.fromJSON(tokJson, tokConfig);
    const text = 'And God said, Let there be light: and there was light.';
    let closed = false;
    async function* ids() {
      try {
        for (const id of tok.encode(text)) yield id;
      } finally {
        closed = true;
      }
    }
    const pieces: string[] = [];
    for await (const p of tok.streamText(ids(), { stopStrings: [': and', 'darkness'] })) pieces.push(p);
    expect(pieces.join('')).toBe('And God said, Let there be light');
    expect(closed).toBe(true);
    // A partial match (': a' of ': and' is never completed here) is released at the end.
    const all: string[] = [];
    for await (const p of tok.streamText(ids(), { stopStrings: [': an!'] })) all.push(p);
    expect(all.join('')).toBe(text);
  });

  it('bad input: no tokenizer, broken JSON, a GGUF file without a vocabulary, an unsupported tokenizer model', () => {
    expect(() => TextTokenizer.fromJSON(undefined)).toThrow(TokenizerError);
    expect(() => TextTokenizer.fromJSON(undefined)).toThrow(/tokenizer.json is missing/);
    expect(() => TextTokenizer.fromJSON('{"model": ')).toThrow(/tokenizer.json is not valid JSON/);
    expect(() => TextTokenizer.fromJSON({ version: '1.0' })).toThrow(/no "model" section/);
    expect(() => TextTokenizer.fromGGUF(new Uint8Array(readFileSync('tests/fixtures/llama/llama.gguf')))).toThrow(
      /embeds no tokenizer .* load tokenizer.json instead/,
    );
    const f = GGUFFile.parse(gguf);
    f.metadata.set('tokenizer.ggml.model', 'bert');
    expect(() => TextTokenizer.fromGGUF(f)).toThrow(/tokenizer.ggml.model 'bert' is not supported; supported: gpt2 .*, llama/);
    f.metadata.set('tokenizer.ggml.model', 'llama'); // SentencePiece, but this vocabulary has no scores
    expect(() => TextTokenizer.fromGGUF(f)).toThrow(
      /a SentencePiece vocabulary needs tokenizer.ggml.scores, one number per token \(1024\)/,
    );
    expect(() => TextTokenizer.fromJSON(tokJson, {}).applyChatTemplate([{ role: 'user', content: 'hi' }])).toThrow(/no chat template/);
  });
});

describe('GGUF vocabularies as llama.cpp and Hugging Face read them', () => {
  // tools/make_spm_tokenizer_fixture.py: a SentencePiece BPE model trained by SentencePiece with Llama 2's
  // settings, written as convert_hf_to_gguf.py writes it; `sentencepiece` holds SentencePiece's own ids
  // (strings without special-token text), `llamacpp` llama.cpp's (tools/llamacpp_tokenize.mjs).
  const spm = new Uint8Array(readFileSync('tests/fixtures/gguf/spm-tokenizer.gguf'));
  const spmExpected = JSON.parse(readFileSync('tests/fixtures/gguf/spm-tokenizer.json', 'utf8')) as {
    samples: { text: string; sentencepiece?: number[]; decoded?: string; llamacpp: number[] }[];
  };
  /** The kjv GGUF vocabulary with its metadata changed as `edit` says. */
  const edited = (edit: (m: Map<string, unknown>) => void) => {
    const f = GGUFFile.parse(gguf);
    edit(f.metadata);
    return TextTokenizer.fromGGUF(f);
  };

  it("SentencePiece ('llama'): llama.cpp's and SentencePiece's ids on tricky strings, byte fallback, special-token text, and back to the text", () => {
    const tok = TextTokenizer.fromGGUF(spm);
    expect(spmExpected.samples.length).toBeGreaterThan(20);
    for (const s of spmExpected.samples) {
      const ids = tok.encode(s.text);
      expect(ids, JSON.stringify(s.text)).toEqual(s.llamacpp);
      if (s.sentencepiece) {
        expect(ids, JSON.stringify(s.text)).toEqual(s.sentencepiece);
        expect(tok.decode(ids, { skipSpecialTokens: true }), JSON.stringify(s.text)).toBe(s.decoded);
      }
    }
    // Byte fallback: an emoji the vocabulary lacks is its four UTF-8 bytes, and decodes whole.
    const emoji = tok.encode('😀', { addSpecialTokens: false });
    expect(emoji.slice(-4).map((i) => tok.decode([i]))).toEqual(['\uFFFD', '\uFFFD', '\uFFFD', '\uFFFD']);
    expect(emoji.slice(-4)).toEqual([0xf0, 0x9f, 0x98, 0x80].map((b) => tok.tokenId(`<0x${b.toString(16).toUpperCase()}>`)));
    expect(tok.decode(emoji)).toBe('😀');
    expect(tok.stopTokens).toEqual([tok.tokenId('</s>')]);
    expect(tok.encode('Hello world', { addSpecialTokens: false })).toEqual(spmExpected.samples[0].llamacpp.slice(1));
  });

  it("BOS/EOS from the metadata, else llama.cpp's default for the vocabulary kind and pre-tokenizer (Llama 3: BOS)", () => {
    const plain = edited(() => {}).encode('Hello world');
    // A Llama 3 file (pre-tokenizer 'llama-bpe') written without add_bos_token: llama.cpp adds the BOS.
    const llama3 = edited((m) => {
      m.set('tokenizer.ggml.pre', 'llama-bpe');
      m.delete('tokenizer.ggml.add_bos_token');
      m.set('tokenizer.ggml.bos_token_id', 1020);
    });
    const ids = llama3.encode('Hello world');
    expect(ids[0]).toBe(1020);
    expect(ids.slice(1)).toEqual(llama3.encode('Hello world', { addSpecialTokens: false }));
    expect(ids.slice(1)).toEqual(plain);
    // The key, where present, decides; add_eos_token appends the EOS.
    expect(
      edited((m) => {
        m.set('tokenizer.ggml.pre', 'llama-bpe');
        m.set('tokenizer.ggml.add_bos_token', false);
        m.set('tokenizer.ggml.add_eos_token', true);
      }).encode('Hello world'),
    ).toEqual([...plain, 1021]);
    // SentencePiece: BOS by default, none when the file says so.
    const f = GGUFFile.parse(spm);
    f.metadata.delete('tokenizer.ggml.add_bos_token');
    expect(TextTokenizer.fromGGUF(f).encode('Hello world')[0]).toBe(1);
    f.metadata.set('tokenizer.ggml.add_bos_token', false);
    expect(TextTokenizer.fromGGUF(f).encode('Hello world')).toEqual(spmExpected.samples[0].llamacpp.slice(1));
  });

  it("Qwen2's pre-tokenizer normalizes to NFC as its tokenizer.json does: a decomposed accent is the composed one's ids", () => {
    const qwen = edited((m) => m.set('tokenizer.ggml.pre', 'qwen2'));
    expect(qwen.encode('e\u0301 cafe\u0301')).toEqual(qwen.encode('\u00e9 caf\u00e9'));
    expect(qwen.decode(qwen.encode('e\u0301'))).toBe('\u00e9');
    // Without NFC (the gpt2 pre-tokenizer) the two spellings differ: the test above can fail.
    const gpt2 = edited(() => {});
    expect(gpt2.encode('e\u0301')).not.toEqual(gpt2.encode('\u00e9'));
  });

  it("decode([]) is ''; the dependencies' errors surface as TokenizerError", () => {
    for (const tok of [TextTokenizer.fromGGUF(gguf), TextTokenizer.fromGGUF(spm)]) {
      expect(tok.decode([])).toBe('');
      expect(tok.decode([], { skipSpecialTokens: true })).toBe('');
      expect(() => tok.decode([1.5])).toThrow(TokenizerError);
      expect(() => tok.decode([1.5])).toThrow(/tokenizer: decode failed: token_ids must be/);
    }
    const broken = TextTokenizer.fromJSON(tokJson, { ...tokConfig, chat_template: '{{ raise_exception("no system role") }}' });
    expect(() => broken.applyChatTemplate([{ role: 'user', content: 'hi' }])).toThrow(TokenizerError);
    expect(() => broken.applyChatTemplate([{ role: 'user', content: 'hi' }])).toThrow(
      /tokenizer: the chat template failed: .*no system role|raise_exception/,
    );
  });
});

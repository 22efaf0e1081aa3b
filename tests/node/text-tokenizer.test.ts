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
  // tools/make_gguf_tokenizer_fixtures.py: SentencePiece BPE vocabularies trained by SentencePiece with
  // Llama 2's settings (with and without the space prefix), written as convert_hf_to_gguf.py writes them,
  // and the bundled byte-level BPE vocabulary under llama.cpp's pre-tokenizer types; `sentencepiece`
  // holds SentencePiece's own ids, `llamacpp` llama.cpp's (tools/llamacpp_tokenize.mjs).
  type Sample = { text: string; sentencepiece?: number[]; decoded?: string; llamacpp: number[] };
  const fixture = (name: string) => ({
    bytes: new Uint8Array(readFileSync(`tests/fixtures/gguf/${name}.gguf`)),
    samples: (JSON.parse(readFileSync(`tests/fixtures/gguf/${name}.json`, 'utf8')) as { samples: Sample[] }).samples,
  });
  const spm = fixture('spm-tokenizer');
  const special = /<\/?s>|<unk>|<\|[a-z_]+\|>/;

  for (const name of ['spm-tokenizer', 'spm-no-prefix', 'bpe-llama3', 'bpe-qwen2', 'bpe-smollm', 'bpe-tekken']) {
    it(`${name}: llama.cpp's ids (and SentencePiece's) on tricky strings and special-token text; decode gives the text back`, () => {
      const { bytes, samples } = fixture(name);
      const tok = TextTokenizer.fromGGUF(bytes);
      expect(samples.length).toBeGreaterThan(20);
      for (const s of samples) {
        const what = `${name} ${JSON.stringify(s.text)}`;
        // Qwen2's tokenizer.json normalizes to NFC (llama.cpp does not): a decomposed accent has the composed one's ids.
        const nfc = name === 'bpe-qwen2' ? s.text.normalize('NFC') : s.text;
        const want = nfc === s.text ? s.llamacpp : samples.find((x) => x.text === nfc)?.llamacpp;
        expect(want, what).toBeDefined();
        const ids = tok.encode(s.text);
        expect(ids, what).toEqual(want);
        if (s.sentencepiece) expect(ids, what).toEqual(s.sentencepiece);
        if (!special.test(s.text)) expect(tok.decode(ids, { skipSpecialTokens: true }), what).toBe(s.decoded ?? nfc);
      }
    });
  }

  it("byte fallback: an emoji a SentencePiece vocabulary lacks is its four UTF-8 bytes' tokens and decodes whole", () => {
    const tok = TextTokenizer.fromGGUF(spm.bytes);
    const emoji = tok.encode('😀', { addSpecialTokens: false });
    expect(emoji.slice(-4)).toEqual([0xf0, 0x9f, 0x98, 0x80].map((b) => tok.tokenId(`<0x${b.toString(16).toUpperCase()}>`)));
    expect(emoji.slice(-4).map((i) => tok.decode([i]))).toEqual(['\uFFFD', '\uFFFD', '\uFFFD', '\uFFFD']);
    expect(tok.decode(emoji)).toBe('😀');
    expect(tok.stopTokens).toEqual([tok.tokenId('</s>')]);
  });

  it("BOS/EOS: the metadata's keys decide, else llama.cpp's default for the vocabulary kind and pre-tokenizer", () => {
    const edited = (bytes: Uint8Array, edit: (m: Map<string, unknown>) => void) => {
      const f = GGUFFile.parse(bytes);
      edit(f.metadata);
      return TextTokenizer.fromGGUF(f);
    };
    const llama3 = fixture('bpe-llama3'); // llama-bpe, no add_bos_token: BOS by default
    const [bos, ...rest] = llama3.samples[0].llamacpp;
    expect(bos).toBe(1021);
    expect(TextTokenizer.fromGGUF(llama3.bytes).encode('Hello world', { addSpecialTokens: false })).toEqual(rest);
    const noBosEos = edited(llama3.bytes, (m) => {
      m.set('tokenizer.ggml.add_bos_token', false);
      m.set('tokenizer.ggml.add_eos_token', true);
    });
    expect(noBosEos.encode('Hello world')).toEqual([...rest, 1023]);
    // The same vocabulary with the gpt2 pre-tokenizer (llama.cpp's default: no BOS).
    expect(edited(llama3.bytes, (m) => m.set('tokenizer.ggml.pre', 'gpt2')).encode('Hello world')[0]).not.toBe(1021);
    // SentencePiece: BOS by default, none when the file says so.
    expect(edited(spm.bytes, (m) => m.delete('tokenizer.ggml.add_bos_token')).encode('Hello world')).toEqual(spm.samples[0].llamacpp);
    expect(edited(spm.bytes, (m) => m.set('tokenizer.ggml.add_bos_token', false)).encode('Hello world')).toEqual(
      spm.samples[0].llamacpp.slice(1),
    );
  });

  it("decode([]) is ''; the dependencies' errors surface as TokenizerError", () => {
    for (const tok of [TextTokenizer.fromGGUF(gguf), TextTokenizer.fromGGUF(spm.bytes)]) {
      expect(tok.decode([])).toBe('');
      expect(tok.decode([], { skipSpecialTokens: true })).toBe('');
      expect(() => tok.decode([1.5])).toThrow(TokenizerError);
      expect(() => tok.decode([1.5])).toThrow(/tokenizer: decode failed: token_ids must be/);
    }
    const broken = TextTokenizer.fromJSON(tokJson, { ...tokConfig, chat_template: '{{ raise_exception("no system role") }}' });
    expect(() => broken.applyChatTemplate([{ role: 'user', content: 'hi' }])).toThrow(TokenizerError);
    expect(() => broken.applyChatTemplate([{ role: 'user', content: 'hi' }])).toThrow(/tokenizer: the chat template failed: /);
  });
});

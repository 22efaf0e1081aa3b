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
    f.metadata.set('tokenizer.ggml.model', 'llama');
    expect(() => TextTokenizer.fromGGUF(f)).toThrow(/tokenizer.ggml.model 'llama' is not supported; supported: gpt2/);
    expect(() => TextTokenizer.fromJSON(tokJson, {}).applyChatTemplate([{ role: 'user', content: 'hi' }])).toThrow(/no chat template/);
  });
});

// WordPiece as BERT tokenizes: the bundled KJV BERT's tokenizer.json read by TextTokenizer.fromJSON,
// against ids, offsets and pairs from tools/train_bert.py, which writes transformers' BertTokenizer out
// (BasicTokenizer: control characters dropped, CJK ideographs split, lowercase, accents stripped by NFD,
// every punctuation character a word; WordpieceTokenizer: greedy longest match with '##', [UNK] for a
// word with a missing piece or longer than 100 characters) and tokenizers' longest_first truncation.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { TextTokenizer } from '../../src/index';

const dir = 'public/models/kjv-bert';
const tok = TextTokenizer.fromJSON(
  readFileSync(`${dir}/tokenizer.json`, 'utf8'),
  JSON.parse(readFileSync(`${dir}/tokenizer_config.json`, 'utf8')),
);
const expected = JSON.parse(readFileSync('tests/fixtures/bert/tokenizer-expected.json', 'utf8')) as {
  single: { text: string; ids: number[]; tokens: string[]; offsets: [number, number][] }[];
  pairs: { a: string; b: string; maxLength: number | null; ids: number[]; typeIds: number[]; offsets: [number, number][] }[];
};
const vocab = readFileSync(`${dir}/vocab.txt`, 'utf8').split('\n').slice(0, -1);

describe('WordPiece (the bundled BERT) against BertTokenizer written out', () => {
  it('vocab.txt and tokenizer.json hold the same tokens in the same order', () => {
    const json = JSON.parse(readFileSync(`${dir}/tokenizer.json`, 'utf8')) as { model: { vocab: Record<string, number> } };
    expect(
      Object.entries(json.model.vocab)
        .sort((a, b) => a[1] - b[1])
        .map(([t]) => t),
    ).toEqual(vocab);
    expect(vocab.slice(0, 5)).toEqual(['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']);
  });

  for (const c of expected.single)
    it(`ids and offsets: ${JSON.stringify(c.text.length > 40 ? `${c.text.slice(0, 40)}…` : c.text)}`, () => {
      expect(tok.encode(c.text)).toEqual(c.ids); // [CLS] … [SEP] from the post-processor
      const { ids, offsets } = tok.encodeWithOffsets(c.text, { addSpecialTokens: false });
      expect(ids.map((i) => vocab[i])).toEqual(c.tokens);
      expect(offsets).toEqual(c.offsets);
    });

  it('the cases cover what BERT does to text: lowercase, accents, punctuation, CJK, [UNK] (long and unknown words)', () => {
    const all = expected.single.flatMap((c) => c.tokens);
    expect(all).toContain('[UNK]');
    expect(all).toContain('!');
    expect(all.some((t) => t.startsWith('##'))).toBe(true);
    expect(expected.single.find((c) => c.text.startsWith('xxxx'))!.tokens[0]).toBe('[UNK]'); // 120 characters: past the limit
    expect(expected.single.find((c) => c.text.startsWith('Café'))!.tokens.join(' ')).not.toMatch(/[éïåç]/);
  });

  for (const p of expected.pairs)
    it(`pair${p.maxLength ? ` cut to ${p.maxLength} (longest_first)` : ''}: ${JSON.stringify(p.a)}`, () => {
      expect(tok.encodePair(p.a, p.b, p.maxLength ? { maxLength: p.maxLength } : {})).toEqual({
        ids: p.ids,
        typeIds: p.typeIds,
        offsets: p.offsets,
      });
    });
});

// TextTokenizer.encodePair and encodeWithOffsets on a small WordPiece tokenizer.json laid out as bert-base-uncased's
// (BertNormalizer, BertPreTokenizer, WordPiece '##', TemplateProcessing [CLS] $A [SEP] $B:1 [SEP]:1),
// and Hugging Face tokenizers' 'longest_first' truncation (longestFirst, the rule of the Rust library's
// utils/truncation.rs).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ArgumentError, TextTokenizer } from '../../src/index';
import { longestFirst } from '../../src/models/pair';
import { wordPieceTokenizerJSON } from '../helpers/app-fixtures';

const words = [
  '[PAD]',
  '[UNK]',
  '[CLS]',
  '[SEP]',
  '[MASK]',
  'the',
  'cat',
  'sat',
  'on',
  'mat',
  'a',
  'dog',
  'ran',
  'play',
  '##ing',
  '.',
  'where',
  'is',
  '?',
];
const bertJson = wordPieceTokenizerJSON(words);

describe('TextTokenizer.encodePair (WordPiece, BERT post-processor)', () => {
  const tok = TextTokenizer.fromJSON(bertJson, { model_max_length: 12 });

  it('[CLS] a [SEP] b [SEP] with segment ids 0 then 1; encode() adds [CLS] / [SEP]', () => {
    expect(tok.encode('The cat sat.')).toEqual([2, 5, 6, 7, 15, 3]);
    expect(tok.encodePair('Where is the dog?', 'The dog is playing.')).toMatchObject({
      // 5 + 6 tokens and 3 special ones, model_max_length 12: room 9 → a keeps 4, b 5.
      ids: [2, 16, 17, 5, 11, 3, 5, 11, 17, 13, 14, 3],
      typeIds: [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1],
    });
    const short = tok.encodePair('a dog', 'the cat', { maxLength: 100 });
    expect(short).toMatchObject({ ids: [2, 10, 11, 3, 5, 6, 3], typeIds: [0, 0, 0, 0, 1, 1, 1] });
  });

  it('longest_first: the longer text loses tokens first; both cut to half the room, the longer keeping the odd one', () => {
    // a: 6 tokens, b: 2 tokens, 7 in all: 4 of room → a keeps 2.
    expect(tok.encodePair('the cat sat on the mat', 'a dog', { maxLength: 7 }).ids).toEqual([2, 5, 6, 3, 10, 11, 3]);
    // a: 6, b: 5, room 7 → a 4, b 3.
    expect(tok.encodePair('the cat sat on the mat', 'a dog ran on the', { maxLength: 10 }).ids).toEqual([2, 5, 6, 7, 8, 3, 10, 11, 12, 3]);
    // The Rust rule, case by case (it differs from transformers' slow loop on ties: 5 and 6 into 9 give
    // 4 and 5 here, 5 and 4 there).
    expect(longestFirst(5, 6, 9)).toEqual([4, 5]);
    expect(longestFirst(6, 5, 9)).toEqual([5, 4]);
    expect(longestFirst(6, 2, 4)).toEqual([2, 2]);
    expect(longestFirst(2, 6, 5)).toEqual([2, 3]);
    expect(longestFirst(3, 3, 6)).toEqual([3, 3]);
    expect(longestFirst(7, 7, 5)).toEqual([2, 3]);
    expect(longestFirst(0, 9, 4)).toEqual([0, 4]);
  });

  it('offsets as Hugging Face reports them: [0, 0] for specials, subwords split, accents and case folded, [UNK] over its word', () => {
    expect(tok.encodeWithOffsets('The cat sat.')).toEqual({
      ids: [2, 5, 6, 7, 15, 3],
      offsets: [
        [0, 0],
        [0, 3],
        [4, 7],
        [8, 11],
        [11, 12],
        [0, 0],
      ],
    });
    expect(tok.encodeWithOffsets('Thé CAT playing', { addSpecialTokens: false })).toEqual({
      ids: [5, 6, 13, 14],
      offsets: [
        [0, 3],
        [4, 7],
        [8, 12],
        [12, 15],
      ],
    });
    expect(tok.encodeWithOffsets('the zebra, sat', { addSpecialTokens: false }).offsets).toEqual([
      [0, 3],
      [4, 9],
      [9, 10],
      [11, 14],
    ]);
    // An added token typed in the text is matched before normalisation and has its own offsets.
    expect(tok.encodeWithOffsets('The [MASK] sat')).toEqual({
      ids: [2, 5, 4, 7, 3],
      offsets: [
        [0, 0],
        [0, 3],
        [4, 10],
        [11, 14],
        [0, 0],
      ],
    });
    // Longer than model_max_length (12): the text's tokens cut from the end, [CLS] / [SEP] kept.
    const text = 'the cat sat on the mat . the dog ran on the mat';
    const long = tok.encodeWithOffsets(text);
    expect(long.ids).toEqual([2, 5, 6, 7, 8, 5, 9, 15, 5, 11, 12, 3]);
    expect(long.offsets.map(([a, b]) => text.slice(a, b))).toEqual([
      '',
      'the',
      'cat',
      'sat',
      'on',
      'the',
      'mat',
      '.',
      'the',
      'dog',
      'ran',
      '',
    ]);
    expect(tok.encodeWithOffsets('the cat sat', { maxLength: 3 }).ids).toEqual([2, 5, 3]);
    // A pair: each token's offsets into its own text, cut with the ids.
    const pair = tok.encodePair('Where is the dog?', 'The dog is playing.');
    expect(pair.offsets).toEqual([
      [0, 0],
      [0, 5],
      [6, 8],
      [9, 12],
      [13, 16],
      [0, 0],
      [0, 3],
      [4, 7],
      [8, 10],
      [11, 15],
      [15, 18],
      [0, 0],
    ]);
  });

  it('offsets of a byte-level BPE tokenizer (the bundled KJV Llama): each token covers its own text, the leading space trimmed', () => {
    const dir = 'public/models/kjv-llama';
    const bpe = TextTokenizer.fromJSON(
      JSON.parse(readFileSync(`${dir}/tokenizer.json`, 'utf8')),
      JSON.parse(readFileSync(`${dir}/tokenizer_config.json`, 'utf8')),
    );
    for (const text of ['In the beginning God created the heaven and the earth.', 'And Moses said,  Behold!']) {
      const { ids, offsets } = bpe.encodeWithOffsets(text, { addSpecialTokens: false });
      expect(offsets.length).toBe(ids.length);
      ids.forEach((id, i) => {
        expect(text.slice(...offsets[i]), `token ${i}`).toBe(bpe.decode([id]).trimStart());
      });
    }
  });

  it('bad input', () => {
    expect(() => tok.encodePair('a', 3 as unknown as string)).toThrow(ArgumentError);
    expect(() => tok.encodePair('a dog', 'the cat', { maxLength: 2 })).toThrow(/leaves no room beside the pair's special tokens/);
    expect(() => tok.encodePair('a', 'b', { maxLength: 0 })).toThrow(/maxLength must be a positive integer/);
  });
});

// Pair encoding for BERT-style models (a question and its context, two sentences, a query and a
// passage for a cross-encoder): the post-processor's special tokens and segment ids, and Hugging Face
// tokenizers' 'longest_first' truncation to a maximum length.
import type { Tokenizer } from '@huggingface/tokenizers';
import { ArgumentError, UnsupportedError } from '../errors';

/**
 * Hugging Face tokenizers' LongestFirst truncation (tokenizers/src/utils/truncation.rs) of lengths n1
 * and n2 to `room` tokens: the shorter kept whole where the longer can take the whole cut, else each
 * cut to half the room (the longer keeping the odd token).
 */
export function longestFirst(n1: number, n2: number, room: number): [number, number] {
  if (n1 + n2 <= room) return [n1, n2];
  const swap = n1 > n2;
  let [short, long] = swap ? [n2, n1] : [n1, n2];
  long = short > room ? short : Math.max(short, room - short);
  if (short + long > room) {
    short = Math.floor(room / 2);
    long = short + (room % 2);
  }
  return swap ? [long, short] : [short, long];
}

/**
 * `a` and `b` encoded as a pair: ids with the post-processor's special tokens ([CLS] a [SEP] b [SEP])
 * and the segment ids it gives (without a post-processor: 0 for a, 1 for b), cut to `maxLength`
 * (default the tokenizer config's model_max_length where it sets a real one) by longestFirst.
 */
export function encodePair(
  tok: Tokenizer,
  config: Record<string, unknown>,
  a: string,
  b: string,
  o: { maxLength?: number } = {},
): { ids: number[]; typeIds: number[] } {
  if (typeof a !== 'string' || typeof b !== 'string')
    throw new ArgumentError(`tokenizer: encodePair needs two strings, got ${typeof a} and ${typeof b}`);
  const configured = Number(config.model_max_length);
  const maxLength = o.maxLength ?? (Number.isInteger(configured) && configured > 0 && configured < 1e7 ? configured : Infinity);
  if (!(maxLength === Infinity || (Number.isInteger(maxLength) && maxLength > 0)))
    throw new ArgumentError(`tokenizer: maxLength must be a positive integer, got ${maxLength}`);
  const full = tok.encode(a, { text_pair: b, add_special_tokens: true, return_token_type_ids: true });
  const ids = full.ids;
  const partA = tok.encode(a, { add_special_tokens: false }).ids;
  const partB = tok.encode(b, { add_special_tokens: false }).ids;
  const typeIds = full.token_type_ids ?? ids.map((_, i) => (i < partA.length ? 0 : 1));
  if (ids.length <= maxLength) return { ids, typeIds };
  const room = maxLength - (ids.length - partA.length - partB.length); // what the special tokens leave
  if (room < 0) throw new ArgumentError(`tokenizer: maxLength ${maxLength} leaves no room beside the pair's special tokens`);
  const [keepA, keepB] = longestFirst(partA.length, partB.length, room);
  // Where a's and b's tokens sit among the special ones; their tails are cut.
  const at = (part: number[], from: number) => {
    for (let i = from; i + part.length <= ids.length; i++) if (part.every((x, j) => ids[i + j] === x)) return i;
    throw new UnsupportedError("tokenizer: the post-processor changes the pair's tokens, so it cannot be truncated here");
  };
  const sa = at(partA, 0);
  const sb = at(partB, sa + partA.length);
  const drop = (i: number) => (i >= sa + keepA && i < sa + partA.length) || (i >= sb + keepB && i < sb + partB.length);
  return { ids: ids.filter((_, i) => !drop(i)), typeIds: typeIds.filter((_, i) => !drop(i)) };
}

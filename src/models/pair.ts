// Pair encoding for BERT-style models (a question and its context, two sentences, a query and a
// passage for a cross-encoder): the post-processor's special tokens and segment ids, Hugging Face
// tokenizers' 'longest_first' truncation to a maximum length, and character offsets (offsets.ts).
import type { Tokenizer } from '@huggingface/tokenizers';
import { ArgumentError, UnsupportedError } from '../errors';
import { tokenOffsets } from './offsets';

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
 * (default the tokenizer config's model_max_length where it sets a real one) by longestFirst; each
 * token's offsets into a or b (its own text, as Hugging Face reports a pair's), [0, 0] for special ones.
 */
export function encodePair(
  tok: Tokenizer,
  config: Record<string, unknown>,
  a: string,
  b: string,
  o: { maxLength?: number } = {},
): { ids: number[]; typeIds: number[]; offsets: [number, number][] } {
  if (typeof a !== 'string' || typeof b !== 'string')
    throw new ArgumentError(`tokenizer: encodePair needs two strings, got ${typeof a} and ${typeof b}`);
  const maxLength = lengthLimit(config, o.maxLength);
  const full = tok.encode(a, { text_pair: b, add_special_tokens: true, return_token_type_ids: true });
  const ids = full.ids;
  const encA = tok.encode(a, { add_special_tokens: false });
  const encB = tok.encode(b, { add_special_tokens: false });
  const [partA, partB] = [encA.ids, encB.ids];
  const typeIds = full.token_type_ids ?? ids.map((_, i) => (i < partA.length ? 0 : 1));
  // Where a's and b's tokens sit among the special ones (-1 where a post-processor changed them).
  const at = (part: number[], from: number) => {
    for (let i = from; i + part.length <= ids.length; i++) if (part.every((x, j) => ids[i + j] === x)) return i;
    return -1;
  };
  const sa = at(partA, 0);
  const sb = sa < 0 ? -1 : at(partB, sa + partA.length);
  // Offsets into a for a's tokens and into b for b's, [0, 0] for the special ones.
  const [offA, offB] = [tokenOffsets(tok, a, encA.tokens), tokenOffsets(tok, b, encB.tokens)];
  const offsets = ids.map((_, i): [number, number] =>
    sb >= 0 && i >= sa && i < sa + partA.length ? offA[i - sa] : sb >= 0 && i >= sb && i < sb + partB.length ? offB[i - sb] : [0, 0],
  );
  if (ids.length <= maxLength) return { ids, typeIds, offsets };
  const room = maxLength - (ids.length - partA.length - partB.length); // what the special tokens leave
  if (room < 0) throw new ArgumentError(`tokenizer: maxLength ${maxLength} leaves no room beside the pair's special tokens`);
  if (sb < 0) throw new UnsupportedError("tokenizer: the post-processor changes the pair's tokens, so it cannot be truncated here");
  const [keepA, keepB] = longestFirst(partA.length, partB.length, room);
  const drop = (i: number) => (i >= sa + keepA && i < sa + partA.length) || (i >= sb + keepB && i < sb + partB.length);
  const keep = <T>(xs: T[]) => xs.filter((_, i) => !drop(i));
  return { ids: keep(ids), typeIds: keep(typeIds), offsets: keep(offsets) };
}

/** `text`'s ids (special tokens added unless told not to) and each token's [start, end) in `text`. */
export function encodeWithOffsets(
  tok: Tokenizer,
  config: Record<string, unknown>,
  text: string,
  o: { addSpecialTokens?: boolean; maxLength?: number } = {},
): { ids: number[]; offsets: [number, number][] } {
  if (typeof text !== 'string') throw new ArgumentError(`tokenizer: encodeWithOffsets needs a string, got ${typeof text}`);
  const maxLength = lengthLimit(config, o.maxLength);
  const core = tok.encode(text, { add_special_tokens: false });
  const offsets = tokenOffsets(tok, text, core.tokens);
  const ids = o.addSpecialTokens === false ? core.ids : tok.encode(text, { add_special_tokens: true }).ids;
  // Where the text's own tokens sit among the post-processor's (those get [0, 0]).
  let s = 0;
  while (s + core.ids.length <= ids.length && !core.ids.every((x, j) => ids[s + j] === x)) s++;
  if (s + core.ids.length > ids.length) s = -ids.length; // rearranged: no offsets can be trusted
  const all = ids.map((_, i): [number, number] => (i >= s && i < s + core.ids.length ? offsets[i - s] : [0, 0]));
  if (ids.length <= maxLength) return { ids, offsets: all };
  // Too long: the text's own tokens cut from the end, the special ones kept (truncation 'longest_first' of one).
  const keep = maxLength - (ids.length - core.ids.length);
  if (keep < 0 || s < 0) throw new ArgumentError(`tokenizer: maxLength ${maxLength} leaves no room beside the special tokens`);
  const kept = (_: unknown, i: number) => i < s + keep || i >= s + core.ids.length;
  return { ids: ids.filter(kept), offsets: all.filter(kept) };
}

/** `maxLength`, or the tokenizer config's model_max_length where it sets a real one, or no limit. */
function lengthLimit(config: Record<string, unknown>, maxLength: number | undefined): number {
  const configured = Number(config.model_max_length);
  const limit = maxLength ?? (Number.isInteger(configured) && configured > 0 && configured < 1e7 ? configured : Infinity);
  if (!(limit === Infinity || (Number.isInteger(limit) && limit > 0)))
    throw new ArgumentError(`tokenizer: maxLength must be a positive integer, got ${limit}`);
  return limit;
}

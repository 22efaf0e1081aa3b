// Character offsets of tokens in the text they came from, as Hugging Face's tokenizers report them
// ([start, end) in UTF-16 code units of the original text; [0, 0] for special tokens), for NER spans and
// QA answers. @huggingface/tokenizers gives tokens but no offsets, so they are found by aligning each
// token's text with the text normalised one character at a time (lowercase, accents stripped, …: the
// normalisers of WordPiece and BPE tokenizers act per character), which maps every normalised
// character back to the original one. Token text: WordPiece's '##' dropped, byte-level BPE's bytes
// decoded, SentencePiece's '▁' read as a space; an unknown token spans the rest of its word.
import type { Tokenizer } from '@huggingface/tokenizers';

/** GPT-2's byte-level alphabet reversed: the byte each printable stand-in character is. */
const BYTE_OF = (() => {
  const bytes: number[] = [];
  for (let b = 0; b < 256; b++) if ((b >= 33 && b <= 126) || (b >= 161 && b <= 172) || b >= 174) bytes.push(b);
  const chars = [...bytes];
  let n = 0;
  for (let b = 0; b < 256; b++)
    if (!bytes.includes(b)) {
      bytes.push(b);
      chars.push(256 + n++);
    }
  return new Map(chars.map((c, i) => [String.fromCharCode(c), bytes[i]]));
})();

/** The parts of @huggingface/tokenizers' Tokenizer read here (public fields its typings do not declare). */
interface Tok {
  normalizer: { normalize(text: string): string } | null;
  model: { config: { type?: string; continuing_subword_prefix?: string }; unk_token?: string };
  /** The tokenizer.json it was built from. */
  tokenizer?: { pre_tokenizer?: unknown; decoder?: unknown };
  added_tokens?: { content: string }[];
}

/** The text a token stands for, or null where it cannot be read (an unknown or byte-fallback token). */
function tokenText(t: Tok, token: string, byteLevel: boolean): string | null {
  if (token === t.model.unk_token || /^<0x[0-9A-Fa-f]{2}>$/.test(token)) return null;
  const prefix = t.model.config.continuing_subword_prefix;
  if (t.model.config.type === 'WordPiece' && prefix && token.startsWith(prefix)) return token.slice(prefix.length);
  if (byteLevel) {
    const bytes = [...token].map((c) => BYTE_OF.get(c));
    if (bytes.some((b) => b === undefined)) return token;
    const text = new TextDecoder('utf-8', { fatal: false }).decode(Uint8Array.from(bytes as number[]));
    return text.includes('\uFFFD') ? null : text;
  }
  return token.replace(/▁/g, ' ');
}

/**
 * Offsets [start, end) in `text` of `tokens`: the token strings of `text` encoded without the
 * post-processor's special tokens, in order. Added tokens ([MASK] typed in the text) are found in the
 * original text, as they are matched before normalisation.
 */
export function tokenOffsets(tok: Tokenizer, text: string, tokens: readonly string[]): [number, number][] {
  const t = tok as unknown as Tok;
  const byteLevel = JSON.stringify([t.tokenizer?.pre_tokenizer, t.tokenizer?.decoder]).includes('"ByteLevel"');
  const added = new Set((t.added_tokens ?? []).map((a) => a.content));
  // The normalised text, each character mapped back to its original index (from), and back (normAt).
  let norm = '';
  const from: number[] = [];
  const normAt: number[] = [];
  for (let i = 0; i < text.length; ) {
    const ch = String.fromCodePoint(text.codePointAt(i)!);
    const n = t.normalizer ? t.normalizer.normalize(ch) : ch;
    for (let k = 0; k < ch.length; k++) normAt.push(norm.length);
    for (let k = 0; k < n.length; k++) from.push(i);
    norm += n;
    i += ch.length;
  }
  from.push(text.length);
  normAt.push(norm.length);
  const origEnd = (j: number) => {
    // The end (exclusive) in the original text of the normalised characters before index j.
    if (j <= 0) return 0;
    const i = from[j - 1];
    return i + String.fromCodePoint(text.codePointAt(i)!).length;
  };
  let at = 0;
  return tokens.map((token): [number, number] => {
    if (added.has(token) && token !== t.model.unk_token) {
      const start = text.indexOf(token, from[at] ?? text.length);
      if (start >= 0) {
        at = normAt[start + token.length];
        return [start, start + token.length];
      }
    }
    let piece = tokenText(t, token, byteLevel);
    if (piece !== null) {
      const lead = piece.length - piece.trimStart().length; // a byte-level 'Ġ' or '▁': offsets trimmed
      piece = piece.trimStart();
      while (at < norm.length && /\s/.test(norm[at]) && !norm.startsWith(piece, at)) at++;
      if (piece && norm.startsWith(piece, at)) {
        const start = at;
        at += piece.length;
        return [from[start], origEnd(at)];
      }
      if (!piece && lead) return [from[at] ?? text.length, from[at] ?? text.length];
    }
    // Unknown (or unreadable) token: the rest of the current word, up to a space or punctuation.
    while (at < norm.length && /\s/.test(norm[at])) at++;
    const start = at;
    do at++;
    while (at < norm.length && !/[\s\p{P}]/u.test(norm[at]));
    return [from[Math.min(start, norm.length)] ?? text.length, origEnd(Math.min(at, norm.length))];
  });
}

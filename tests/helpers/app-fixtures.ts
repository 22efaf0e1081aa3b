// The files loadModel's tests serve (tests/helpers/model-server.ts), built from the committed fixtures:
//   /gguf/kjv.gguf            the tiny KJV Llama as GGUF (Q8_0, its BPE vocabulary and chat template)
//   /hf/kjv-llama/            the same model as a Hugging Face folder, its weights split into two shards
//                             listed by model.safetensors.index.json
//   /hf/bert/                 the tiny BERT (tests/fixtures/encoder) with a WordPiece tokenizer.json and
//                             a sentence-transformers modules.json (mean pooling, Normalize)
//   /hf/bert-gz/              the same, its .json files sent gzip-compressed
//   /hf/gpt2/                 the tiny GPT-2 (tests/fixtures/gpt2) with config.json model_type gpt2, no tokenizer
//   /st/char-gpt.safetensors  the demo's character GPT (config and vocabulary in its metadata)
//   /slow/char-gpt.safetensors  the same, sent slowly (cancel mid-download)
//   /truncated.gguf           Content-Length of the whole file, half of it sent
//   /html/model.gguf          an HTML page with content-type text/html;  /html-sniff/model.gguf the same
//                             page as application/octet-stream
import { readFileSync } from 'node:fs';
import type { ServedFile } from './model-server';

const read = (path: string) => new Uint8Array(readFileSync(path));
const text = (s: string) => new TextEncoder().encode(s);

/** A safetensors file split into `n` files of whole tensors (raw bytes, dtype kept) and its index. */
export function shardSafetensors(bytes: Uint8Array, n: number, prefix = 'model'): { shards: [string, Uint8Array][]; index: Uint8Array } {
  const len = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + len))) as Record<
    string,
    { dtype: string; shape: number[]; data_offsets: [number, number] }
  >;
  const data = bytes.subarray(8 + len);
  const names = Object.keys(header).filter((k) => k !== '__metadata__');
  const per = Math.ceil(names.length / n);
  const shards: [string, Uint8Array][] = [];
  const weightMap: Record<string, string> = {};
  for (let s = 0; s < n; s++) {
    const file = `${prefix}-${String(s + 1).padStart(5, '0')}-of-${String(n).padStart(5, '0')}.safetensors`;
    const h: Record<string, unknown> = {};
    const parts: Uint8Array[] = [];
    let at = 0;
    for (const name of names.slice(s * per, (s + 1) * per)) {
      const e = header[name];
      const raw = data.subarray(e.data_offsets[0], e.data_offsets[1]);
      h[name] = { dtype: e.dtype, shape: e.shape, data_offsets: [at, at + raw.length] };
      parts.push(raw);
      at += raw.length;
      weightMap[name] = file;
    }
    const json = text(JSON.stringify(h));
    const out = new Uint8Array(8 + json.length + at);
    new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
    out.set(json, 8);
    let o = 8 + json.length;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    shards.push([file, out]);
  }
  return { shards, index: text(JSON.stringify({ metadata: { total_size: data.length }, weight_map: weightMap })) };
}

/** The WordPiece vocabulary of the tiny BERT (41 ids: 5 specials, a–z, 0–9). */
export const BERT_VOCAB = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', ...'abcdefghijklmnopqrstuvwxyz0123456789'];

/**
 * A tokenizer.json laid out as bert-base-uncased's (BertNormalizer, BertPreTokenizer, WordPiece '##',
 * TemplateProcessing [CLS] $A [SEP] $B:1 [SEP]:1) over `words`, whose first five are [PAD] [UNK] [CLS] [SEP] [MASK].
 */
export function wordPieceTokenizerJSON(words: readonly string[]): Record<string, unknown> {
  const vocab = Object.fromEntries(words.map((t, i) => [t, i]));
  return {
    version: '1.0',
    added_tokens: words
      .slice(0, 5)
      .map((content, id) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [
        { SpecialToken: { id: '[CLS]', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '[SEP]', type_id: 0 } },
      ],
      pair: [
        { SpecialToken: { id: '[CLS]', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '[SEP]', type_id: 0 } },
        { Sequence: { id: 'B', type_id: 1 } },
        { SpecialToken: { id: '[SEP]', type_id: 1 } },
      ],
      special_tokens: {
        '[CLS]': { id: '[CLS]', ids: [2], tokens: ['[CLS]'] },
        '[SEP]': { id: '[SEP]', ids: [3], tokens: ['[SEP]'] },
      },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab },
  };
}

export const HTML_PAGE = text('<!DOCTYPE html><html><head><title>Sign in</title></head><body>Please sign in</body></html>');

/** Every file the tests serve, by path. */
export function appFixtureFiles(): Map<string, ServedFile> {
  const files = new Map<string, ServedFile>();
  const put = (path: string, body: Uint8Array, extra: Omit<ServedFile, 'body'> = {}) =>
    files.set(path, { body, etag: `"${path.length}-${body.length}"`, ...extra });
  const gguf = read('tests/fixtures/llama/kjv-llama-q8_0.gguf');
  put('/gguf/kjv.gguf', gguf);
  put('/truncated.gguf', gguf, { truncateAt: gguf.length >> 1 });
  put('/html/model.gguf', HTML_PAGE, { type: 'text/html; charset=utf-8' });
  put('/html-sniff/model.gguf', HTML_PAGE);

  const kjv = 'public/models/kjv-llama';
  for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json']) put(`/hf/kjv-llama/${f}`, read(`${kjv}/${f}`));
  const { shards, index } = shardSafetensors(read(`${kjv}/model.safetensors`), 2);
  for (const [name, bytes] of shards) put(`/hf/kjv-llama/${name}`, bytes);
  put('/hf/kjv-llama/model.safetensors.index.json', index);

  const enc = JSON.parse(readFileSync('tests/fixtures/encoder/expected.json', 'utf8')) as { bert: { config: unknown } };
  put('/hf/bert/config.json', text(JSON.stringify(enc.bert.config)));
  put('/hf/bert/model.safetensors', read('tests/fixtures/encoder/bert.safetensors'));
  put('/hf/bert/tokenizer.json', text(JSON.stringify(wordPieceTokenizerJSON(BERT_VOCAB))));
  put(
    '/hf/bert/modules.json',
    text(
      JSON.stringify([
        { idx: 0, name: '0', path: '', type: 'sentence_transformers.models.Transformer' },
        { idx: 1, name: '1', path: '1_Pooling', type: 'sentence_transformers.models.Pooling' },
        { idx: 2, name: '2', path: '2_Normalize', type: 'sentence_transformers.models.Normalize' },
      ]),
    ),
  );
  put('/hf/bert/1_Pooling/config.json', text(JSON.stringify({ word_embedding_dimension: 32, pooling_mode_mean_tokens: true })));

  // The same folder with its JSON files gzip-compressed in transfer (Content-Length: the compressed size).
  for (const [path, f] of [...files])
    if (path.startsWith('/hf/bert/')) files.set(path.replace('/hf/bert/', '/hf/bert-gz/'), { ...f, gzip: path.endsWith('.json') });

  const gpt = JSON.parse(readFileSync('tests/fixtures/gpt2/tiny.json', 'utf8')) as { config: Record<string, number> };
  put('/hf/gpt2/config.json', text(JSON.stringify({ model_type: 'gpt2', architectures: ['GPT2LMHeadModel'], ...gpt.config })));
  put('/hf/gpt2/model.safetensors', read('tests/fixtures/gpt2/tiny-a.safetensors'));

  const charGpt = read('public/models/kjv-char-gpt.safetensors');
  put('/st/char-gpt.safetensors', charGpt);
  put('/slow/char-gpt.safetensors', charGpt, { slowMs: 20 });
  return files;
}

#!/usr/bin/python3
"""GGUF vocabularies as converters write them, and the ids the reference tokenizers give for tricky
strings, for tests/node/text-tokenizer.test.ts. Each FILE.gguf has a FILE.json: its strings and, where
SentencePiece applies, SentencePiece's ids; tools/llamacpp_tokenize.mjs then adds llama.cpp's ids.

SentencePiece ('llama', as TinyLlama / Llama 2 / Mistral / Gemma ship it):
  SentencePiece (Debian's python3-sentencepiece) trains a small BPE model with Llama 2's settings:
  byte_fallback, split_digits, identity normalization, extra whitespace kept, <unk>=0 <s>=1 </s>=2;
  with a dummy prefix (spm-tokenizer, Llama 2) and without (spm-no-prefix, Gemma's
  add_space_prefix false). The corpus below holds no CJK and no emoji, so those reach byte fallback.
  The vocabulary is written as llama.cpp's convert_hf_to_gguf.py writes it (TextModel.
  _create_vocab_sentencepiece): tokens = pieces, scores = piece scores, token_type 1 normal,
  2 unknown, 3 control, 5 unused, 6 byte; bos/eos/unknown ids, add_bos_token / add_eos_token,
  add_space_prefix, plus the llama.* hyperparameters a vocab-only load reads. No merges: llama.cpp's
  SPM tokenizer merges by score, and transformers' GGUF integration rebuilds merges from the scores.
  `sentencepiece`: SentencePiece's encode, with the BOS add_bos_token asks for, for every string
  without special-token text (SentencePiece reads those as plain text; llama.cpp and HF match them).
Byte-level BPE ('gpt2'): the bundled tiny Llama's vocabulary (public/models/kjv-llama/tokenizer.json:
  tokens, merges, <|endoftext|> <|im_start|> <|im_end|> as control tokens) under the pre-tokenizer
  types llama.cpp names: bpe-llama3 ('llama-bpe', written without add_bos_token as older converters
  did, BOS <|endoftext|>), bpe-qwen2 ('qwen2'), bpe-smollm ('smollm').

  tests/fixtures/gguf/{spm-tokenizer,spm-no-prefix,bpe-llama3,bpe-qwen2,bpe-smollm,bpe-tekken}.{gguf,json}
Run:  /usr/bin/python3 tools/make_gguf_tokenizer_fixtures.py
      NODE_LLAMA_CPP=... node tools/llamacpp_tokenize.mjs tests/fixtures/gguf/{spm-tokenizer,...}  (see there)
"""
import json
import os
import struct
import sys
import tempfile

import sentencepiece as spm

sys.path.insert(0, os.path.dirname(__file__))
from make_gguf_fixture import gstr, kv, write_gguf  # noqa: E402

ROOT = os.path.join(os.path.dirname(__file__), '..')
OUT = os.path.join(ROOT, 'tests', 'fixtures', 'gguf')

CORPUS = """\
The quick brown fox jumps over the lazy dog. The dog sleeps; the fox runs away into the forest.
In the beginning was the word, and the word was with the tokenizer, and the tokenizer was good.
Hello world! Hello, world. hello there, how are you today? I'm fine, thanks; and you're well too.
Numbers like 12345 and 3.14159 and 2026-12-06 are split into single digits by Llama's tokenizer.
def main():
    print("hello world")
    return 0
Café, naïve, résumé, façade and déjà vu are borrowed words with accents; Ærøskøbing is a town.
Über alles, Straße, Äpfel und Öl. El niño comió piña en la mañana. São Paulo não é pequena.
Tokenizers split text into pieces: words, subwords, characters, and bytes when nothing else fits.
Spaces matter:  two spaces,   three spaces, a tab\there, and a new line
here. Repeated letters: aaaa bbbb cccc. Punctuation!!! Question??? Ellipsis...
The model reads tokens, predicts the next one, and the sampler picks it; then the loop goes on.
"""

# Strings that exercise what tokenizers get wrong: spaces, newlines, digits, accents (NFC and NFD),
# CJK and emoji (byte fallback in the SentencePiece vocabulary), and special-token text (matched whole
# by llama.cpp and HF).
TRICKY = [
    'Hello world',
    ' Hello world',
    'Hello  world   again',
    '   leading spaces',
    'trailing spaces   ',
    'line one\nline two\n\nline four',
    '\ttab\tseparated',
    ' \n \n\n  x',
    '12345 + 678 = 13023',
    'café naïve résumé',
    'cafe\u0301 nai\u0308ve',
    'caf\u00e9 na\u00efve',  # the NFC form of the one above
    'Straße Äpfel',
    "I'm sure they'll say it's John's, DON'T",
    '日本語のテキスト',
    '你好，世界',
    'emoji 😀👍🏽 and 🇫🇷',
    'mixed: déjà vu 😀 123',
    '',
    ' ',
    '\n',
    'The quick brown fox jumps over the lazy dog.',
    'say abracadabra',
    'camelCaseWords HTTPServer iPhone McDonald',
]
SPM_SPECIAL = ['a<s>b</s>c', '<s>Hello</s>', '<unk> is unknown', 'x </s> y']
BPE_SPECIAL = ['<|im_start|>user\nhi<|im_end|>\n', 'a<|endoftext|>b', ' <|im_end|> x']

# GGUF value types (gguf.md)
U32, I32, F32, BOOL, STR, ARR = 4, 5, 6, 7, 8, 9


def arr(vtype, items, pack):
    return struct.pack('<IQ', vtype, len(items)) + b''.join(pack(x) for x in items)


def u32(x):
    return struct.pack('<I', x)


def flag(x):
    return struct.pack('<?', x)


def dump_fixture(fixture):
    """The fixture's JSON with one sample a line (tools/llamacpp_tokenize.mjs writes it the same way)."""
    head = {k: v for k, v in fixture.items() if k != 'samples'}
    lines = ',\n'.join('  ' + json.dumps(s, ensure_ascii=False) for s in fixture['samples'])
    return json.dumps(head, ensure_ascii=False)[:-1] + ',\n "samples": [\n' + lines + '\n ]\n}\n'


def write(name, meta, fixture):
    head = [
        kv('general.architecture', STR, gstr('llama')),
        kv('general.name', STR, gstr(f'tokenizer fixture {name}')),
        kv('general.alignment', U32, u32(32)),
        kv('llama.block_count', U32, u32(1)),
        kv('llama.context_length', U32, u32(64)),
        kv('llama.embedding_length', U32, u32(32)),
        kv('llama.feed_forward_length', U32, u32(64)),
        kv('llama.attention.head_count', U32, u32(2)),
        kv('llama.attention.layer_norm_rms_epsilon', F32, struct.pack('<f', 1e-5)),
    ]
    write_gguf(os.path.join(OUT, f'{name}.gguf'), [], head + meta)
    with open(os.path.join(OUT, f'{name}.json'), 'w') as f:
        f.write(dump_fixture(fixture))


def sentencepiece_fixture(name, dummy_prefix):
    with tempfile.TemporaryDirectory() as tmp:
        corpus = os.path.join(tmp, 'corpus.txt')
        with open(corpus, 'w') as f:
            f.write(CORPUS)
        prefix = os.path.join(tmp, 'spm')
        spm.SentencePieceTrainer.train(
            input=corpus, model_prefix=prefix, model_type='bpe', vocab_size=420, hard_vocab_limit=False,
            byte_fallback=True, split_digits=True, normalization_rule_name='identity', add_dummy_prefix=dummy_prefix,
            remove_extra_whitespaces=False, allow_whitespace_only_pieces=True, character_coverage=1.0,
            unk_id=0, bos_id=1, eos_id=2, pad_id=-1, num_threads=1, minloglevel=2,
        )
        sp = spm.SentencePieceProcessor(model_file=prefix + '.model')
    n = sp.get_piece_size()
    tokens, scores, types = [], [], []
    for i in range(n):
        tokens.append(sp.id_to_piece(i))
        scores.append(sp.get_score(i))
        # convert_hf_to_gguf's SentencePieceTokenTypes from the model's piece types
        types.append(2 if sp.is_unknown(i) else 3 if sp.is_control(i) else 5 if sp.is_unused(i) else 6 if sp.is_byte(i) else 1)
    meta = [
        kv('tokenizer.ggml.model', STR, gstr('llama')),
        kv('tokenizer.ggml.pre', STR, gstr('default')),
        kv('tokenizer.ggml.tokens', ARR, arr(STR, tokens, gstr)),
        kv('tokenizer.ggml.scores', ARR, arr(F32, scores, lambda x: struct.pack('<f', x))),
        kv('tokenizer.ggml.token_type', ARR, arr(I32, types, lambda x: struct.pack('<i', x))),
        kv('tokenizer.ggml.bos_token_id', U32, u32(sp.bos_id())),
        kv('tokenizer.ggml.eos_token_id', U32, u32(sp.eos_id())),
        kv('tokenizer.ggml.unknown_token_id', U32, u32(sp.unk_id())),
        kv('tokenizer.ggml.add_bos_token', BOOL, flag(True)),
        kv('tokenizer.ggml.add_eos_token', BOOL, flag(False)),
        kv('tokenizer.ggml.add_space_prefix', BOOL, flag(dummy_prefix)),
    ]
    samples = []
    for text in TRICKY + SPM_SPECIAL:
        s = {'text': text}
        if text in TRICKY:
            # SentencePiece's encode of '' is [] (and only the BOS is added).
            s['sentencepiece'] = [sp.bos_id()] + sp.encode(text)
            s['pieces'] = sp.encode(text, out_type=str)
            s['decoded'] = sp.decode(sp.encode(text))
        samples.append(s)
    write(name, meta, {'vocab_size': n, 'samples': samples})
    print(f'{name}: {n} pieces, {sum(t == 6 for t in types)} byte tokens')


def byte_level_fixture(name, pre, extra):
    tok = json.load(open(os.path.join(ROOT, 'public', 'models', 'kjv-llama', 'tokenizer.json')))
    vocab = tok['model']['vocab']
    tokens = [t for t, _ in sorted(vocab.items(), key=lambda kv: kv[1])]
    # A whole word no merge reaches: one token where merges are ignored (llama-bpe), pieces elsewhere.
    # Two merges that cross a split boundary of some pre-tokenizers: a case change (tekken splits
    # 'camelCase' there) and a digit pair (qwen2, smollm and tekken split digits one by one).
    tokens += ['Ġabracadabra', 'lC', '12']
    merges = ['l C', '1 2'] + tok['model']['merges']  # first: they win over every other merge
    special = {t['content'] for t in tok['added_tokens'] if t['special']}
    meta = [
        kv('tokenizer.ggml.model', STR, gstr('gpt2')),
        kv('tokenizer.ggml.pre', STR, gstr(pre)),
        kv('tokenizer.ggml.tokens', ARR, arr(STR, tokens, gstr)),
        kv('tokenizer.ggml.token_type', ARR, arr(I32, [3 if t in special else 1 for t in tokens], lambda x: struct.pack('<i', x))),
        kv('tokenizer.ggml.merges', ARR, arr(STR, merges, gstr)),
        kv('tokenizer.ggml.eos_token_id', U32, u32(vocab['<|im_end|>'])),
    ] + extra(vocab)
    write(name, meta, {'vocab_size': len(tokens), 'samples': [{'text': t} for t in TRICKY + BPE_SPECIAL]})
    print(f'{name}: {len(tokens)} tokens, pre-tokenizer {pre}')


def main():
    sentencepiece_fixture('spm-tokenizer', True)
    sentencepiece_fixture('spm-no-prefix', False)
    # llama-bpe without add_bos_token (as converters before the key wrote it): llama.cpp adds the BOS.
    byte_level_fixture('bpe-llama3', 'llama-bpe', lambda v: [kv('tokenizer.ggml.bos_token_id', U32, u32(v['<|endoftext|>']))])
    byte_level_fixture('bpe-qwen2', 'qwen2', lambda v: [kv('tokenizer.ggml.add_bos_token', BOOL, flag(False))])
    byte_level_fixture('bpe-smollm', 'smollm', lambda v: [kv('tokenizer.ggml.add_bos_token', BOOL, flag(False))])
    # Mistral's tekken, BOS by default; the case-sensitive split shows on mixed-case words.
    byte_level_fixture('bpe-tekken', 'tekken', lambda v: [kv('tokenizer.ggml.bos_token_id', U32, u32(v['<|endoftext|>']))])


if __name__ == '__main__':
    main()

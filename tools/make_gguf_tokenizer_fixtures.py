#!/usr/bin/python3
"""A SentencePiece vocabulary (tokenizer.ggml.model 'llama', as TinyLlama / Llama 2 / Mistral ship it)
in a GGUF file, and the ids SentencePiece itself gives for tricky strings.

1. SentencePiece (Debian's python3-sentencepiece) trains a small BPE model with Llama 2's settings:
   byte_fallback, split_digits, identity normalization, a dummy prefix, extra whitespace kept,
   <unk>=0 <s>=1 </s>=2. The corpus below holds no CJK and no emoji, so those reach byte fallback.
2. The vocabulary is written as llama.cpp's convert_hf_to_gguf.py writes it (TextModel.
   _create_vocab_sentencepiece): tokens = pieces, scores = piece scores, token_type 1 normal,
   2 unknown, 3 control, 5 unused, 6 byte; bos/eos/unknown ids and add_bos_token / add_eos_token, plus
   the llama.* hyperparameters a vocab-only load reads. The gpt2-style file keeps no merges: llama.cpp's
   SPM tokenizer merges by score, and transformers' GGUF integration rebuilds merges from the scores.
3. expected ids: SentencePiece's encode (with the BOS that add_bos_token asks for) for every string
   without special-token text; tools/llamacpp_tokenize.mjs adds llama.cpp's own ids for all of them.

  tests/fixtures/gguf/spm-tokenizer.gguf, tests/fixtures/gguf/spm-tokenizer.json
Run:  /usr/bin/python3 tools/make_spm_tokenizer_fixture.py
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
# CJK and emoji (byte fallback here), and special-token text (matched whole by llama.cpp and HF).
TRICKY = [
    'Hello world',
    ' Hello world',
    'Hello  world   again',
    '   leading spaces',
    'trailing spaces   ',
    'line one\nline two\n\nline four',
    '\ttab\tseparated',
    '12345 + 678 = 13023',
    'café naïve résumé',
    'cafe\u0301 nai\u0308ve',
    'Straße Äpfel',
    '日本語のテキスト',
    '你好，世界',
    'emoji 😀👍🏽 and 🇫🇷',
    'mixed: déjà vu 😀 123',
    '',
    ' ',
    '\n',
    'The quick brown fox jumps over the lazy dog.',
    'a<s>b</s>c',
    '<s>Hello</s>',
    '<unk> is unknown',
]
SPECIAL_TEXT = ['<s>', '</s>', '<unk>']

# GGUF value types (gguf.md)
U32, I32, F32, BOOL, STR, ARR = 4, 5, 6, 7, 8, 9


def arr(vtype, items, pack):
    return struct.pack('<IQ', vtype, len(items)) + b''.join(pack(x) for x in items)


def dump_fixture(fixture):
    """The fixture's JSON with one sample a line (tools/llamacpp_tokenize.mjs writes it the same way)."""
    head = {k: v for k, v in fixture.items() if k != 'samples'}
    lines = ',\n'.join('  ' + json.dumps(s, ensure_ascii=False) for s in fixture['samples'])
    return json.dumps(head, ensure_ascii=False)[:-1] + ',\n "samples": [\n' + lines + '\n ]\n}\n'


def main():
    with tempfile.TemporaryDirectory() as tmp:
        corpus = os.path.join(tmp, 'corpus.txt')
        with open(corpus, 'w') as f:
            f.write(CORPUS)
        prefix = os.path.join(tmp, 'spm')
        spm.SentencePieceTrainer.train(
            input=corpus, model_prefix=prefix, model_type='bpe', vocab_size=420, hard_vocab_limit=False,
            byte_fallback=True, split_digits=True, normalization_rule_name='identity', add_dummy_prefix=True,
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
    u32 = lambda x: struct.pack('<I', x)  # noqa: E731
    meta = [
        kv('general.architecture', STR, gstr('llama')),
        kv('general.name', STR, gstr('SentencePiece tokenizer fixture')),
        kv('general.alignment', U32, u32(32)),
        kv('llama.block_count', U32, u32(1)),
        kv('llama.context_length', U32, u32(64)),
        kv('llama.embedding_length', U32, u32(32)),
        kv('llama.feed_forward_length', U32, u32(64)),
        kv('llama.attention.head_count', U32, u32(2)),
        kv('llama.attention.layer_norm_rms_epsilon', F32, struct.pack('<f', 1e-5)),
        kv('tokenizer.ggml.model', STR, gstr('llama')),
        kv('tokenizer.ggml.pre', STR, gstr('default')),
        kv('tokenizer.ggml.tokens', ARR, arr(STR, tokens, gstr)),
        kv('tokenizer.ggml.scores', ARR, arr(F32, scores, lambda x: struct.pack('<f', x))),
        kv('tokenizer.ggml.token_type', ARR, arr(I32, types, lambda x: struct.pack('<i', x))),
        kv('tokenizer.ggml.bos_token_id', U32, u32(sp.bos_id())),
        kv('tokenizer.ggml.eos_token_id', U32, u32(sp.eos_id())),
        kv('tokenizer.ggml.unknown_token_id', U32, u32(sp.unk_id())),
        kv('tokenizer.ggml.add_bos_token', BOOL, struct.pack('<?', True)),
        kv('tokenizer.ggml.add_eos_token', BOOL, struct.pack('<?', False)),
    ]
    write_gguf(os.path.join(OUT, 'spm-tokenizer.gguf'), [], meta)
    samples = []
    for text in TRICKY:
        s = {'text': text}
        if not any(t in text for t in SPECIAL_TEXT):
            # SentencePiece's encode of '' is [] (and only the BOS is added).
            s['sentencepiece'] = [sp.bos_id()] + sp.encode(text)
            s['pieces'] = sp.encode(text, out_type=str)
            s['decoded'] = sp.decode(sp.encode(text))
        samples.append(s)
    with open(os.path.join(OUT, 'spm-tokenizer.json'), 'w') as f:
        f.write(dump_fixture({'vocab_size': n, 'samples': samples}))
    print(f'{n} pieces; {sum(t == 6 for t in types)} byte tokens')


if __name__ == '__main__':
    main()

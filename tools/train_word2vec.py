#!/usr/bin/python3
"""Default word vectors for the word2vec demo, and the gensim fixture for the tests.

Trains skip-gram word2vec (gensim) on the King James Bible and writes
  public/models/kjv-word2vec.bin           word2vec C binary format (what Word2Vec.fromBinary reads)
  tests/fixtures/word2vec/small.{bin,txt,glove.txt}   the 400 most frequent words, in all three formats
  tests/fixtures/word2vec/expected.json    gensim's most_similar / analogy answers on the small set
Run with Debian's python3-gensim:  /usr/bin/python3 tools/train_word2vec.py
"""
import json
import os
import re
import sys

from gensim.models import KeyedVectors, Word2Vec

sys.path.insert(0, os.path.dirname(__file__))
from corpus import kjv_verses  # noqa: E402

ROOT = os.path.join(os.path.dirname(__file__), '..')


def main():
    sentences = [re.findall(r"[a-z]+(?:'[a-z]+)?", v.lower()) for v in kjv_verses()]
    model = Word2Vec(sentences, vector_size=64, window=5, min_count=8, sg=1, negative=10, epochs=8, workers=2, seed=1)
    wv = model.wv
    out = os.path.join(ROOT, 'public', 'models', 'kjv-word2vec.bin')
    wv.save_word2vec_format(out, binary=True)
    print('vocabulary', len(wv), '->', out, os.path.getsize(out), 'bytes')
    for w in ['god', 'king', 'jesus', 'water', 'sheep']:
        print(w, [x for x, _ in wv.most_similar(w, topn=6)])

    small = KeyedVectors(vector_size=wv.vector_size)
    words = wv.index_to_key[:400]
    small.add_vectors(words, [wv[w] for w in words])
    fx = os.path.join(ROOT, 'tests', 'fixtures', 'word2vec')
    os.makedirs(fx, exist_ok=True)
    small.save_word2vec_format(os.path.join(fx, 'small.bin'), binary=True)
    small.save_word2vec_format(os.path.join(fx, 'small.txt'), binary=False)
    with open(os.path.join(fx, 'small.glove.txt'), 'w', encoding='utf-8') as f:  # GloVe: no header line
        for w in words:
            f.write(w + ' ' + ' '.join(repr(float(x)) for x in small[w]) + '\n')
    reread = KeyedVectors.load_word2vec_format(os.path.join(fx, 'small.bin'), binary=True)
    expected = {
        'most_similar': {w: reread.most_similar(w, topn=10) for w in ['god', 'king', 'water', 'he']},
        'analogy': [
            {'a': a, 'b': b, 'c': c, 'result': reread.most_similar(positive=[b, c], negative=[a], topn=5)}
            for a, b, c in [('man', 'king', 'woman'), ('father', 'son', 'mother'), ('day', 'light', 'night')]
        ],
    }
    with open(os.path.join(fx, 'expected.json'), 'w') as f:
        json.dump(expected, f, indent=1)
    print('fixtures ->', fx)


if __name__ == '__main__':
    main()

"""Recorded examples the demo pages show in a browser without WebGPU (each labelled as recorded there).

  demos/word2vec/recorded.json   most_similar('god') and the analogy go : went :: come on the bundled
                                 vectors (public/models/kjv-word2vec.bin) by gensim's rule (unit vectors,
                                 mean of +b +c −a, cosine, the query words left out), in float64 numpy
  demos/lstm/recorded.json       the bundled character LSTM (public/models/kjv-char-lstm.safetensors) in
                                 float64 PyTorch: a continuation of the page's default prompt sampled at
                                 the page's default temperature 0.7 (torch.multinomial, seed 1), and the top
                                 next characters with their probabilities after the prompt

Run: /usr/bin/python3 tools/record_page_examples.py
"""
import json
import os
import struct

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROMPT = 'And the LORD said unto Moses'


def read_safetensors(path):
    with open(path, 'rb') as f:
        n = struct.unpack('<Q', f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    meta = header.pop('__metadata__', {})
    out = {}
    for name, t in header.items():
        assert t['dtype'] == 'F32', name
        a, b = t['data_offsets']
        out[name] = torch.from_numpy(np.frombuffer(data[a:b], dtype='<f4').reshape(t['shape']).astype(np.float64))
    return out, meta


def read_word2vec_bin(path):
    with open(path, 'rb') as f:
        data = f.read()
    head_end = data.index(b'\n')
    n, dim = map(int, data[:head_end].split())
    words, vecs, pos = [], np.zeros((n, dim)), head_end + 1
    for i in range(n):
        sp = data.index(b' ', pos)
        words.append(data[pos:sp].decode('utf-8').strip())
        vecs[i] = np.frombuffer(data[sp + 1:sp + 1 + 4 * dim], dtype='<f4')
        pos = sp + 1 + 4 * dim
        if pos < len(data) and data[pos:pos + 1] == b'\n':
            pos += 1
    return words, vecs


def most_similar(words, unit, positive, negative=(), topn=10):
    """gensim's KeyedVectors.most_similar: the mean of the ±unit vectors, normalised, against every unit vector."""
    idx = {w: i for i, w in enumerate(words)}
    q = sum(unit[idx[w]] for w in positive) - sum(unit[idx[w]] for w in negative)
    q = q / (len(positive) + len(negative))
    sims = unit @ (q / np.linalg.norm(q))
    skip = {idx[w] for w in (*positive, *negative)}
    order = [i for i in np.argsort(-sims, kind='stable') if i not in skip][:topn]
    return [{'word': words[i], 'score': round(float(sims[i]), 4)} for i in order]


def word2vec():
    words, vecs = read_word2vec_bin(os.path.join(ROOT, 'public/models/kjv-word2vec.bin'))
    unit = vecs / np.linalg.norm(vecs, axis=1, keepdims=True)
    return {
        'source': 'tools/record_page_examples.py: public/models/kjv-word2vec.bin, gensim\'s most_similar rule in float64',
        'query': 'god',
        'neighbours': most_similar(words, unit, ['god']),
        'analogy': {'abc': ['go', 'went', 'come'], 'top': most_similar(words, unit, ['went', 'come'], ['go'], topn=3)},
    }


def lstm(chars=160):
    w, meta = read_safetensors(os.path.join(ROOT, 'public/models/kjv-char-lstm.safetensors'))
    vocab = json.loads(meta['vocab'])
    E, H, L = int(meta['inputSize']), int(meta['hiddenSize']), int(meta['numLayers'])
    net = torch.nn.LSTM(E, H, L, batch_first=True).double()
    net.load_state_dict({k: v for k, v in w.items() if k.startswith(('weight_', 'bias_'))})
    emb, dw, db = w['embedding.weight'], w['decoder.weight'], w['decoder.bias']
    state = None
    logits = None
    gen = torch.Generator().manual_seed(1)
    with torch.no_grad():
        ids = [vocab.index(c) for c in PROMPT if c in vocab]
        for i in ids:
            out, state = net(emb[i].view(1, 1, E), state)
            logits = out[0, -1] @ dw.T + db
        p = torch.softmax(logits, 0)
        top = torch.topk(p, 5)
        first = [{'char': vocab[int(i)], 'p': round(float(v), 4)} for v, i in zip(top.values, top.indices)]
        text = ''
        for _ in range(chars):
            nxt = int(torch.multinomial(torch.softmax(logits / 0.7, 0), 1, generator=gen))
            text += vocab[nxt]
            out, state = net(emb[nxt].view(1, 1, E), state)
            logits = out[0, -1] @ dw.T + db
    return {
        'source': 'tools/record_page_examples.py: public/models/kjv-char-lstm.safetensors in float64 PyTorch',
        'prompt': PROMPT,
        'temperature': 0.7,
        'next': first,
        'text': text,
    }


if __name__ == '__main__':
    for path, data in [('demos/word2vec/recorded.json', word2vec()), ('demos/lstm/recorded.json', lstm())]:
        with open(os.path.join(ROOT, path), 'w') as f:
            json.dump(data, f, indent=1, ensure_ascii=False)
            f.write('\n')
        print(path)

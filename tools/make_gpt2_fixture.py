#!/usr/bin/python3
"""Golden fixtures for the GPT-2 tests: a tiny random GPT-2 saved in both checkpoint layouts, with
logits and a greedy continuation computed by PyTorch in float64.

  layout A: the original openai-community/gpt2 names (no prefix), F32, with the h.N.attn.bias /
            masked_bias mask buffers that loaders must ignore
  layout B: the newer GPT2LMHeadModel names ('transformer.' prefix, tied lm_head.weight), F16

The forward pass follows Hugging Face's GPT2LMHeadModel: Conv1D weights [in, out], pre-norm blocks,
GELU tanh approximation ('gelu_new'), layer norm eps 1e-5, attention scaled by 1/sqrt(head_dim).
Run with Debian's python3-torch:  /usr/bin/python3 tools/make_gpt2_fixture.py
"""
import json
import math
import os
import struct

import torch

OUT = os.path.join(os.path.dirname(__file__), '..', 'tests', 'fixtures', 'gpt2')
CONFIG = dict(n_layer=2, n_head=2, n_embd=32, vocab_size=101, n_positions=48, layer_norm_epsilon=1e-5)


def init_weights(seed):
    g = torch.Generator().manual_seed(seed)
    C, V, P = CONFIG['n_embd'], CONFIG['vocab_size'], CONFIG['n_positions']
    r = lambda *s, std=0.2: torch.randn(*s, generator=g, dtype=torch.float64) * std
    w = {'wte.weight': r(V, C, std=0.5), 'wpe.weight': r(P, C, std=0.1)}
    for i in range(CONFIG['n_layer']):
        p = f'h.{i}.'
        w[p + 'ln_1.weight'] = 1 + r(C, std=0.1)
        w[p + 'ln_1.bias'] = r(C, std=0.1)
        w[p + 'attn.c_attn.weight'] = r(C, 3 * C)
        w[p + 'attn.c_attn.bias'] = r(3 * C, std=0.05)
        w[p + 'attn.c_proj.weight'] = r(C, C)
        w[p + 'attn.c_proj.bias'] = r(C, std=0.05)
        w[p + 'ln_2.weight'] = 1 + r(C, std=0.1)
        w[p + 'ln_2.bias'] = r(C, std=0.1)
        w[p + 'mlp.c_fc.weight'] = r(C, 4 * C)
        w[p + 'mlp.c_fc.bias'] = r(4 * C, std=0.05)
        w[p + 'mlp.c_proj.weight'] = r(4 * C, C)
        w[p + 'mlp.c_proj.bias'] = r(C, std=0.05)
    w['ln_f.weight'] = 1 + r(C, std=0.1)
    w['ln_f.bias'] = r(C, std=0.1)
    return w


def gelu_new(x):
    return 0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))


def forward(w, ids):
    C, H = CONFIG['n_embd'], CONFIG['n_head']
    D = C // H
    eps = CONFIG['layer_norm_epsilon']
    T = len(ids)
    ln = lambda x, p: torch.nn.functional.layer_norm(x, (C,), w[p + '.weight'], w[p + '.bias'], eps)
    x = w['wte.weight'][torch.tensor(ids)] + w['wpe.weight'][:T]
    mask = torch.tril(torch.ones(T, T, dtype=torch.bool))
    for i in range(CONFIG['n_layer']):
        p = f'h.{i}.'
        qkv = ln(x, p + 'ln_1') @ w[p + 'attn.c_attn.weight'] + w[p + 'attn.c_attn.bias']
        q, k, v = (t.view(T, H, D).transpose(0, 1) for t in qkv.split(C, dim=1))
        att = (q @ k.transpose(-1, -2)) / math.sqrt(D)
        att = att.masked_fill(~mask, float('-inf')).softmax(-1)
        y = (att @ v).transpose(0, 1).reshape(T, C)
        x = x + y @ w[p + 'attn.c_proj.weight'] + w[p + 'attn.c_proj.bias']
        h = gelu_new(ln(x, p + 'ln_2') @ w[p + 'mlp.c_fc.weight'] + w[p + 'mlp.c_fc.bias'])
        x = x + h @ w[p + 'mlp.c_proj.weight'] + w[p + 'mlp.c_proj.bias']
    return ln(x, 'ln_f') @ w['wte.weight'].T


def greedy(w, ids, n):
    ids = list(ids)
    out = []
    for _ in range(n):
        nxt = int(forward(w, ids)[-1].argmax())
        out.append(nxt)
        ids.append(nxt)
    return out


def save_safetensors(path, tensors, dtype):
    """The safetensors format by hand: u64 header length, JSON header (space-padded to 8), raw data."""
    names = {'F32': (torch.float32, 4), 'F16': (torch.float16, 2)}
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        tdtype, code = (torch.float32, 'F32') if name.endswith('attn.bias') or name.endswith('masked_bias') else (names[dtype][0], dtype)
        data = t.to(tdtype).contiguous().numpy().tobytes()
        header[name] = {'dtype': code, 'shape': list(t.shape), 'data_offsets': [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    header['__metadata__'] = {'format': 'pt', 'source': 'tools/make_gpt2_fixture.py'}
    h = json.dumps(header, separators=(',', ':')).encode()
    h += b' ' * (-len(h) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(h)) + h + b''.join(blobs))


def main():
    os.makedirs(OUT, exist_ok=True)
    w = init_weights(1234)
    ids = [int(i) for i in torch.randint(0, CONFIG['vocab_size'], (13,), generator=torch.Generator().manual_seed(7))]

    # Layout A: original names, F32, plus the mask buffers.
    a = {k: v.float().double() for k, v in w.items()}
    P = CONFIG['n_positions']
    tensors_a = dict(w)
    for i in range(CONFIG['n_layer']):
        tensors_a[f'h.{i}.attn.bias'] = torch.tril(torch.ones(P, P)).view(1, 1, P, P)
        tensors_a[f'h.{i}.attn.masked_bias'] = torch.tensor(-1e4)
    save_safetensors(os.path.join(OUT, 'tiny-a.safetensors'), tensors_a, 'F32')

    # Layout B: 'transformer.' prefix, F16 weights, tied lm_head. The reference uses the rounded weights.
    b = {k: v.half().double() for k, v in w.items()}
    tensors_b = {'transformer.' + k: v for k, v in w.items()}
    tensors_b['lm_head.weight'] = w['wte.weight']
    save_safetensors(os.path.join(OUT, 'tiny-b.safetensors'), tensors_b, 'F16')

    fixture = {
        'config': CONFIG,
        'ids': ids,
        'logits_a': forward(a, ids).flatten().tolist(),
        'logits_b': forward(b, ids).flatten().tolist(),
        'greedy_a': greedy(a, ids, 12),
    }
    with open(os.path.join(OUT, 'tiny.json'), 'w') as f:
        json.dump(fixture, f)
    print('wrote', OUT, 'greedy:', fixture['greedy_a'])


if __name__ == '__main__':
    main()

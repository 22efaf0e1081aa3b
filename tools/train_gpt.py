#!/usr/bin/python3
"""The GPT demo's default model: a small GPT-2 (same layout and names as openai-community/gpt2, so it
loads through GPT2.fromSafetensors) trained on the King James Bible with a character vocabulary.
  public/models/kjv-char-gpt.safetensors   weights (F32), config and vocabulary in the metadata
Run with Debian's python3-torch:  /usr/bin/python3 tools/train_gpt.py [steps]
"""
import json
import math
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
from corpus import batch, char_data, kjv_text  # noqa: E402
from train_lstm import save_safetensors  # noqa: E402

ROOT = os.path.join(os.path.dirname(__file__), '..')


class GPT(torch.nn.Module):
    """GPT-2 with Conv1D-style [in, out] weights, pre-norm blocks, gelu_new, tied lm_head."""

    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        C, L = cfg['n_embd'], cfg['n_layer']
        p = lambda *s, std=0.02: torch.nn.Parameter(torch.randn(*s) * std)
        w = {'wte.weight': p(cfg['vocab_size'], C), 'wpe.weight': p(cfg['n_positions'], C, std=0.01),
             'ln_f.weight': torch.nn.Parameter(torch.ones(C)), 'ln_f.bias': torch.nn.Parameter(torch.zeros(C))}
        for i in range(L):
            q = f'h.{i}.'
            for n in ['ln_1', 'ln_2']:
                w[q + n + '.weight'] = torch.nn.Parameter(torch.ones(C))
                w[q + n + '.bias'] = torch.nn.Parameter(torch.zeros(C))
            for n, (k, m) in {'attn.c_attn': (C, 3 * C), 'attn.c_proj': (C, C), 'mlp.c_fc': (C, 4 * C), 'mlp.c_proj': (4 * C, C)}.items():
                w[q + n + '.weight'] = p(k, m, std=0.02 / math.sqrt(2 * L) if n.endswith('c_proj') else 0.02)
                w[q + n + '.bias'] = torch.nn.Parameter(torch.zeros(m))
        # ParameterDict keys cannot contain '.', so GPT-2's names are stored with '__'.
        self.w = torch.nn.ParameterDict({k.replace('.', '__'): v for k, v in w.items()})

    def get(self, name):
        return self.w[name.replace('.', '__')]

    def forward(self, ids):
        cfg, g = self.cfg, self.get
        B, T = ids.shape
        C, H = cfg['n_embd'], cfg['n_head']
        x = g('wte.weight')[ids] + g('wpe.weight')[:T]
        for i in range(cfg['n_layer']):
            q = f'h.{i}.'
            a = F.layer_norm(x, (C,), g(q + 'ln_1.weight'), g(q + 'ln_1.bias'), 1e-5)
            qkv = a @ g(q + 'attn.c_attn.weight') + g(q + 'attn.c_attn.bias')
            qq, kk, vv = (t.view(B, T, H, C // H).transpose(1, 2) for t in qkv.split(C, dim=2))
            att = (qq @ kk.transpose(-1, -2)) / math.sqrt(C // H)
            att = att.masked_fill(~torch.tril(torch.ones(T, T, dtype=torch.bool)), float('-inf')).softmax(-1)
            y = (att @ vv).transpose(1, 2).reshape(B, T, C)
            x = x + y @ g(q + 'attn.c_proj.weight') + g(q + 'attn.c_proj.bias')
            m = F.layer_norm(x, (C,), g(q + 'ln_2.weight'), g(q + 'ln_2.bias'), 1e-5)
            h = F.gelu(m @ g(q + 'mlp.c_fc.weight') + g(q + 'mlp.c_fc.bias'), approximate='tanh')
            x = x + h @ g(q + 'mlp.c_proj.weight') + g(q + 'mlp.c_proj.bias')
        x = F.layer_norm(x, (C,), g('ln_f.weight'), g('ln_f.bias'), 1e-5)
        return x @ g('wte.weight').T


def main(steps):
    torch.manual_seed(0)
    torch.set_num_threads(2)
    data, chars = char_data(kjv_text())
    cfg = {'n_layer': 4, 'n_head': 4, 'n_embd': 128, 'vocab_size': len(chars), 'n_positions': 256, 'layer_norm_epsilon': 1e-5}
    model = GPT(cfg)
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=0.01)
    seq, size = 128, 24
    t0 = time.time()
    for step in range(steps):
        lr = 2e-3 * min(1, (step + 1) / 100) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * step / steps)))
        for gr in opt.param_groups:
            gr['lr'] = lr
        x, y = batch(data, seq, size)
        loss = F.cross_entropy(model(x).reshape(-1, len(chars)), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if step % 200 == 0 or step == steps - 1:
            print(f'step {step} loss {loss.item():.3f} ({time.time() - t0:.0f}s)', flush=True)
    tensors = {k.replace('__', '.'): v for k, v in model.w.items()}
    out = os.path.join(ROOT, 'public', 'models', 'kjv-char-gpt.safetensors')
    save_safetensors(out, tensors, {'config': json.dumps(cfg), 'vocab': json.dumps(chars), 'corpus': 'King James Bible (bible-kjv-text)', 'steps': steps})
    print('->', out, os.path.getsize(out), 'bytes')


if __name__ == '__main__':
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)

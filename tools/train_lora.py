#!/usr/bin/python3
"""Two LoRA adapters for the bundled tiny Llama (public/models/kjv-llama, trained by train_llama.py on
the whole King James Bible): one fine-tuned on the Psalms, one on the Proverbs, so the same prompt
continues in each book's style. The base weights stay frozen; only the low-rank A [r, in] and B [out, r]
of every linear layer (q, k, v, o, gate, up, down) train, with PEFT's initialisation (A random, B zero:
the adapter starts as the base model) and PEFT's forward W x + (alpha / r) · B A x.

Written for each book, next to the base model:
  public/models/kjv-llama/lora-<book>/adapter_model.safetensors   PEFT's format (F16), keys
      base_model.model.model.layers.N.<module>.lora_A.weight / lora_B.weight
  public/models/kjv-llama/lora-<book>/adapter_config.json         PEFT's adapter_config.json
  public/models/kjv-llama/lora-<book>.gguf                        llama.cpp's convert_lora_to_gguf layout:
      general.type 'adapter', adapter.type 'lora', adapter.lora.alpha, F16 '<base tensor>.lora_a' /
      '.lora_b', q/k B rows permuted for llama.cpp's RoPE (LlamaModel.permute)
Loaded by model.loadAdapter(name, safetensors, config) or model.loadAdapter(name, gguf).
At the end it prints each model's loss on fixed windows of both books (base, then each adapter).
Run with Debian's python3-torch and python3-regex (minutes on 2 idle cores; 0 steps: evaluate only):
  /usr/bin/python3 tools/train_lora.py [steps]
"""
import json
import math
import os
import re
import struct
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
import export_gguf  # noqa: E402
import train_llama  # noqa: E402
from corpus import batch, kjv_references  # noqa: E402
from make_gguf_fixture import gstr, kv, write_gguf  # noqa: E402
from make_llama_fixture import permute  # noqa: E402

BASE = os.path.join(os.path.dirname(__file__), '..', 'public', 'models', 'kjv-llama')
BOOKS = {'psalms': 'Psalms', 'proverbs': 'Proverbs'}
RANK, ALPHA = 16, 32
MODULES = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj']
GGUF = {'self_attn.q_proj': 'attn_q', 'self_attn.k_proj': 'attn_k', 'self_attn.v_proj': 'attn_v', 'self_attn.o_proj': 'attn_output',
        'mlp.gate_proj': 'ffn_gate', 'mlp.up_proj': 'ffn_up', 'mlp.down_proj': 'ffn_down'}


class LoraLlama(train_llama.Llama):
    """train_llama.Llama with frozen weights; get() returns W + (alpha / r) B A for adapted matrices."""

    def __init__(self, cfg, weights):
        super().__init__(cfg)
        for name, t in weights.items():
            self.get(name).data.copy_(torch.from_numpy(t))
            self.get(name).requires_grad_(False)
        self.lora = torch.nn.ParameterDict()
        for name in weights:
            module = name[:-len('.weight')]
            if module.split('.')[-1] not in MODULES:
                continue
            rows, cols = weights[name].shape
            key = module.replace('.', '__')
            # PEFT's init_lora_weights=True: A kaiming-uniform (a = √5), B zero.
            a = torch.empty(RANK, cols)
            torch.nn.init.kaiming_uniform_(a, a=math.sqrt(5))
            self.lora[key + '__A'] = torch.nn.Parameter(a)
            self.lora[key + '__B'] = torch.nn.Parameter(torch.zeros(rows, RANK))

    def get(self, name):
        w = super().get(name)
        key = name[:-len('.weight')].replace('.', '__')
        if hasattr(self, 'lora') and key + '__A' in self.lora:
            return w + (ALPHA / RANK) * self.lora[key + '__B'] @ self.lora[key + '__A']
        return w

    def adapter(self):
        """{module: (A, B)} as float32 numpy."""
        out = {}
        for k in self.lora:
            if k.endswith('__A'):
                m = k[:-3].replace('__', '.')
                out[m] = (self.lora[k].detach().numpy(), self.lora[k[:-3] + '__B'].detach().numpy())
        return out


def load_adapter(model, book):
    """The saved PEFT adapter of `book` into the model's A and B."""
    w = export_gguf.read_safetensors(os.path.join(BASE, f'lora-{book}', 'adapter_model.safetensors'))
    for name, t in w.items():
        m, kind = re.match(r'base_model\.model\.(.+)\.lora_([AB])\.weight$', name).groups()
        model.lora[m.replace('.', '__') + '__' + kind].data.copy_(torch.from_numpy(t))


@torch.no_grad()
def held_out_loss(model, data, cfg, n=8, seq=64):
    """Mean next-token loss over n fixed windows of a book (the same windows for every model)."""
    g = torch.Generator().manual_seed(5)
    ix = torch.randint(0, len(data) - seq - 1, (n,), generator=g)
    x = torch.stack([data[i:i + seq] for i in ix])
    y = torch.stack([data[i + 1:i + seq + 1] for i in ix])
    return F.cross_entropy(model(x).reshape(-1, cfg['vocab_size']), y.reshape(-1)).item()


def evaluate(cfg, weights, books):
    """Loss on each book's windows: the base (B = 0) and each adapter."""
    model = LoraLlama(cfg, weights)
    rows = {'base': {t: held_out_loss(model, d, cfg) for t, d in books.items()}}
    for book in BOOKS:
        load_adapter(model, book)
        rows[book] = {t: held_out_loss(model, d, cfg) for t, d in books.items()}
    for name, r in rows.items():
        print(f'loss with {name:>8}: ' + ', '.join(f'{t} {v:.3f}' for t, v in r.items()), flush=True)


def save(book, cfg, adapter):
    folder = os.path.join(BASE, f'lora-{book}')
    os.makedirs(folder, exist_ok=True)
    header, data = {'__metadata__': {'format': 'pt'}}, b''
    for m, (A, B) in adapter.items():
        for kind, t in (('lora_A', A), ('lora_B', B)):
            b = t.astype(np.float16).tobytes()
            header[f'base_model.model.{m}.{kind}.weight'] = {'dtype': 'F16', 'shape': list(t.shape), 'data_offsets': [len(data), len(data) + len(b)]}
            data += b
    h = json.dumps(header).encode()
    h += b' ' * (-len(h) % 8)
    with open(os.path.join(folder, 'adapter_model.safetensors'), 'wb') as f:
        f.write(struct.pack('<Q', len(h)) + h + data)
    config = {'peft_type': 'LORA', 'task_type': 'CAUSAL_LM', 'base_model_name_or_path': 'kjv-llama', 'r': RANK, 'lora_alpha': ALPHA,
              'target_modules': MODULES, 'lora_dropout': 0.0, 'bias': 'none', 'fan_in_fan_out': False, 'use_rslora': False,
              'use_dora': False, 'modules_to_save': None, 'rank_pattern': {}, 'alpha_pattern': {}, 'inference_mode': True,
              'book': BOOKS[book]}
    with open(os.path.join(folder, 'adapter_config.json'), 'w') as f:
        json.dump(config, f, indent=1)
    tensors = []
    heads = {'q_proj': cfg['num_attention_heads'], 'k_proj': cfg['num_key_value_heads']}
    for m, (A, B) in adapter.items():
        i, rest = m.split('.')[2], '.'.join(m.split('.')[3:])
        if rest.split('.')[-1] in heads:
            B = permute(B, heads[rest.split('.')[-1]])
        base = f'blk.{i}.{GGUF[rest]}.weight'
        tensors.append((base + '.lora_a', [A.shape[1], A.shape[0]], 1, A.astype(np.float16).tobytes()))
        tensors.append((base + '.lora_b', [B.shape[1], B.shape[0]], 1, B.astype(np.float16).tobytes()))
    write_gguf(os.path.join(BASE, f'lora-{book}.gguf'), tensors, [
        kv('general.architecture', 8, gstr('llama')),
        kv('general.type', 8, gstr('adapter')),
        kv('general.name', 8, gstr(f'kjv-llama LoRA: {BOOKS[book]}')),
        kv('adapter.type', 8, gstr('lora')),
        kv('adapter.lora.alpha', 6, struct.pack('<f', ALPHA)),
    ])


def main(steps):
    torch.set_num_threads(2)
    cfg = json.load(open(os.path.join(BASE, 'config.json')))
    tok = json.load(open(os.path.join(BASE, 'tokenizer.json'), encoding='utf-8'))
    vocab = tok['model']['vocab']
    merges = [tuple(m.split(' ')) for m in tok['model']['merges']]
    weights = export_gguf.read_safetensors(os.path.join(BASE, 'model.safetensors'))
    refs = kjv_references()
    books = {}
    for title in BOOKS.values():
        text = '\n'.join(v for r, v in refs if r.rsplit(' ', 1)[0] == title) + '\n'
        books[title] = torch.tensor(train_llama.encode(text, vocab, merges), dtype=torch.long)
    if steps == 0:  # evaluate the saved adapters only
        evaluate(cfg, weights, books)
        return
    for book, title in BOOKS.items():
        torch.manual_seed(1 + len(book))
        data = books[title]
        model = LoraLlama(cfg, weights)
        opt = torch.optim.AdamW(model.lora.parameters(), lr=5e-3, weight_decay=0.0)
        t0 = time.time()
        for step in range(steps):
            x, y = batch(data, 64, 4)
            loss = F.cross_entropy(model(x).reshape(-1, cfg['vocab_size']), y.reshape(-1))
            opt.zero_grad()
            loss.backward()
            opt.step()
            if step % 20 == 0 or step == steps - 1:
                print(f'{title}: step {step} loss {loss.item():.3f} ({time.time() - t0:.0f}s)', flush=True)
        save(book, cfg, model.adapter())
        print(f'{title}: {len(data)} tokens; wrote lora-{book}/ and lora-{book}.gguf', flush=True)
    evaluate(cfg, weights, books)


if __name__ == '__main__':
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 80)

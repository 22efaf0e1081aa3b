#!/usr/bin/python3
"""Golden fixtures for the LoRA tests (tests/node/lora.test.ts): random adapters for the tiny Llama,
Qwen2 and GPT-2 fixtures, in PEFT's format (adapter_model.safetensors + adapter_config.json) and, for
the Llama one, as llama.cpp's convert_lora_to_gguf.py writes it; logits and greedy continuations of each
base with its adapter merged, in float64; and adapters for the BERT and DistilBERT encoder fixtures with
the hidden states of their batch, merged, from make_encoder_fixture.py's forward pass.

The python `peft` package is not installed here, so its semantics are written out from PEFT's source
(peft/tuners/lora/layer.py and peft/tuners/tuners_utils.py, v0.13):
  - LoraLayer.update_layer: scaling = lora_alpha / r, or lora_alpha / sqrt(r) with use_rslora
  - Linear.get_delta_weight: transpose(lora_B.weight @ lora_A.weight, fan_in_fan_out) * scaling, added
    to the base weight by merge(); fan_in_fan_out is True for GPT-2's Conv1D ([in, out] weights)
  - rank_pattern / alpha_pattern: the first key k with re.match(rf"(.*\\.)?{k}$", module name)
  - target_modules: a list of module-name suffixes, or a regex string fully matched
  - saved keys: base_model.model.<module>.lora_A.weight [r, in] and lora_B.weight [out, r]
llama.cpp (convert_lora_to_gguf.py, llama-adapter.cpp): general.type 'adapter', adapter.type 'lora',
adapter.lora.alpha; tensors '<base tensor>.lora_a' (ne [in, r]) and '.lora_b' (ne [r, out]); the q/k
permutation LlamaModel.permute applied to B's rows (LoraTorchTensor.reshape/permute act on B), scale
alpha / r per tensor. The base forward passes are make_llama_fixture.py's and make_gpt2_fixture.py's.
Run with Debian's python3-torch:  /usr/bin/python3 tools/make_lora_fixture.py
"""
import json
import os
import re
import struct
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(__file__))
import export_gguf  # noqa: E402
import make_encoder_fixture as enc  # noqa: E402
import make_gpt2_fixture as gpt2  # noqa: E402
import make_llama_fixture as llama  # noqa: E402
from make_gguf_fixture import gstr, kv, write_gguf  # noqa: E402

FIX = os.path.join(os.path.dirname(__file__), '..', 'tests', 'fixtures')
OUT = os.path.join(FIX, 'lora')


def read_safetensors(path):
    """float64 tensors of an F32 / F16 safetensors file (export_gguf.py's reader)."""
    return {k: torch.from_numpy(v.astype(np.float64)) for k, v in export_gguf.read_safetensors(path).items()}


def pattern(p, module, default):
    for k, v in (p or {}).items():
        if re.match(rf'(.*\.)?{k}$', module):
            return v
    return default


def targeted(target, module):
    if isinstance(target, str):
        return re.fullmatch(target, module) is not None
    return any(module == t or module.endswith('.' + t) for t in target)


def make_adapter(seed, cfg, modules):
    """modules: {module path: (out, in)}; returns the state dict (float64, rounded to f32) of the targeted ones."""
    g = torch.Generator().manual_seed(seed)
    sd = {}
    for m, (n_out, n_in) in modules.items():
        if not targeted(cfg['target_modules'], m):
            continue
        r = pattern(cfg.get('rank_pattern'), m, cfg['r'])
        A = torch.randn(r, n_in, generator=g, dtype=torch.float64) / n_in ** 0.5
        B = torch.randn(n_out, r, generator=g, dtype=torch.float64) * 0.1
        sd[m] = (A.to(torch.float32).to(torch.float64), B.to(torch.float32).to(torch.float64))
    return sd


def merged(weights, cfg, sd, conv1d=False):
    """PEFT's merge: W += transpose(B @ A, fan_in_fan_out) * scaling, in float64."""
    w = dict(weights)
    for m, (A, B) in sd.items():
        r = A.shape[0]
        alpha = pattern(cfg.get('alpha_pattern'), m, cfg['lora_alpha'])
        scale = alpha / r ** 0.5 if cfg.get('use_rslora') else alpha / r
        delta = B @ A
        key = m + '.weight'
        w[key] = w[key] + (delta.T if conv1d else delta) * scale
    return w


def peft_config(base, **c):
    return {'peft_type': 'LORA', 'task_type': 'CAUSAL_LM', 'base_model_name_or_path': base, 'bias': 'none', 'lora_dropout': 0.0,
            'fan_in_fan_out': False, 'use_rslora': False, 'use_dora': False, 'modules_to_save': None, 'rank_pattern': {},
            'alpha_pattern': {}, 'inference_mode': True, **c}


def write_peft(name, cfg, sd, prefix='base_model.model.'):
    tensors = {}
    for m, (A, B) in sd.items():
        tensors[f'{prefix}{m}.lora_A.weight'] = A
        tensors[f'{prefix}{m}.lora_B.weight'] = B
    llama.write_safetensors(os.path.join(OUT, f'{name}.safetensors'), tensors)
    with open(os.path.join(OUT, f'{name}.json'), 'w') as f:
        json.dump(cfg, f, indent=1)


GGUF_NAMES = {'self_attn.q_proj': 'attn_q', 'self_attn.k_proj': 'attn_k', 'self_attn.v_proj': 'attn_v', 'self_attn.o_proj': 'attn_output',
              'mlp.gate_proj': 'ffn_gate', 'mlp.up_proj': 'ffn_up', 'mlp.down_proj': 'ffn_down'}


def write_gguf_adapter(path, arch, cfg, sd, heads):
    """As convert_lora_to_gguf.py: F32 lora_a / lora_b per base tensor, llama's q/k B rows permuted."""
    tensors = []
    for m, (A, B) in sd.items():
        i, rest = re.match(r'model\.layers\.(\d+)\.(.+)$', m).groups()
        base = f'blk.{i}.{GGUF_NAMES[rest]}.weight'
        kind = rest.split('.')[-1]
        if arch == 'llama' and kind in heads:
            B = torch.from_numpy(llama.permute(B.numpy(), heads[kind]))
        r = A.shape[0]
        tensors.append((base + '.lora_a', [A.shape[1], r], 0, A.numpy().astype(np.float32).tobytes()))
        tensors.append((base + '.lora_b', [r, B.shape[0]], 0, B.numpy().astype(np.float32).tobytes()))
    meta = [
        kv('general.architecture', 8, gstr(arch)),
        kv('general.type', 8, gstr('adapter')),
        kv('adapter.type', 8, gstr('lora')),
        kv('adapter.lora.alpha', 6, struct.pack('<f', cfg['lora_alpha'])),
    ]
    write_gguf(path, tensors, meta)


def llama_modules(c):
    C, I, H, KVH = c['hidden_size'], c['intermediate_size'], c['num_attention_heads'], c['num_key_value_heads']
    D = C // H
    mods = {}
    for i in range(c['num_hidden_layers']):
        p = f'model.layers.{i}.'
        mods.update({p + 'self_attn.q_proj': (H * D, C), p + 'self_attn.k_proj': (KVH * D, C), p + 'self_attn.v_proj': (KVH * D, C),
                     p + 'self_attn.o_proj': (C, H * D), p + 'mlp.gate_proj': (I, C), p + 'mlp.up_proj': (I, C),
                     p + 'mlp.down_proj': (C, I)})
    return mods


def main():
    os.makedirs(OUT, exist_ok=True)
    base = json.load(open(os.path.join(FIX, 'llama', 'expected.json')))
    expected = {}
    all_linear = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj']
    for model in ['llama', 'qwen2']:
        c = base[model]['config']
        w = read_safetensors(os.path.join(FIX, 'llama', f'{model}.safetensors'))
        mods = llama_modules(c)
        ids = [(i * 31 + 5) % c['vocab_size'] for i in range(9)]
        cases = {
            # a: every linear layer, a rank_pattern; written as GGUF too (llama.cpp has no rsLoRA or alpha_pattern)
            'a': peft_config(model, r=4, lora_alpha=8, target_modules=all_linear, rank_pattern={'down_proj': 2}),
            # b: rsLoRA, a regex target_modules, an alpha_pattern
            'b': peft_config(model, r=8, lora_alpha=6, use_rslora=True, target_modules=r'.*\.(q_proj|v_proj|up_proj)',
                             alpha_pattern={'up_proj': 3}),
        }
        expected[model] = {'ids': ids, 'base': llama.forward(c, w, ids).flatten().tolist()}
        for k, cfg in cases.items():
            sd = make_adapter(100 + len(k) + ord(k) + len(model), cfg, mods)
            write_peft(f'{model}-{k}', cfg, sd)
            wm = merged(w, cfg, sd)
            expected[model][k] = {'logits': llama.forward(c, wm, ids).flatten().tolist(), 'greedy': llama.greedy(c, wm, ids, 6)}
            if k == 'a':
                heads = {'q_proj': c['num_attention_heads'], 'k_proj': c['num_key_value_heads']}
                write_gguf_adapter(os.path.join(OUT, f'{model}-{k}.gguf'), c['model_type'], cfg, sd, heads)
    # GPT-2: Conv1D weights [in, out]; PEFT's fan_in_fan_out
    w = read_safetensors(os.path.join(FIX, 'gpt2', 'tiny-a.safetensors'))
    C = gpt2.CONFIG['n_embd']
    mods = {}
    for i in range(gpt2.CONFIG['n_layer']):
        mods.update({f'transformer.h.{i}.attn.c_attn': (3 * C, C), f'transformer.h.{i}.attn.c_proj': (C, C),
                     f'transformer.h.{i}.mlp.c_fc': (4 * C, C), f'transformer.h.{i}.mlp.c_proj': (C, 4 * C)})
    ids = [(i * 13 + 2) % gpt2.CONFIG['vocab_size'] for i in range(9)]
    expected['gpt2'] = {'ids': ids, 'base': gpt2.forward(w, ids).flatten().tolist()}
    cases = {
        'a': peft_config('gpt2', r=4, lora_alpha=8, fan_in_fan_out=True, target_modules=['c_attn', 'c_proj', 'c_fc']),
        'b': peft_config('gpt2', r=6, lora_alpha=4, use_rslora=True, fan_in_fan_out=True, target_modules=['c_attn', 'c_fc'],
                         rank_pattern={'c_fc': 3}),
    }
    for k, cfg in cases.items():
        sd = make_adapter(200 + ord(k), cfg, mods)
        write_peft(f'gpt2-{k}', cfg, sd)
        wm = merged({('transformer.' + n): t for n, t in w.items()}, cfg, sd, conv1d=True)
        wm = {n[len('transformer.'):]: t for n, t in wm.items()}
        ids2 = list(ids)
        for _ in range(6):
            ids2.append(int(gpt2.forward(wm, ids2)[-1].argmax()))
        expected['gpt2'][k] = {'logits': gpt2.forward(wm, ids).flatten().tolist(), 'greedy': ids2[len(ids):]}
    # Encoders (make_encoder_fixture.py's float64 forward): BERT on every kind of linear layer ('output.dense'
    # selects the attention output and the layer output), DistilBERT with rsLoRA.
    e = json.load(open(os.path.join(FIX, 'encoder', 'expected.json')))
    cases = {
        'bert': peft_config('bert', r=4, lora_alpha=8, target_modules=['query', 'key', 'value', 'output.dense', 'intermediate.dense']),
        'distilbert': peft_config('distilbert', r=3, lora_alpha=5, use_rslora=True, target_modules=['q_lin', 'v_lin', 'out_lin', 'lin1', 'lin2']),
    }
    for kind, cfg in cases.items():
        w = read_safetensors(os.path.join(FIX, 'encoder', f'{kind}.safetensors'))
        C, I = enc.C, enc.I
        mods = {}
        for i in range(enc.L):
            if kind == 'bert':
                p = f'bert.encoder.layer.{i}.'
                mods.update({p + 'attention.self.query': (C, C), p + 'attention.self.key': (C, C), p + 'attention.self.value': (C, C),
                             p + 'attention.output.dense': (C, C), p + 'intermediate.dense': (I, C), p + 'output.dense': (C, I)})
            else:
                p = f'distilbert.transformer.layer.{i}.'
                mods.update({p + 'attention.q_lin': (C, C), p + 'attention.k_lin': (C, C), p + 'attention.v_lin': (C, C),
                             p + 'attention.out_lin': (C, C), p + 'ffn.lin1': (I, C), p + 'ffn.lin2': (C, I)})
        sd = make_adapter(300 + len(kind), cfg, mods)
        write_peft(f'{kind}-a', cfg, sd)
        wm = merged(w, cfg, sd)
        ref = e[kind]
        outs = [enc.forward(kind, ref['config'], wm, ids, types)[0] for ids, types in zip(ref['ids'], ref['typeIds'])]
        expected[kind] = {'hidden': [o.flatten().tolist() for o in outs]}
    with open(os.path.join(OUT, 'expected.json'), 'w') as f:
        json.dump(expected, f)
    print('wrote', OUT)


if __name__ == '__main__':
    main()

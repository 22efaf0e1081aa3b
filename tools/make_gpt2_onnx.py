"""GPT-2 124M with random weights, twice: as an ONNX decoder with a KV cache (for onnxruntime-web)
and as a layout-A safetensors file (for this engine), so the bench's `gpt2-ort` cases run the same
model on both. Written to bench/.cache/ (about 1 GB, never committed); `npm run bench:browser`
serves that folder to the page.

    /usr/bin/python3 tools/make_gpt2_onnx.py

The forward pass is the one tools/make_gpt2_fixture.py follows (Hugging Face's GPT2LMHeadModel:
Conv1D weights [in, out], pre-norm blocks, GELU tanh approximation, layer norm eps 1e-5, attention
scaled by 1/sqrt(head_dim), tied lm_head). ONNX inputs: input_ids int64 [1, T] and, per layer,
past_key_i / past_value_i float32 [1, 12, P, 64]; outputs: logits [1, T, 50257] and present_key_i /
present_value_i [1, 12, P + T, 64]. Weights ~ N(0, 0.02) (wpe 0.01), layer norms 1 and 0, seed 0.
"""
import math
import os

import torch

from make_gpt2_fixture import save_safetensors

OUT = os.path.join(os.path.dirname(__file__), '..', 'bench', '.cache')
L, H, C, V, P = 12, 12, 768, 50257, 1024
D = C // H


def weights():
    g = torch.Generator().manual_seed(0)
    r = lambda *s, std=0.02: torch.randn(*s, generator=g) * std
    w = {'wte.weight': r(V, C), 'wpe.weight': r(P, C, std=0.01)}
    for i in range(L):
        p = f'h.{i}.'
        w[p + 'ln_1.weight'] = torch.ones(C)
        w[p + 'ln_1.bias'] = torch.zeros(C)
        w[p + 'attn.c_attn.weight'] = r(C, 3 * C)
        w[p + 'attn.c_attn.bias'] = r(3 * C)
        w[p + 'attn.c_proj.weight'] = r(C, C)
        w[p + 'attn.c_proj.bias'] = r(C)
        w[p + 'ln_2.weight'] = torch.ones(C)
        w[p + 'ln_2.bias'] = torch.zeros(C)
        w[p + 'mlp.c_fc.weight'] = r(C, 4 * C)
        w[p + 'mlp.c_fc.bias'] = r(4 * C)
        w[p + 'mlp.c_proj.weight'] = r(4 * C, C)
        w[p + 'mlp.c_proj.bias'] = r(C)
    w['ln_f.weight'] = torch.ones(C)
    w['ln_f.bias'] = torch.zeros(C)
    return w


class Decoder(torch.nn.Module):
    def __init__(self, w):
        super().__init__()
        self.w = torch.nn.ParameterDict({k.replace('.', '_'): torch.nn.Parameter(v, requires_grad=False) for k, v in w.items()})

    def p(self, name):
        return self.w[name.replace('.', '_')]

    def forward(self, input_ids, *past):
        T = input_ids.shape[1]
        past_len = past[0].shape[2]
        pos = torch.arange(T) + past_len
        x = self.p('wte.weight')[input_ids] + self.p('wpe.weight')[pos]
        q_pos = pos[:, None]
        k_pos = torch.arange(past_len + T)[None, :]
        mask = k_pos <= q_pos  # [T, P + T]
        presents = []
        ln = lambda x, n: torch.nn.functional.layer_norm(x, (C,), self.p(n + '.weight'), self.p(n + '.bias'), 1e-5)
        for i in range(L):
            pre = f'h.{i}.'
            h = ln(x, pre + 'ln_1')
            qkv = h @ self.p(pre + 'attn.c_attn.weight') + self.p(pre + 'attn.c_attn.bias')
            q, k, v = qkv.split(C, dim=-1)
            heads = lambda t: t.view(1, -1, H, D).transpose(1, 2)
            q, k, v = heads(q), heads(k), heads(v)
            k = torch.cat([past[2 * i], k], dim=2)
            v = torch.cat([past[2 * i + 1], v], dim=2)
            presents += [k, v]
            att = (q @ k.transpose(-1, -2)) / math.sqrt(D)
            att = att.masked_fill(~mask, -1e9).softmax(-1)
            y = (att @ v).transpose(1, 2).reshape(1, -1, C)
            x = x + y @ self.p(pre + 'attn.c_proj.weight') + self.p(pre + 'attn.c_proj.bias')
            h = ln(x, pre + 'ln_2')
            f = h @ self.p(pre + 'mlp.c_fc.weight') + self.p(pre + 'mlp.c_fc.bias')
            f = 0.5 * f * (1 + torch.tanh(math.sqrt(2 / math.pi) * (f + 0.044715 * f ** 3)))
            x = x + f @ self.p(pre + 'mlp.c_proj.weight') + self.p(pre + 'mlp.c_proj.bias')
        x = ln(x, 'ln_f')
        return (x @ self.p('wte.weight').T, *presents)


def main():
    os.makedirs(OUT, exist_ok=True)
    w = weights()
    save_safetensors(os.path.join(OUT, 'gpt2-random.safetensors'), w, 'F32')
    model = Decoder(w).eval()
    ids = torch.tensor([[1, 2, 3]], dtype=torch.int64)
    past = tuple(torch.zeros(1, H, 2, D) for _ in range(2 * L))
    past_names = [f'past_{kind}_{i}' for i in range(L) for kind in ('key', 'value')]
    present_names = [f'present_{kind}_{i}' for i in range(L) for kind in ('key', 'value')]
    dynamic = {'input_ids': {1: 'T'}, 'logits': {1: 'T'}}
    dynamic.update({n: {2: 'P'} for n in past_names})
    dynamic.update({n: {2: 'PT'} for n in present_names})
    path = os.path.join(OUT, 'gpt2-random.onnx')
    with torch.no_grad():
        torch.onnx.export(model, (ids, *past), path, input_names=['input_ids', *past_names],
                          output_names=['logits', *present_names], dynamic_axes=dynamic, opset_version=17)
    print(f'wrote {path} ({os.path.getsize(path) >> 20} MiB) and gpt2-random.safetensors')


if __name__ == '__main__':
    main()

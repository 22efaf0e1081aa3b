"""BERT encoders with random weights, each twice: as an ONNX model exported the way transformers.js's
feature-extraction models are (a padded batch: input_ids, attention_mask and token_type_ids int64
[B, T] in, last_hidden_state float32 [B, T, C] out; attention from standard operators with the mask
added to the scores), and as a safetensors file for this engine, so the bench's `bert` suite runs the
same model through onnxruntime-web and through Encoder. Written to bench/.cache/ (never committed);
`npm run bench:browser` serves that folder to the page.

    /usr/bin/python3 tools/make_bert_onnx.py

Models: minilm-L6 (all-MiniLM-L6-v2's shapes: 6 layers, hidden 384, 12 heads, MLP 1536, vocabulary
30522, 512 positions; about 90 MB each file) and bert-tiny (the suite's --quick shapes: 2 layers,
hidden 128, 4 heads, MLP 512, vocabulary 1000). The forward pass is Hugging Face's BertModel (post-norm
blocks, exact-erf GELU, LayerNorm eps 1e-12, scores scaled by 1/sqrt(head_dim), the padding keys
masked by adding the minimum float32 to their scores). Weights ~ N(0, 0.02), layer norms 1 and 0,
seed 0; the safetensors keys are those sentence-transformers saves (no 'bert.' prefix).
"""
import math
import os

import torch

from make_gpt2_fixture import save_safetensors

OUT = os.path.join(os.path.dirname(__file__), '..', 'bench', '.cache')
# name: (layers, hidden, heads, intermediate, vocabulary); the configs of bench/suites/bert.ts
MODELS = {'minilm-L6': (6, 384, 12, 1536, 30522), 'bert-tiny': (2, 128, 4, 512, 1000)}
P = 512


def weights(L, C, I, V):
    g = torch.Generator().manual_seed(0)
    r = lambda *s: torch.randn(*s, generator=g) * 0.02  # noqa: E731
    w = {'embeddings.word_embeddings.weight': r(V, C), 'embeddings.position_embeddings.weight': r(P, C),
         'embeddings.token_type_embeddings.weight': r(2, C),
         'embeddings.LayerNorm.weight': torch.ones(C), 'embeddings.LayerNorm.bias': torch.zeros(C)}
    for i in range(L):
        p = f'encoder.layer.{i}.'
        for n, (o, k) in {'attention.self.query': (C, C), 'attention.self.key': (C, C), 'attention.self.value': (C, C),
                          'attention.output.dense': (C, C), 'intermediate.dense': (I, C), 'output.dense': (C, I)}.items():
            w[f'{p}{n}.weight'] = r(o, k)
            w[f'{p}{n}.bias'] = r(o)
        for n in ('attention.output.LayerNorm', 'output.LayerNorm'):
            w[f'{p}{n}.weight'] = torch.ones(C)
            w[f'{p}{n}.bias'] = torch.zeros(C)
    return w


class Bert(torch.nn.Module):
    def __init__(self, w, L, H):
        super().__init__()
        self.L, self.H = L, H
        self.w = torch.nn.ParameterDict({k.replace('.', '_'): torch.nn.Parameter(v, requires_grad=False) for k, v in w.items()})

    def p(self, name):
        return self.w[name.replace('.', '_')]

    def forward(self, input_ids, attention_mask, token_type_ids):
        B, T = input_ids.shape
        C = self.p('embeddings.word_embeddings.weight').shape[1]
        D = C // self.H
        ln = lambda x, n: torch.nn.functional.layer_norm(x, (C,), self.p(n + '.weight'), self.p(n + '.bias'), 1e-12)  # noqa: E731
        lin = lambda x, n: x @ self.p(n + '.weight').T + self.p(n + '.bias')  # noqa: E731
        x = (self.p('embeddings.word_embeddings.weight')[input_ids] + self.p('embeddings.position_embeddings.weight')[:T]
             + self.p('embeddings.token_type_embeddings.weight')[token_type_ids])
        x = ln(x, 'embeddings.LayerNorm')
        bias = (1.0 - attention_mask[:, None, None, :].to(torch.float32)) * torch.finfo(torch.float32).min
        heads = lambda t: t.view(B, T, self.H, D).transpose(1, 2)  # noqa: E731
        for i in range(self.L):
            p = f'encoder.layer.{i}.'
            q, k, v = (heads(lin(x, p + f'attention.self.{n}')) for n in ('query', 'key', 'value'))
            a = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(D) + bias, dim=-1)
            ctx = (a @ v).transpose(1, 2).reshape(B, T, C)
            x = ln(lin(ctx, p + 'attention.output.dense') + x, p + 'attention.output.LayerNorm')
            f = torch.nn.functional.gelu(lin(x, p + 'intermediate.dense'))
            x = ln(lin(f, p + 'output.dense') + x, p + 'output.LayerNorm')
        return x


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, (L, C, H, I, V) in MODELS.items():
        w = weights(L, C, I, V)
        save_safetensors(os.path.join(OUT, f'{name}-random.safetensors'), w, 'F32')
        model = Bert(w, L, H).eval()
        ids = torch.tensor([[101, 7, 8, 102], [101, 9, 102, 0]], dtype=torch.int64)
        mask = (ids != 0).to(torch.int64)
        path = os.path.join(OUT, f'{name}-random.onnx')
        dyn = {n: {0: 'B', 1: 'T'} for n in ('input_ids', 'attention_mask', 'token_type_ids', 'last_hidden_state')}
        with torch.no_grad():
            torch.onnx.export(model, (ids, mask, torch.zeros_like(ids)), path,
                              input_names=['input_ids', 'attention_mask', 'token_type_ids'],
                              output_names=['last_hidden_state'], dynamic_axes=dyn, opset_version=14)
        print(f'wrote {path} ({os.path.getsize(path) >> 20} MiB) and {name}-random.safetensors', flush=True)


if __name__ == '__main__':
    main()

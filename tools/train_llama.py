#!/usr/bin/python3
"""The "Small language models" page's bundled model: a tiny Llama-architecture model (RMSNorm, RoPE,
grouped-query attention, SwiGLU, tied embeddings) trained on the King James Bible with its own
byte-level BPE tokenizer, written as a Hugging Face model folder that Llama.fromSafetensors and
TextTokenizer.fromJSON load like any SmolLM2 download:
  public/models/kjv-llama/config.json             LlamaForCausalLM config
  public/models/kjv-llama/model.safetensors       weights (F16), Hugging Face names
  public/models/kjv-llama/tokenizer.json          byte-level BPE (GPT-2's byte alphabet and split regex)
  public/models/kjv-llama/tokenizer_config.json   special tokens and a ChatML chat template
and, for the tokenizer tests, tests/fixtures/llama/tokenizer-expected.json (ids this script's own BPE
encoder gives for sample texts) and tests/fixtures/llama/tokenizer.gguf (the same vocabulary as GGUF
metadata: tokenizer.ggml.model 'gpt2', tokens, merges, token_type, bos/eos ids, chat_template), written
as llama.cpp's convert_hf_to_gguf.py lays these keys out (gguf-py's constants).
The BPE trainer is the classic one (Sennrich et al.): count pre-split words, merge the most frequent
adjacent pair, repeat.
Run with Debian's python3-torch and python3-regex:  /usr/bin/python3 tools/train_llama.py [steps]
"""
import collections
import json
import math
import os
import struct
import sys
import time

import regex
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
from corpus import batch, kjv_text  # noqa: E402
from make_gguf_fixture import gstr, kv, write_gguf  # noqa: E402

ROOT = os.path.join(os.path.dirname(__file__), '..')
OUT = os.path.join(ROOT, 'public', 'models', 'kjv-llama')
FIXTURES = os.path.join(ROOT, 'tests', 'fixtures', 'llama')
# GPT-2's pre-tokenizer split (the Split pre-tokenizer of tokenizer.json uses the same pattern).
SPLIT = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
SPECIALS = ['<|endoftext|>', '<|im_start|>', '<|im_end|>']
VOCAB = 1024
CHAT_TEMPLATE = (
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)


def bytes_to_unicode():
    """GPT-2's map from bytes to printable characters (the ByteLevel alphabet)."""
    bs = list(range(ord('!'), ord('~') + 1)) + list(range(ord('¡'), ord('¬') + 1)) + list(range(ord('®'), ord('ÿ') + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


B2U = bytes_to_unicode()


def train_bpe(text, vocab_size):
    words = collections.Counter(''.join(B2U[b] for b in w.encode()) for w in regex.findall(SPLIT, text))
    pieces = {w: list(w) for w in words}
    alphabet = sorted(set(B2U.values()))
    merges = []
    while len(alphabet) + len(merges) + len(SPECIALS) < vocab_size:
        pairs = collections.Counter()
        for w, n in words.items():
            p = pieces[w]
            for a, b in zip(p, p[1:]):
                pairs[a, b] += n
        if not pairs:
            break
        (a, b), _ = max(pairs.items(), key=lambda kv: (kv[1], kv[0]))
        merges.append((a, b))
        for w in words:
            p = pieces[w]
            i, out = 0, []
            while i < len(p):
                if i + 1 < len(p) and p[i] == a and p[i + 1] == b:
                    out.append(a + b)
                    i += 2
                else:
                    out.append(p[i])
                    i += 1
            pieces[w] = out
    vocab = {t: i for i, t in enumerate(alphabet + [a + b for a, b in merges])}
    for s in SPECIALS:
        vocab[s] = len(vocab)
    return vocab, merges


def encode(text, vocab, merges, cache=None):
    """BPE by merge rank, as the tokenizers library applies merges; special tokens matched first."""
    rank = {m: i for i, m in enumerate(merges)}
    cache = {} if cache is None else cache
    ids = []
    for part in regex.split('(' + '|'.join(regex.escape(s) for s in SPECIALS) + ')', text):
        if part in SPECIALS:
            ids.append(vocab[part])
            continue
        for w in regex.findall(SPLIT, part):
            if w in cache:
                ids += cache[w]
                continue
            p = [B2U[b] for b in w.encode()]
            while len(p) > 1:
                best = min(((rank.get((a, b), math.inf), i) for i, (a, b) in enumerate(zip(p, p[1:]))))
                if best[0] == math.inf:
                    break
                i = best[1]
                p = p[:i] + [p[i] + p[i + 1]] + p[i + 2:]
            cache[w] = [vocab[t] for t in p]
            ids += cache[w]
    return ids


def tokenizer_json(vocab, merges):
    eos = vocab['<|endoftext|>']
    return {
        'version': '1.0',
        'truncation': None,
        'padding': None,
        'added_tokens': [
            {'id': vocab[s], 'content': s, 'single_word': False, 'lstrip': False, 'rstrip': False, 'normalized': False, 'special': True}
            for s in SPECIALS
        ],
        'normalizer': None,
        'pre_tokenizer': {'type': 'Sequence', 'pretokenizers': [
            {'type': 'Split', 'pattern': {'Regex': SPLIT}, 'behavior': 'Isolated', 'invert': False},
            {'type': 'ByteLevel', 'add_prefix_space': False, 'trim_offsets': True, 'use_regex': False},
        ]},
        'post_processor': {'type': 'ByteLevel', 'add_prefix_space': False, 'trim_offsets': False, 'use_regex': False},
        'decoder': {'type': 'ByteLevel', 'add_prefix_space': False, 'trim_offsets': True, 'use_regex': False},
        'model': {'type': 'BPE', 'dropout': None, 'unk_token': None, 'continuing_subword_prefix': None, 'end_of_word_suffix': None,
                  'fuse_unk': False, 'byte_fallback': False, 'ignore_merges': False, 'vocab': vocab,
                  'merges': [f'{a} {b}' for a, b in merges]},
    }, eos


class Llama(torch.nn.Module):
    """Hugging Face's LlamaForCausalLM, written out (see make_llama_fixture.py's float64 forward)."""

    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        C, I, V = cfg['hidden_size'], cfg['intermediate_size'], cfg['vocab_size']
        H, KVH, L = cfg['num_attention_heads'], cfg['num_key_value_heads'], cfg['num_hidden_layers']
        D = C // H
        p = lambda *s, std=0.02: torch.nn.Parameter(torch.randn(*s) * std)
        w = {'model.embed_tokens.weight': p(V, C), 'model.norm.weight': torch.nn.Parameter(torch.ones(C))}
        for i in range(L):
            q = f'model.layers.{i}.'
            w[q + 'input_layernorm.weight'] = torch.nn.Parameter(torch.ones(C))
            w[q + 'post_attention_layernorm.weight'] = torch.nn.Parameter(torch.ones(C))
            out = 0.02 / math.sqrt(2 * L)
            for n, (rows, cols, std) in {'self_attn.q_proj': (H * D, C, 0.02), 'self_attn.k_proj': (KVH * D, C, 0.02),
                                         'self_attn.v_proj': (KVH * D, C, 0.02), 'self_attn.o_proj': (C, H * D, out),
                                         'mlp.gate_proj': (I, C, 0.02), 'mlp.up_proj': (I, C, 0.02), 'mlp.down_proj': (C, I, out)}.items():
                w[q + n + '.weight'] = p(rows, cols, std=std)
        self.w = torch.nn.ParameterDict({k.replace('.', '__'): v for k, v in w.items()})
        inv = 1.0 / cfg['rope_theta'] ** (torch.arange(0, D, 2, dtype=torch.float32) / D)
        freqs = torch.outer(torch.arange(cfg['max_position_embeddings'], dtype=torch.float32), inv)
        self.cos, self.sin = torch.cat([freqs, freqs], -1).cos(), torch.cat([freqs, freqs], -1).sin()

    def get(self, name):
        return self.w[name.replace('.', '__')]

    def forward(self, ids):
        cfg, g = self.cfg, self.get
        B, T = ids.shape
        C, H, KVH = cfg['hidden_size'], cfg['num_attention_heads'], cfg['num_key_value_heads']
        D, eps = C // H, cfg['rms_norm_eps']
        rms = lambda x, w: x * torch.rsqrt((x * x).mean(-1, keepdim=True) + eps) * w
        rot = lambda x: torch.cat([-x[..., D // 2:], x[..., :D // 2]], -1)
        cos, sin = self.cos[:T], self.sin[:T]
        x = g('model.embed_tokens.weight')[ids]
        for i in range(cfg['num_hidden_layers']):
            p = f'model.layers.{i}.'
            h = rms(x, g(p + 'input_layernorm.weight'))
            q = (h @ g(p + 'self_attn.q_proj.weight').T).view(B, T, H, D).transpose(1, 2)
            k = (h @ g(p + 'self_attn.k_proj.weight').T).view(B, T, KVH, D).transpose(1, 2)
            v = (h @ g(p + 'self_attn.v_proj.weight').T).view(B, T, KVH, D).transpose(1, 2)
            q, k = q * cos + rot(q) * sin, k * cos + rot(k) * sin
            k, v = k.repeat_interleave(H // KVH, 1), v.repeat_interleave(H // KVH, 1)
            mask = torch.triu(torch.full((T, T), float('-inf')), 1)
            att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(D) + mask, -1) @ v
            x = x + att.transpose(1, 2).reshape(B, T, C) @ g(p + 'self_attn.o_proj.weight').T
            h = rms(x, g(p + 'post_attention_layernorm.weight'))
            x = x + (F.silu(h @ g(p + 'mlp.gate_proj.weight').T) * (h @ g(p + 'mlp.up_proj.weight').T)) @ g(p + 'mlp.down_proj.weight').T
        return rms(x, g('model.norm.weight')) @ g('model.embed_tokens.weight').T


def save_f16_safetensors(path, tensors):
    header, data = {'__metadata__': {'format': 'pt'}}, b''
    for name, t in tensors.items():
        b = t.detach().to(torch.float16).contiguous().numpy().tobytes()
        header[name] = {'dtype': 'F16', 'shape': list(t.shape), 'data_offsets': [len(data), len(data) + len(b)]}
        data += b
    h = json.dumps(header).encode()
    h += b' ' * (-len(h) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(h)) + h + data)


def main(steps):
    torch.manual_seed(0)
    torch.set_num_threads(2)
    os.makedirs(OUT, exist_ok=True)
    text = kjv_text()
    t0 = time.time()
    vocab, merges = train_bpe(text, VOCAB)
    print(f'tokenizer: {len(vocab)} tokens, {len(merges)} merges ({time.time() - t0:.0f}s)', flush=True)
    tok, eos = tokenizer_json(vocab, merges)
    with open(os.path.join(OUT, 'tokenizer.json'), 'w') as f:
        json.dump(tok, f, ensure_ascii=False)
    with open(os.path.join(OUT, 'tokenizer_config.json'), 'w') as f:
        json.dump({'bos_token': None, 'eos_token': '<|endoftext|>', 'unk_token': None, 'model_max_length': 256,
                   'add_bos_token': False, 'chat_template': CHAT_TEMPLATE,
                   'added_tokens_decoder': {str(vocab[s]): {'content': s, 'special': True} for s in SPECIALS}}, f, ensure_ascii=False)
    samples = ['In the beginning God created the heaven and the earth.', 'And Jesus wept; 12 disciples, 3 days.',
               '<|im_start|>user\nWho was Moses?<|im_end|>\n']
    # Round trips beyond the training alphabet: UTF-8 bytes of any text are tokens.
    unicode = 'Grüße — 東京 ☃ 🙂'
    os.makedirs(FIXTURES, exist_ok=True)
    with open(os.path.join(FIXTURES, 'tokenizer-expected.json'), 'w') as f:
        json.dump({'samples': [{'text': s, 'ids': encode(s, vocab, merges)} for s in samples + [unicode]]}, f, ensure_ascii=False)
    tokens = [t for t, _ in sorted(vocab.items(), key=lambda kv: kv[1])]
    arr = lambda vtype, items, pack: struct.pack('<IQ', vtype, len(items)) + b''.join(pack(x) for x in items)
    write_gguf(os.path.join(FIXTURES, 'tokenizer.gguf'), [], [
        kv('general.architecture', 8, gstr('llama')),
        kv('general.alignment', 4, struct.pack('<I', 32)),
        kv('tokenizer.ggml.model', 8, gstr('gpt2')),
        kv('tokenizer.ggml.pre', 8, gstr('gpt2')),
        kv('tokenizer.ggml.tokens', 9, arr(8, tokens, gstr)),
        kv('tokenizer.ggml.token_type', 9, arr(5, [3 if t in SPECIALS else 1 for t in tokens], lambda x: struct.pack('<i', x))),
        kv('tokenizer.ggml.merges', 9, arr(8, [f'{a} {b}' for a, b in merges], gstr)),
        kv('tokenizer.ggml.eos_token_id', 4, struct.pack('<I', eos)),
        kv('tokenizer.ggml.add_bos_token', 7, struct.pack('<?', False)),
        kv('tokenizer.chat_template', 8, gstr(CHAT_TEMPLATE)),
    ])
    if steps == 0:
        return
    cfg = {'architectures': ['LlamaForCausalLM'], 'model_type': 'llama', 'vocab_size': len(vocab), 'hidden_size': 128,
           'intermediate_size': 384, 'num_hidden_layers': 4, 'num_attention_heads': 4, 'num_key_value_heads': 2,
           'rms_norm_eps': 1e-5, 'rope_theta': 10000.0, 'max_position_embeddings': 256, 'tie_word_embeddings': True,
           'bos_token_id': None, 'eos_token_id': eos, 'torch_dtype': 'float16'}
    data = torch.tensor(encode(text, vocab, merges), dtype=torch.long)
    print(f'corpus: {len(data)} tokens', flush=True)
    model = Llama(cfg)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.01)
    seq, size = 128, 12
    for step in range(steps):
        lr = 3e-3 * min(1, (step + 1) / 100) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * step / steps)))
        for gr in opt.param_groups:
            gr['lr'] = lr
        x, y = batch(data, seq, size)
        loss = F.cross_entropy(model(x).reshape(-1, len(vocab)), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if step % 50 == 0 or step == steps - 1:
            print(f'step {step} loss {loss.item():.3f} ({time.time() - t0:.0f}s)', flush=True)
    save_f16_safetensors(os.path.join(OUT, 'model.safetensors'), {k.replace('__', '.'): v for k, v in model.w.items()})
    with open(os.path.join(OUT, 'config.json'), 'w') as f:
        json.dump({**cfg, 'corpus': 'King James Bible (bible-kjv-text)', 'steps': steps}, f, indent=1)
    print('->', OUT)


if __name__ == '__main__':
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 800)

#!/usr/bin/python3
"""Golden fixtures for the Llama-family tests: tiny random models in Hugging Face's layout, with logits
and a greedy continuation computed here in float64 by this script's own forward pass, which follows
transformers' LlamaForCausalLM / Qwen2ForCausalLM (modeling_llama.py, modeling_qwen2.py):
  - RMSNorm: x / sqrt(mean(x^2) + eps) * weight
  - RoPE, rotate-half: q * cos + rotate_half(q) * sin, cos/sin = cat(freqs, freqs), inv_freq =
    1 / theta^(2i / head_dim); the 'llama3' rope_scaling as _compute_llama3_parameters
    (modeling_rope_utils.py) rescales inv_freq by wavelength
  - grouped-query attention (repeat_kv), causal softmax scaled by 1 / sqrt(head_dim)
  - SwiGLU MLP: down(silu(gate(x)) * up(x)); Qwen2's q/k/v biases; tied or untied lm_head

Models (random weights):
  llama   Llama-3 style: GQA 4 heads / 2 KV heads, tied embeddings, llama3 rope scaling, theta 5e5.
          Its matrices are drawn as llama.cpp blocks (Q8_0, Q4_0, Q4_K, F16; norms F32) and written
          twice: llama.safetensors holds their dequantised values in HF's layout, llama.gguf the
          blocks as llama.cpp's convert_hf_to_gguf.py writes a llama model (token_embd, blk.N.attn_q,
          ..., with attn_q / attn_k rows permuted for its interleaved RoPE: LlamaModel.permute).
  qwen2   Qwen2 style: GQA 4 / 1, q/k/v biases, untied lm_head, theta 1e6, F32.

Block layouts and dequantisation come from make_gguf_fixture.py (llama.cpp's ggml-common.h).
Run with Debian's python3-torch:  /usr/bin/python3 tools/make_llama_fixture.py
"""
import json
import math
import os
import struct
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(__file__))
from make_gguf_fixture import BLOCKS, gstr, kv, write_gguf  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), '..', 'tests', 'fixtures', 'llama')

LLAMA = dict(
    model_type='llama', architectures=['LlamaForCausalLM'], vocab_size=97, hidden_size=128, intermediate_size=256,
    num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2, rms_norm_eps=1e-5, rope_theta=500000.0,
    rope_scaling=dict(rope_type='llama3', factor=8.0, low_freq_factor=1.0, high_freq_factor=4.0, original_max_position_embeddings=16),
    max_position_embeddings=64, tie_word_embeddings=True, bos_token_id=1, eos_token_id=2,
)
QWEN2 = dict(
    model_type='qwen2', architectures=['Qwen2ForCausalLM'], vocab_size=101, hidden_size=64, intermediate_size=96,
    num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=1, rms_norm_eps=1e-6, rope_theta=1000000.0,
    max_position_embeddings=64, tie_word_embeddings=False, bos_token_id=3, eos_token_id=[4, 5],
)
# ggml types of the llama model's matrices (K = ne[0] must fit each block size)
F32, F16, Q4_0, Q8_0, Q4_K = 0, 1, 2, 8, 12
LLAMA_TYPES = {'token_embd': Q8_0, 'attn_q': Q8_0, 'attn_k': Q8_0, 'attn_v': F16, 'attn_output': F16,
               'ffn_gate': Q4_0, 'ffn_up': Q4_0, 'ffn_down': Q4_K}


def inv_freq(cfg):
    D = cfg['hidden_size'] // cfg['num_attention_heads']
    inv = 1.0 / cfg['rope_theta'] ** (torch.arange(0, D, 2, dtype=torch.float64) / D)
    sc = cfg.get('rope_scaling')
    if sc and sc['rope_type'] == 'llama3':
        factor, lo, hi, old = sc['factor'], sc['low_freq_factor'], sc['high_freq_factor'], sc['original_max_position_embeddings']
        low_wavelen, high_wavelen = old / lo, old / hi
        wavelen = 2 * math.pi / inv
        scaled = torch.where(wavelen > low_wavelen, inv / factor, inv)
        smooth = (old / wavelen - lo) / (hi - lo)
        smoothed = (1 - smooth) * scaled / factor + smooth * scaled
        medium = ~(wavelen < high_wavelen) & ~(wavelen > low_wavelen)
        inv = torch.where(medium, smoothed, scaled)
    return inv


def rms(x, w, eps):
    return x / torch.sqrt((x * x).mean(-1, keepdim=True) + eps) * w


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat([-x[..., h:], x[..., :h]], -1)


def forward(cfg, w, ids):
    C, H, KVH = cfg['hidden_size'], cfg['num_attention_heads'], cfg['num_key_value_heads']
    D, T, eps = C // H, len(ids), cfg['rms_norm_eps']
    freqs = torch.outer(torch.arange(T, dtype=torch.float64), inv_freq(cfg))
    cos, sin = torch.cat([freqs, freqs], -1).cos(), torch.cat([freqs, freqs], -1).sin()
    x = w['model.embed_tokens.weight'][ids]
    mask = torch.triu(torch.full((T, T), float('-inf'), dtype=torch.float64), 1)
    for i in range(cfg['num_hidden_layers']):
        p = f'model.layers.{i}.'
        h = rms(x, w[p + 'input_layernorm.weight'], eps)
        proj = lambda n: h @ w[p + f'self_attn.{n}_proj.weight'].T + w.get(p + f'self_attn.{n}_proj.bias', 0)
        q = proj('q').view(T, H, D).transpose(0, 1)
        k = proj('k').view(T, KVH, D).transpose(0, 1)
        v = proj('v').view(T, KVH, D).transpose(0, 1)
        q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
        k, v = k.repeat_interleave(H // KVH, 0), v.repeat_interleave(H // KVH, 0)
        att = torch.softmax(q @ k.transpose(1, 2) / math.sqrt(D) + mask, -1) @ v
        x = x + att.transpose(0, 1).reshape(T, C) @ w[p + 'self_attn.o_proj.weight'].T
        h = rms(x, w[p + 'post_attention_layernorm.weight'], eps)
        gate, up = h @ w[p + 'mlp.gate_proj.weight'].T, h @ w[p + 'mlp.up_proj.weight'].T
        x = x + (torch.nn.functional.silu(gate) * up) @ w[p + 'mlp.down_proj.weight'].T
    head = w['model.embed_tokens.weight'] if cfg['tie_word_embeddings'] else w['lm_head.weight']
    return rms(x, w['model.norm.weight'], eps) @ head.T


def greedy(cfg, w, ids, n):
    ids = list(ids)
    for _ in range(n):
        ids.append(int(forward(cfg, w, ids)[-1].argmax()))
    return ids[-n:]


def write_safetensors(path, tensors):
    header, data = {}, b''
    for name, t in tensors.items():
        b = t.to(torch.float32).contiguous().numpy().tobytes()
        header[name] = {'dtype': 'F32', 'shape': list(t.shape), 'data_offsets': [len(data), len(data) + len(b)]}
        data += b
    h = json.dumps(header).encode()
    h += b' ' * (-len(h) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(h)) + h + data)


def blocks_matrix(rng, ttype, N, K):
    """A random [N, K] matrix drawn as llama.cpp blocks: (raw GGUF bytes, its float64 values)."""
    if ttype == F16:
        w = (rng.standard_normal((N, K)) * 0.2).astype(np.float16)
        return w.tobytes(), torch.from_numpy(w.astype(np.float64))
    if ttype == Q8_0:
        d = rng.uniform(0.002, 0.006, N * K // 32).astype(np.float16)
        q = rng.integers(-127, 128, (N * K // 32, 32)).astype(np.int8)
        raw = b''.join(d[b].tobytes() + q[b].tobytes() for b in range(len(d)))
        return raw, torch.from_numpy((q.astype(np.float64) * d.astype(np.float64)[:, None]).reshape(N, K))
    qk, size, halves, deq = BLOCKS[ttype]
    raw = rng.integers(0, 256, size=(N * K // qk, size), dtype=np.uint8)
    for at in halves:  # small f16 scales
        raw[:, at:at + 2] = rng.uniform(0.004, 0.02, len(raw)).astype(np.float16).view(np.uint8).reshape(-1, 2)
    return raw.tobytes(), torch.from_numpy(np.concatenate([deq(b) for b in raw]).astype(np.float64).reshape(N, K))


def permute(w, n_head):
    """convert_hf_to_gguf.py's LlamaModel.permute: each head's rows (two halves) interleaved, for GGUF."""
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def llama_model():
    cfg = LLAMA
    rng = np.random.default_rng(11)
    C, I, V = cfg['hidden_size'], cfg['intermediate_size'], cfg['vocab_size']
    H, KVH = cfg['num_attention_heads'], cfg['num_key_value_heads']
    D = C // H
    hf, gguf = {}, []

    def matrix(hf_name, gguf_name, kind, N, K, n_perm=None):
        raw, w = blocks_matrix(rng, LLAMA_TYPES[kind], N, K)
        hf[hf_name] = w
        if n_perm:  # the GGUF file holds the permuted rows; HF's layout is what the blocks were drawn as
            rows = permute(np.arange(N), n_perm)
            size = len(raw) // N
            raw = b''.join(raw[r * size:(r + 1) * size] for r in rows)
        gguf.append((gguf_name, [K, N], LLAMA_TYPES[kind], raw))

    def norm(hf_name, gguf_name):
        w = (1 + 0.1 * rng.standard_normal(C)).astype(np.float32)
        hf[hf_name] = torch.from_numpy(w.astype(np.float64))
        gguf.append((gguf_name, [C], F32, w.tobytes()))

    matrix('model.embed_tokens.weight', 'token_embd.weight', 'token_embd', V, C)
    for i in range(cfg['num_hidden_layers']):
        p, b = f'model.layers.{i}.', f'blk.{i}.'
        norm(p + 'input_layernorm.weight', b + 'attn_norm.weight')
        matrix(p + 'self_attn.q_proj.weight', b + 'attn_q.weight', 'attn_q', H * D, C, H)
        matrix(p + 'self_attn.k_proj.weight', b + 'attn_k.weight', 'attn_k', KVH * D, C, KVH)
        matrix(p + 'self_attn.v_proj.weight', b + 'attn_v.weight', 'attn_v', KVH * D, C)
        matrix(p + 'self_attn.o_proj.weight', b + 'attn_output.weight', 'attn_output', C, H * D)
        norm(p + 'post_attention_layernorm.weight', b + 'ffn_norm.weight')
        matrix(p + 'mlp.gate_proj.weight', b + 'ffn_gate.weight', 'ffn_gate', I, C)
        matrix(p + 'mlp.up_proj.weight', b + 'ffn_up.weight', 'ffn_up', I, C)
        matrix(p + 'mlp.down_proj.weight', b + 'ffn_down.weight', 'ffn_down', C, I)
    norm('model.norm.weight', 'output_norm.weight')
    # llama.cpp stores the llama3 rope scaling as a tensor of per-pair frequency divisors (rope_freqs).
    plain = 1.0 / cfg['rope_theta'] ** (torch.arange(0, D, 2, dtype=torch.float64) / D)
    factors = (plain / inv_freq(cfg)).numpy().astype(np.float32)
    gguf.append(('rope_freqs.weight', [D // 2], F32, factors.tobytes()))
    u32 = lambda v: struct.pack('<I', v)
    f32 = lambda v: struct.pack('<f', v)
    meta = [
        kv('general.architecture', 8, gstr('llama')),
        kv('general.alignment', 4, u32(32)),
        kv('llama.block_count', 4, u32(cfg['num_hidden_layers'])),
        kv('llama.context_length', 4, u32(cfg['max_position_embeddings'])),
        kv('llama.embedding_length', 4, u32(C)),
        kv('llama.feed_forward_length', 4, u32(I)),
        kv('llama.attention.head_count', 4, u32(H)),
        kv('llama.attention.head_count_kv', 4, u32(KVH)),
        kv('llama.rope.freq_base', 6, f32(cfg['rope_theta'])),
        kv('llama.rope.dimension_count', 4, u32(D)),
        kv('llama.attention.layer_norm_rms_epsilon', 6, f32(cfg['rms_norm_eps'])),
        kv('llama.vocab_size', 4, u32(V)),
        kv('tokenizer.ggml.bos_token_id', 4, u32(cfg['bos_token_id'])),
        kv('tokenizer.ggml.eos_token_id', 4, u32(cfg['eos_token_id'])),
    ]
    write_gguf(os.path.join(OUT, 'llama.gguf'), gguf, meta)
    return cfg, hf


def qwen2_model():
    cfg = QWEN2
    g = torch.Generator().manual_seed(12)
    r = lambda *s, std=0.15: torch.randn(*s, generator=g, dtype=torch.float64) * std
    C, I, V = cfg['hidden_size'], cfg['intermediate_size'], cfg['vocab_size']
    H, KVH = cfg['num_attention_heads'], cfg['num_key_value_heads']
    D = C // H
    w = {'model.embed_tokens.weight': r(V, C, std=0.5), 'model.norm.weight': 1 + r(C, std=0.1), 'lm_head.weight': r(V, C, std=0.3)}
    for i in range(cfg['num_hidden_layers']):
        p = f'model.layers.{i}.'
        w.update({
            p + 'input_layernorm.weight': 1 + r(C, std=0.1), p + 'post_attention_layernorm.weight': 1 + r(C, std=0.1),
            p + 'self_attn.q_proj.weight': r(H * D, C), p + 'self_attn.q_proj.bias': r(H * D, std=0.5),
            p + 'self_attn.k_proj.weight': r(KVH * D, C), p + 'self_attn.k_proj.bias': r(KVH * D, std=0.5),
            p + 'self_attn.v_proj.weight': r(KVH * D, C), p + 'self_attn.v_proj.bias': r(KVH * D, std=0.5),
            p + 'self_attn.o_proj.weight': r(C, H * D),
            p + 'mlp.gate_proj.weight': r(I, C), p + 'mlp.up_proj.weight': r(I, C), p + 'mlp.down_proj.weight': r(C, I),
        })
    # The checkpoint is what the file holds: round to float32 first, compute from that in float64.
    return cfg, {k: v.to(torch.float32).to(torch.float64) for k, v in w.items()}


def main():
    os.makedirs(OUT, exist_ok=True)
    expected = {}
    for name, (cfg, w) in [('llama', llama_model()), ('qwen2', qwen2_model())]:
        write_safetensors(os.path.join(OUT, f'{name}.safetensors'), w)
        ids = [(i * 29 + 7) % cfg['vocab_size'] for i in range(11)]
        logits = forward(cfg, w, ids)
        expected[name] = {'config': cfg, 'ids': ids, 'logits': logits.flatten().tolist(), 'greedy': greedy(cfg, w, ids, 8)}
    with open(os.path.join(OUT, 'expected.json'), 'w') as f:
        json.dump(expected, f)
    print('wrote', OUT)


if __name__ == '__main__':
    main()

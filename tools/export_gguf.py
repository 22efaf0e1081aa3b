#!/usr/bin/python3
"""The bundled tiny Llama (public/models/kjv-llama, from train_llama.py) as the GGUF file llama.cpp's
convert_hf_to_gguf.py would write for it, quantized to Q8_0 (norms F32): the llama architecture's
metadata, q/k rows permuted for llama.cpp's interleaved RoPE (LlamaModel.permute), and the tokenizer
embedded (tokenizer.ggml.model 'gpt2': tokens, merges, token types, eos id, chat template).
Q8_0 as ggml-quants.c's quantize_row_q8_0_ref: per 32 weights d = max|x| / 127 (stored as f16),
q = round(x / d).
  tests/fixtures/llama/kjv-llama-q8_0.gguf
Run with Debian's python3-numpy:  /usr/bin/python3 tools/export_gguf.py
"""
import json
import os
import struct
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from make_gguf_fixture import gstr, kv, write_gguf  # noqa: E402

ROOT = os.path.join(os.path.dirname(__file__), '..')
SRC = os.path.join(ROOT, 'public', 'models', 'kjv-llama')
OUT = os.path.join(ROOT, 'tests', 'fixtures', 'llama', 'kjv-llama-q8_0.gguf')


def read_safetensors(path):
    with open(path, 'rb') as f:
        data = f.read()
    n = struct.unpack('<Q', data[:8])[0]
    header = json.loads(data[8:8 + n])
    out = {}
    for name, t in header.items():
        if name == '__metadata__':
            continue
        dt = {'F16': np.float16, 'F32': np.float32}[t['dtype']]
        a, b = t['data_offsets']
        out[name] = np.frombuffer(data[8 + n + a:8 + n + b], dtype=dt).astype(np.float32).reshape(t['shape'])
    return out


def q8_0(w):
    blocks = w.reshape(-1, 32)
    d = np.abs(blocks).max(axis=1) / 127
    inv = np.where(d > 0, 1 / np.where(d > 0, d, 1), 0)
    q = np.round(blocks * inv[:, None]).astype(np.int8)
    return b''.join(d16.tobytes() + qs.tobytes() for d16, qs in zip(d.astype(np.float16), q))


def permute(w, n_head):
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def main():
    cfg = json.load(open(os.path.join(SRC, 'config.json')))
    tok = json.load(open(os.path.join(SRC, 'tokenizer.json')))
    tok_cfg = json.load(open(os.path.join(SRC, 'tokenizer_config.json')))
    w = read_safetensors(os.path.join(SRC, 'model.safetensors'))
    H, KVH = cfg['num_attention_heads'], cfg['num_key_value_heads']
    tensors = []

    def matrix(gguf_name, m):
        tensors.append((gguf_name, [m.shape[1], m.shape[0]], 8, q8_0(m)))

    def vector(gguf_name, v):
        tensors.append((gguf_name, [v.shape[0]], 0, v.astype(np.float32).tobytes()))

    matrix('token_embd.weight', w['model.embed_tokens.weight'])
    for i in range(cfg['num_hidden_layers']):
        p, b = f'model.layers.{i}.', f'blk.{i}.'
        vector(b + 'attn_norm.weight', w[p + 'input_layernorm.weight'])
        matrix(b + 'attn_q.weight', permute(w[p + 'self_attn.q_proj.weight'], H))
        matrix(b + 'attn_k.weight', permute(w[p + 'self_attn.k_proj.weight'], KVH))
        matrix(b + 'attn_v.weight', w[p + 'self_attn.v_proj.weight'])
        matrix(b + 'attn_output.weight', w[p + 'self_attn.o_proj.weight'])
        vector(b + 'ffn_norm.weight', w[p + 'post_attention_layernorm.weight'])
        matrix(b + 'ffn_gate.weight', w[p + 'mlp.gate_proj.weight'])
        matrix(b + 'ffn_up.weight', w[p + 'mlp.up_proj.weight'])
        matrix(b + 'ffn_down.weight', w[p + 'mlp.down_proj.weight'])
    vector('output_norm.weight', w['model.norm.weight'])
    vocab = tok['model']['vocab']
    tokens = [t for t, _ in sorted(vocab.items(), key=lambda kv: kv[1])]
    special = {t['content'] for t in tok['added_tokens'] if t['special']}
    arr = lambda vtype, items, pack: struct.pack('<IQ', vtype, len(items)) + b''.join(pack(x) for x in items)
    u32 = lambda v: struct.pack('<I', v)
    f32 = lambda v: struct.pack('<f', v)
    meta = [
        kv('general.architecture', 8, gstr('llama')),
        kv('general.name', 8, gstr('KJV tiny Llama')),
        kv('general.alignment', 4, u32(32)),
        kv('general.file_type', 4, u32(7)),  # LLAMA_FTYPE_MOSTLY_Q8_0
        kv('llama.block_count', 4, u32(cfg['num_hidden_layers'])),
        kv('llama.context_length', 4, u32(cfg['max_position_embeddings'])),
        kv('llama.embedding_length', 4, u32(cfg['hidden_size'])),
        kv('llama.feed_forward_length', 4, u32(cfg['intermediate_size'])),
        kv('llama.attention.head_count', 4, u32(H)),
        kv('llama.attention.head_count_kv', 4, u32(KVH)),
        kv('llama.rope.freq_base', 6, f32(cfg['rope_theta'])),
        kv('llama.attention.layer_norm_rms_epsilon', 6, f32(cfg['rms_norm_eps'])),
        kv('llama.vocab_size', 4, u32(len(tokens))),
        kv('tokenizer.ggml.model', 8, gstr('gpt2')),
        kv('tokenizer.ggml.pre', 8, gstr('gpt2')),
        kv('tokenizer.ggml.tokens', 9, arr(8, tokens, gstr)),
        kv('tokenizer.ggml.token_type', 9, arr(5, [3 if t in special else 1 for t in tokens], lambda x: struct.pack('<i', x))),
        kv('tokenizer.ggml.merges', 9, arr(8, tok['model']['merges'], gstr)),
        kv('tokenizer.ggml.eos_token_id', 4, u32(cfg['eos_token_id'])),
        kv('tokenizer.ggml.add_bos_token', 7, struct.pack('<?', False)),
        kv('tokenizer.chat_template', 8, gstr(tok_cfg['chat_template'])),
    ]
    write_gguf(OUT, tensors, meta)
    print('->', OUT, os.path.getsize(OUT), 'bytes')


if __name__ == '__main__':
    main()

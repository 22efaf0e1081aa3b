#!/usr/bin/python3
"""Small GGUF (v3) files for the loader's tests, written from the format description (llama.cpp's
docs/gguf.md), data aligned to general.alignment:
- tiny.gguf: metadata of several value types, a Q8_0 matrix, an F32 and an F16 vector (tiny.json);
- mixed.gguf: the mix a Q4_K_M file holds, Q4_K + Q6_K + Q4_0 + F16 + F32 (mixed.json). Its quantized
  blocks are random bytes (every bit pattern of the packed 6-bit scales and mins occurs), with f16
  scales drawn small; the expected weights are dequantised here by this script's own reading of
  llama.cpp's ggml-common.h (block_q4_0, block_q4_K, block_q6_K) and ggml-quants.c
  (dequantize_row_q4_0, get_scale_min_k4 + dequantize_row_q4_K, dequantize_row_q6_K), independent of
  the engine's TypeScript and WGSL.
Run: /usr/bin/python3 tools/make_gguf_fixture.py
"""
import json
import os
import struct

import numpy as np

OUT = os.path.join(os.path.dirname(__file__), '..', 'tests', 'fixtures', 'gguf')
ALIGN = 32


def gstr(s):
    b = s.encode('utf-8')
    return struct.pack('<Q', len(b)) + b


def kv(key, vtype, payload):
    return gstr(key) + struct.pack('<I', vtype) + payload


def q8_0(w):
    """w [N, K] float32 -> Q8_0 blocks (f16 scale + 32 int8) row by row, and the dequantised matrix."""
    n, k = w.shape
    out = bytearray()
    deq = np.zeros_like(w)
    for r in range(n):
        for b in range(k // 32):
            x = w[r, b * 32:(b + 1) * 32]
            d = np.float16(np.abs(x).max() / 127)
            q = np.zeros(32, np.int8) if d == 0 else np.clip(np.sign(x) * np.floor(np.abs(x) / np.float32(d) + 0.5), -127, 127).astype(np.int8)
            out += d.tobytes() + q.tobytes()
            deq[r, b * 32:(b + 1) * 32] = q.astype(np.float32) * np.float32(d)
    return bytes(out), deq


def random_blocks(rng, n_blocks, size, halves):
    """n_blocks random blocks of `size` bytes whose f16 fields at byte offsets `halves` are small scales."""
    raw = rng.integers(0, 256, size=(n_blocks, size), dtype=np.uint8)
    for at in halves:
        raw[:, at:at + 2] = rng.uniform(0.002, 0.05, n_blocks).astype(np.float16).view(np.uint8).reshape(n_blocks, 2)
    return raw


def f16_at(block, at):
    return np.float32(block[at:at + 2].view(np.float16)[0])


def deq_q4_0(block):
    d = f16_at(block, 0)
    qs = block[2:18].astype(np.int32)
    return np.concatenate([(qs & 15) - 8, (qs >> 4) - 8]).astype(np.float32) * d


def deq_q4_k(block):
    d, dmin = f16_at(block, 0), f16_at(block, 2)
    sc = block[4:16].astype(np.int32)

    def scale_min(j):
        if j < 4:
            return sc[j] & 63, sc[j + 4] & 63
        return (sc[j + 4] & 15) | ((sc[j - 4] >> 6) << 4), (sc[j + 4] >> 4) | ((sc[j] >> 6) << 4)

    qs = block[16:144].astype(np.int32)
    y = []
    for j in range(4):
        q = qs[32 * j:32 * j + 32]
        s1, m1 = scale_min(2 * j)
        s2, m2 = scale_min(2 * j + 1)
        y.append(d * s1 * (q & 15) - dmin * m1)
        y.append(d * s2 * (q >> 4) - dmin * m2)
    return np.concatenate(y).astype(np.float32)


def deq_q6_k(block):
    ql = block[0:128].astype(np.int32)
    qh = block[128:192].astype(np.int32)
    sc = block[192:208].view(np.int8).astype(np.int32)
    d = f16_at(block, 208)
    y = np.zeros(256, np.float32)
    for h in range(2):
        for l in range(32):
            i = l // 16
            q1 = ((ql[64 * h + l] & 15) | (((qh[32 * h + l] >> 0) & 3) << 4)) - 32
            q2 = ((ql[64 * h + l + 32] & 15) | (((qh[32 * h + l] >> 2) & 3) << 4)) - 32
            q3 = ((ql[64 * h + l] >> 4) | (((qh[32 * h + l] >> 4) & 3) << 4)) - 32
            q4 = ((ql[64 * h + l + 32] >> 4) | (((qh[32 * h + l] >> 6) & 3) << 4)) - 32
            y[128 * h + l + 0] = d * sc[8 * h + i + 0] * q1
            y[128 * h + l + 32] = d * sc[8 * h + i + 2] * q2
            y[128 * h + l + 64] = d * sc[8 * h + i + 4] * q3
            y[128 * h + l + 96] = d * sc[8 * h + i + 6] * q4
    return y


BLOCKS = {  # ggml type: (weights per block, bytes, f16 fields, dequantiser)
    2: (32, 18, [0], deq_q4_0),
    12: (256, 144, [0, 2], deq_q4_k),
    14: (256, 210, [208], deq_q6_k),
}


def write_gguf(path, tensors, meta):
    infos = b''
    data = b''
    for name, dims, ttype, payload in tensors:
        data += b'\0' * (-len(data) % ALIGN)
        infos += gstr(name) + struct.pack('<I', len(dims)) + b''.join(struct.pack('<Q', d) for d in dims) + struct.pack('<IQ', ttype, len(data))
        data += payload
    head = struct.pack('<IIQQ', 0x46554747, 3, len(tensors), len(meta)) + b''.join(meta) + infos
    head += b'\0' * (-len(head) % ALIGN)
    with open(path, 'wb') as f:
        f.write(head + data)


def mixed(rng):
    tensors = []
    expected = {}
    for name, ttype, K, N in [('blk.0.attn_q.weight', 12, 512, 3), ('blk.0.ffn_down.weight', 14, 256, 5), ('blk.0.attn_k.weight', 2, 96, 3)]:
        qk, size, halves, deq = BLOCKS[ttype]
        raw = random_blocks(rng, N * K // qk, size, halves)
        tensors.append((name, [K, N], ttype, raw.tobytes()))
        expected[name] = {'K': K, 'N': N, 'w': np.concatenate([deq(b) for b in raw]).tolist()}
    emb = rng.standard_normal((4, 40)).astype(np.float16)
    norm = rng.standard_normal(40).astype(np.float32)
    tensors += [('token_embd.weight', [40, 4], 1, emb.tobytes()), ('output_norm.weight', [40], 0, norm.tobytes())]
    expected['token_embd.weight'] = {'K': 40, 'N': 4, 'w': emb.astype(np.float32).flatten().tolist()}
    expected['output_norm.weight'] = {'w': norm.tolist()}
    meta = [kv('general.architecture', 8, gstr('llama')), kv('general.alignment', 4, struct.pack('<I', ALIGN))]
    write_gguf(os.path.join(OUT, 'mixed.gguf'), tensors, meta)
    with open(os.path.join(OUT, 'mixed.json'), 'w') as f:
        json.dump(expected, f)


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(5)
    K, N = 64, 3
    w = rng.standard_normal((N, K)).astype(np.float32)
    wq, wdeq = q8_0(w)
    v = rng.standard_normal(5).astype(np.float32)
    h = rng.standard_normal(4).astype(np.float16)
    tensors = [('blk.0.ffn_up.weight', [K, N], 8, wq), ('v', [5], 0, v.tobytes()), ('h', [4], 1, h.tobytes())]
    meta = [
        kv('general.architecture', 8, gstr('test')),
        kv('general.alignment', 4, struct.pack('<I', ALIGN)),
        kv('test.ratio', 6, struct.pack('<f', 0.5)),
        kv('test.flag', 7, struct.pack('<?', True)),
        kv('test.list', 9, struct.pack('<IQ', 5, 3) + struct.pack('<3i', 1, -2, 3)),
        kv('test.names', 9, struct.pack('<IQ', 8, 2) + gstr('a') + gstr('bé')),
    ]
    write_gguf(os.path.join(OUT, 'tiny.gguf'), tensors, meta)
    with open(os.path.join(OUT, 'tiny.json'), 'w') as f:
        json.dump({'K': K, 'N': N, 'w': wdeq.flatten().tolist(), 'v': v.tolist(), 'h': h.astype(np.float32).tolist()}, f)
    mixed(np.random.default_rng(6))
    print('wrote', OUT)


if __name__ == '__main__':
    main()

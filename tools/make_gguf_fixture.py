#!/usr/bin/python3
"""A small GGUF (v3) file for the loader's tests, written from the format description (llama.cpp's
docs/gguf.md): metadata of several value types, a Q8_0 matrix, an F32 and an F16 vector, data aligned
to general.alignment. The expected values go to tiny.json.
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
    infos = b''
    data = b''
    for name, dims, ttype, payload in tensors:
        data += b'\0' * (-len(data) % ALIGN)
        infos += gstr(name) + struct.pack('<I', len(dims)) + b''.join(struct.pack('<Q', d) for d in dims) + struct.pack('<IQ', ttype, len(data))
        data += payload
    head = struct.pack('<IIQQ', 0x46554747, 3, len(tensors), len(meta)) + b''.join(meta) + infos
    head += b'\0' * (-len(head) % ALIGN)
    with open(os.path.join(OUT, 'tiny.gguf'), 'wb') as f:
        f.write(head + data)
    with open(os.path.join(OUT, 'tiny.json'), 'w') as f:
        json.dump({'K': K, 'N': N, 'w': wdeq.flatten().tolist(), 'v': v.tolist(), 'h': h.astype(np.float32).tolist()}, f)
    print('wrote', OUT)


if __name__ == '__main__':
    main()

#!/usr/bin/python3
"""The LSTM demo's default model and the LSTM test fixture (Debian's python3-torch).

  public/models/kjv-char-lstm.safetensors   a character-level language model trained on the King
      James Bible: embedding -> 2-layer nn.LSTM -> linear. Tensor names: 'embedding.weight', the
      nn.LSTM state_dict names unchanged ('weight_ih_l0', 'weight_hh_l0', 'bias_ih_l0', ...), and
      'decoder.weight' / 'decoder.bias'. The vocabulary and sizes are in the file's metadata.
  tests/fixtures/lstm/tiny.safetensors + tiny.json   a random 2-layer nn.LSTM and its output, h, c
      for a fixed input, computed by PyTorch in float64.
Run: /usr/bin/python3 tools/train_lstm.py [steps]
"""
import json
import os
import struct
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(__file__))
from corpus import batch, char_data, kjv_text  # noqa: E402

ROOT = os.path.join(os.path.dirname(__file__), '..')


def save_safetensors(path, tensors, metadata):
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        data = t.detach().to(torch.float32).contiguous().numpy().tobytes()
        header[name] = {'dtype': 'F32', 'shape': list(t.shape), 'data_offsets': [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    header['__metadata__'] = {k: str(v) for k, v in metadata.items()}
    h = json.dumps(header, separators=(',', ':')).encode()
    h += b' ' * (-len(h) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(h)) + h + b''.join(blobs))


def fixture():
    torch.manual_seed(3)
    lstm = torch.nn.LSTM(input_size=5, hidden_size=7, num_layers=2).double()
    x = torch.randn(6, 5, dtype=torch.float64)
    lstm32 = {k: v.float().double() for k, v in lstm.state_dict().items()}
    lstm.load_state_dict(lstm32)
    out, (h, c) = lstm(x)
    fx = os.path.join(ROOT, 'tests', 'fixtures', 'lstm')
    os.makedirs(fx, exist_ok=True)
    save_safetensors(os.path.join(fx, 'tiny.safetensors'), lstm.state_dict(), {'source': 'tools/train_lstm.py'})
    with open(os.path.join(fx, 'tiny.json'), 'w') as f:
        json.dump({'inputSize': 5, 'hiddenSize': 7, 'numLayers': 2, 'x': x.flatten().tolist(),
                   'output': out.flatten().tolist(), 'h': h.flatten().tolist(), 'c': c.flatten().tolist()}, f)


class CharLSTM(torch.nn.Module):
    def __init__(self, vocab, embed=32, hidden=128, layers=2):
        super().__init__()
        self.embedding = torch.nn.Embedding(vocab, embed)
        self.lstm = torch.nn.LSTM(embed, hidden, layers, batch_first=True)
        self.decoder = torch.nn.Linear(hidden, vocab)

    def forward(self, ids):
        y, _ = self.lstm(self.embedding(ids))
        return self.decoder(y)


def train(steps):
    torch.manual_seed(0)
    torch.set_num_threads(2)
    data, chars = char_data(kjv_text())
    model = CharLSTM(len(chars))
    opt = torch.optim.Adam(model.parameters(), lr=4e-3)
    seq, size = 64, 32
    t0 = time.time()
    for step in range(steps):
        x, y = batch(data, seq, size)
        loss = torch.nn.functional.cross_entropy(model(x).reshape(-1, len(chars)), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if step % 100 == 0 or step == steps - 1:
            print(f'step {step} loss {loss.item():.3f} ({time.time() - t0:.0f}s)', flush=True)
    tensors = {'embedding.weight': model.embedding.weight, 'decoder.weight': model.decoder.weight, 'decoder.bias': model.decoder.bias}
    tensors.update(model.lstm.state_dict())
    meta = {'vocab': json.dumps(chars), 'inputSize': 32, 'hiddenSize': 128, 'numLayers': 2, 'corpus': 'King James Bible (bible-kjv-text)', 'steps': steps}
    out = os.path.join(ROOT, 'public', 'models', 'kjv-char-lstm.safetensors')
    save_safetensors(out, tensors, meta)
    print('->', out, os.path.getsize(out), 'bytes')


if __name__ == '__main__':
    fixture()
    train(int(sys.argv[1]) if len(sys.argv) > 1 else 2500)

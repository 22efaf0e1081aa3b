"""The ONNX graphs the bench feeds to onnxruntime-web (bench/peers/ort.ts), one per shared kernel,
with symbolic dimensions so one file serves every size and no weights inside (inputs are fed).
Written with onnx.helper (Debian's python3-onnx); run with /usr/bin/python3 from the repository root:

    /usr/bin/python3 tools/make_onnx_models.py

Operators, as the ONNX and ONNX Runtime contrib-op specifications define them:
- MatMul (opset 13): A [M, K] × B [K, N].
- Softmax (opset 13, axis -1): rows of X [R, N].
- LayerNormalization (opset 17, axis -1, epsilon 1e-5): X [T, C] with scale and bias [C].
- com.microsoft.GroupQueryAttention: query/key/value [1, S, H·D] (BSNH), no past, seqlens_k [1] =
  S − 1, total_sequence_length = S; causal by definition of the op. H = KV heads = 12, D = 64.
- com.microsoft.MultiHeadAttention: query/key/value [1, S, H·D] with the causal mask given as an
  additive attention_bias [1, 1, S, S] (0 on and below the diagonal, −10000 above).
- attention_unfused: the same causal attention from standard operators, as a model exported without
  the fused contrib ops runs it: Transpose(k) → MatMul(q, kᵀ) → Mul by 1/√D → Add(bias [S, S]) →
  Softmax(axis −1) → MatMul(·, v), on q, k, v [H, S, D]; the S × S scores exist in GPU memory.
"""
import os

import onnx
from onnx import TensorProto, helper

OUT = 'bench/peers/onnx'
HEADS = 12
HEAD_DIM = 64


def save(name, nodes, inputs, outputs, opsets):
    graph = helper.make_graph(nodes, name, inputs, outputs)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid(d, v) for d, v in opsets])
    model.ir_version = 8
    onnx.checker.check_model(model)
    path = os.path.join(OUT, f'{name}.onnx')
    onnx.save(model, path)
    print(f'wrote {path} ({os.path.getsize(path)} bytes)')


def f32(name, shape):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def i32(name, shape):
    return helper.make_tensor_value_info(name, TensorProto.INT32, shape)


def main():
    os.makedirs(OUT, exist_ok=True)
    save('matmul', [helper.make_node('MatMul', ['A', 'B'], ['Y'])],
         [f32('A', ['M', 'K']), f32('B', ['K', 'N'])], [f32('Y', ['M', 'N'])], [('', 13)])
    save('softmax', [helper.make_node('Softmax', ['X'], ['Y'], axis=-1)],
         [f32('X', ['R', 'N'])], [f32('Y', ['R', 'N'])], [('', 13)])
    save('layernorm', [helper.make_node('LayerNormalization', ['X', 'scale', 'bias'], ['Y'], axis=-1, epsilon=1e-5)],
         [f32('X', ['T', 'C']), f32('scale', ['C']), f32('bias', ['C'])], [f32('Y', ['T', 'C'])], [('', 17)])
    hidden = HEADS * HEAD_DIM
    save('gqa', [helper.make_node('GroupQueryAttention',
                                  ['query', 'key', 'value', '', '', 'seqlens_k', 'total_sequence_length'],
                                  ['output', 'present_key', 'present_value'],
                                  domain='com.microsoft', num_heads=HEADS, kv_num_heads=HEADS)],
         [f32('query', [1, 'S', hidden]), f32('key', [1, 'S', hidden]), f32('value', [1, 'S', hidden]),
          i32('seqlens_k', [1]), i32('total_sequence_length', [])],
         [f32('output', [1, 'S', hidden]), f32('present_key', [1, HEADS, 'S', HEAD_DIM]),
          f32('present_value', [1, HEADS, 'S', HEAD_DIM])],
         [('', 17), ('com.microsoft', 1)])
    save('mha', [helper.make_node('MultiHeadAttention',
                                  ['query', 'key', 'value', '', '', 'attention_bias'], ['output'],
                                  domain='com.microsoft', num_heads=HEADS)],
         [f32('query', [1, 'S', hidden]), f32('key', [1, 'S', hidden]), f32('value', [1, 'S', hidden]),
          f32('attention_bias', [1, 1, 'S', 'S'])],
         [f32('output', [1, 'S', hidden])],
         [('', 17), ('com.microsoft', 1)])
    save('attention_unfused', [
        helper.make_node('Transpose', ['k'], ['kT'], perm=[0, 2, 1]),
        helper.make_node('MatMul', ['q', 'kT'], ['scores']),
        helper.make_node('Constant', [], ['scale'], value=helper.make_tensor('scale', TensorProto.FLOAT, [], [HEAD_DIM ** -0.5])),
        helper.make_node('Mul', ['scores', 'scale'], ['scaled']),
        helper.make_node('Add', ['scaled', 'bias'], ['masked']),
        helper.make_node('Softmax', ['masked'], ['p'], axis=-1),
        helper.make_node('MatMul', ['p', 'v'], ['y']),
    ], [f32('q', [HEADS, 'S', HEAD_DIM]), f32('k', [HEADS, 'S', HEAD_DIM]), f32('v', [HEADS, 'S', HEAD_DIM]),
        f32('bias', ['S', 'S'])],
        [f32('y', [HEADS, 'S', HEAD_DIM])], [('', 13)])


if __name__ == '__main__':
    main()

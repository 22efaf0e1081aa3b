#!/usr/bin/python3
"""Golden fixtures for the Encoder tests: tiny random BERT, RoBERTa and DistilBERT checkpoints in Hugging
Face's key layout, with outputs computed here in float64 by this script's own forward pass. The pass
follows transformers' modeling code (transformers is not installed here; read from
src/transformers/models/{bert,roberta,distilbert}/modeling_*.py):
  - BertEmbeddings: LayerNorm(word + token_type + position), positions 0, 1, ... per sequence
  - RobertaEmbeddings: create_position_ids_from_input_ids: mask = ids != padding_idx,
    position = cumsum(mask) * mask + padding_idx (starts at padding_idx + 1, padding keeps padding_idx)
  - DistilBERT Embeddings: LayerNorm(word + position), eps 1e-12, no token types
  - BertSelfAttention: softmax(q kᵀ / sqrt(head_dim)) v, bidirectional, per sequence (no padding);
    BertSelfOutput: LayerNorm(dense(ctx) + x); BertIntermediate: act(dense(x));
    BertOutput: LayerNorm(dense(h) + attn_out). DistilBERT's TransformerBlock is the same post-norm
    block with q_lin/k_lin/v_lin/out_lin, sa_layer_norm, ffn.lin1/lin2, output_layer_norm.
  - ACT2FN: 'gelu' is the exact erf form, 'gelu_new' / 'gelu_pytorch_tanh' the tanh form, relu, silu
  - heads: BertLMPredictionHead (transform.dense, act, transform.LayerNorm, decoder tied to the word
    embeddings + cls.predictions.bias); BertPooler (tanh(dense(h[0]))) + classifier;
    RobertaLMHead (dense, gelu, layer_norm, decoder tied + bias); RobertaClassificationHead
    (out_proj(tanh(dense(h[0])))); DistilBertForMaskedLM (vocab_transform, activation,
    vocab_layer_norm, vocab_projector tied + bias); DistilBertForSequenceClassification
    (classifier(relu(pre_classifier(h[0])))).

Weights are drawn in float32 (what the files hold) and every output is computed in float64 from them.
One file carries several heads (real checkpoints carry one; the loader finds each from its keys):
bert.safetensors MLM + sequence classification + next-sentence (BertForPreTraining's
cls.seq_relationship over the pooler), roberta.safetensors MLM + classification + QA (qa_outputs:
start and end logits per token), distilbert.safetensors MLM + classification;
distilbert-token.safetensors is DistilBertForTokenClassification (a classifier over every token). bert-bare.safetensors is the same BERT saved as sentence-transformers does (no
'bert.' prefix, no heads) with the legacy LayerNorm.gamma / beta names, run with hidden_act 'silu'.

modernbert.safetensors is ModernBERT (modeling_modernbert.py): pre-norm layers (attn_norm an identity on
layer 0), Wqkv without bias, rotate-half RoPE (θ global_rope_theta on global layers, local_rope_theta on
local ones; positions restart in each sequence), global attention on every global_attn_every_n_layers-th
layer and |q - k| <= local_attention / 2 on the others, GeGLU (input, gate = Wi(x).chunk(2);
Wo(gelu(input) * gate)), LayerNorms without bias, final_norm; ModernBertPredictionHead (dense, gelu, norm)
before the tied decoder + decoder.bias, and before the classifier over the mean of each sequence's states
(classifier_pooling 'mean').

Run with Debian's python3-torch:  /usr/bin/python3 tools/make_encoder_fixture.py
"""
import json
import math
import os
import struct

import torch

OUT = os.path.join(os.path.dirname(__file__), '..', 'tests', 'fixtures', 'encoder')
V, C, H, L, I, P = 41, 32, 4, 2, 37, 40
LENGTHS = [1, 6, 13, 4]

BERT = dict(model_type='bert', architectures=['BertForMaskedLM'], vocab_size=V, hidden_size=C, num_hidden_layers=L,
            num_attention_heads=H, intermediate_size=I, hidden_act='gelu', max_position_embeddings=P, type_vocab_size=2,
            layer_norm_eps=1e-12, pad_token_id=0, id2label={'0': 'negative', '1': 'neutral', '2': 'positive'})
ROBERTA = dict(model_type='roberta', architectures=['RobertaForMaskedLM'], vocab_size=V, hidden_size=C, num_hidden_layers=L,
               num_attention_heads=H, intermediate_size=I, hidden_act='gelu_new', max_position_embeddings=P + 2,
               type_vocab_size=1, layer_norm_eps=1e-5, pad_token_id=1, bos_token_id=0, eos_token_id=2,
               id2label={'0': 'LABEL_0', '1': 'LABEL_1'})
DISTILBERT = dict(model_type='distilbert', architectures=['DistilBertForMaskedLM'], vocab_size=V, dim=C, n_layers=L,
                  n_heads=H, hidden_dim=I, activation='relu', max_position_embeddings=P, pad_token_id=0,
                  problem_type='multi_label_classification', id2label={'0': 'toxic', '1': 'obscene', '2': 'threat', '3': 'insult'})

gen = torch.Generator().manual_seed(25)


def randn(*shape, scale=0.3):
    return (torch.randn(*shape, generator=gen) * scale).float()


def act(name, x):
    if name == 'gelu':
        return 0.5 * x * (1 + torch.erf(x / math.sqrt(2)))
    if name in ('gelu_new', 'gelu_pytorch_tanh'):
        return 0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))
    if name == 'relu':
        return torch.relu(x)
    if name == 'silu':
        return x * torch.sigmoid(x)
    raise ValueError(name)


def layer_norm(x, w, b, eps):
    mu = x.mean(-1, keepdim=True)
    var = ((x - mu) ** 2).mean(-1, keepdim=True)
    return (x - mu) / torch.sqrt(var + eps) * w + b


def linear(x, w, b):
    return x @ w.T + b  # nn.Linear: weight [out, in]


def norm_params(prefix, n=C):
    return {f'{prefix}.weight': 1 + randn(n, scale=0.1), f'{prefix}.bias': randn(n, scale=0.1)}


def dense(prefix, n_out, n_in):
    return {f'{prefix}.weight': randn(n_out, n_in, scale=1 / math.sqrt(n_in)), f'{prefix}.bias': randn(n_out, scale=0.1)}


def bert_weights(prefix, labels):
    """BertForMaskedLM + BertForSequenceClassification keys ('bert.' / 'roberta.' prefix)."""
    w = {f'{prefix}embeddings.word_embeddings.weight': randn(V, C, scale=0.5),
         f'{prefix}embeddings.position_embeddings.weight': randn(P + 2, C, scale=0.5) if prefix == 'roberta.' else randn(P, C, scale=0.5),
         f'{prefix}embeddings.token_type_embeddings.weight': randn(2 if prefix == 'bert.' else 1, C, scale=0.5)}
    w.update(norm_params(f'{prefix}embeddings.LayerNorm'))
    for i in range(L):
        p = f'{prefix}encoder.layer.{i}.'
        for n in ('query', 'key', 'value'):
            w.update(dense(f'{p}attention.self.{n}', C, C))
        w.update(dense(f'{p}attention.output.dense', C, C))
        w.update(norm_params(f'{p}attention.output.LayerNorm'))
        w.update(dense(f'{p}intermediate.dense', I, C))
        w.update(dense(f'{p}output.dense', C, I))
        w.update(norm_params(f'{p}output.LayerNorm'))
    if prefix == 'bert.':
        w.update(dense('bert.pooler.dense', C, C))
        w.update(dense('classifier', labels, C))
        w.update(dense('cls.predictions.transform.dense', C, C))
        w.update(norm_params('cls.predictions.transform.LayerNorm'))
        w['cls.predictions.bias'] = randn(V, scale=0.1)
    else:
        w.update(dense('classifier.dense', C, C))
        w.update(dense('classifier.out_proj', labels, C))
        w.update(dense('lm_head.dense', C, C))
        w.update(norm_params('lm_head.layer_norm'))
        w['lm_head.bias'] = randn(V, scale=0.1)
    return w


def distilbert_weights(labels):
    p = 'distilbert.'
    w = {f'{p}embeddings.word_embeddings.weight': randn(V, C, scale=0.5),
         f'{p}embeddings.position_embeddings.weight': randn(P, C, scale=0.5)}
    w.update(norm_params(f'{p}embeddings.LayerNorm'))
    for i in range(L):
        q = f'{p}transformer.layer.{i}.'
        for n in ('q_lin', 'k_lin', 'v_lin', 'out_lin'):
            w.update(dense(f'{q}attention.{n}', C, C))
        w.update(norm_params(f'{q}sa_layer_norm'))
        w.update(dense(f'{q}ffn.lin1', I, C))
        w.update(dense(f'{q}ffn.lin2', C, I))
        w.update(norm_params(f'{q}output_layer_norm'))
    w.update(dense('vocab_transform', C, C))
    w.update(norm_params('vocab_layer_norm'))
    w['vocab_projector.bias'] = randn(V, scale=0.1)
    w.update(dense('pre_classifier', C, C))
    w.update(dense('classifier', labels, C))
    return w


CAPTURE = None  # a list while attention probabilities are being recorded


def attention(x, wq, bq, wk, bk, wv, bv):
    T = x.shape[0]
    D = C // H
    q, k, v = (linear(x, a, b).view(T, H, D).transpose(0, 1) for a, b in ((wq, bq), (wk, bk), (wv, bv)))
    p = torch.softmax(q @ k.transpose(1, 2) / math.sqrt(D), dim=-1)
    if CAPTURE is not None:
        CAPTURE.append(p)  # [H, T, T] of each layer in turn (Encoder.attentionWeights' reference)
    return (p @ v).transpose(0, 1).reshape(T, C)


def forward(kind, cfg, w, ids, types):
    """One sequence, float64: (last hidden state [T, C], MLM logits [T, V], classification logits [labels])."""
    d = {k: v.double() for k, v in w.items()}
    ids_t = torch.tensor(ids)
    if kind == 'distilbert':
        pre, eps, act_name = 'distilbert.', 1e-12, cfg['activation']
        x = d[f'{pre}embeddings.word_embeddings.weight'][ids_t] + d[f'{pre}embeddings.position_embeddings.weight'][:len(ids)]
        x = layer_norm(x, d[f'{pre}embeddings.LayerNorm.weight'], d[f'{pre}embeddings.LayerNorm.bias'], eps)
        for i in range(L):
            q = f'{pre}transformer.layer.{i}.'
            g = lambda n: (d[f'{q}attention.{n}.weight'], d[f'{q}attention.{n}.bias'])  # noqa: E731
            a = attention(x, *g('q_lin'), *g('k_lin'), *g('v_lin'))
            x = layer_norm(linear(a, *g('out_lin')) + x, d[f'{q}sa_layer_norm.weight'], d[f'{q}sa_layer_norm.bias'], eps)
            h = act(act_name, linear(x, d[f'{q}ffn.lin1.weight'], d[f'{q}ffn.lin1.bias']))
            x = layer_norm(linear(h, d[f'{q}ffn.lin2.weight'], d[f'{q}ffn.lin2.bias']) + x,
                           d[f'{q}output_layer_norm.weight'], d[f'{q}output_layer_norm.bias'], eps)
        if 'vocab_transform.weight' not in d:
            return x, None, None
        t = layer_norm(act(act_name, linear(x, d['vocab_transform.weight'], d['vocab_transform.bias'])),
                       d['vocab_layer_norm.weight'], d['vocab_layer_norm.bias'], eps)
        mlm = t @ d[f'{pre}embeddings.word_embeddings.weight'].T + d['vocab_projector.bias']
        pooled = torch.relu(linear(x[0], d['pre_classifier.weight'], d['pre_classifier.bias']))
        return x, mlm, linear(pooled, d['classifier.weight'], d['classifier.bias'])
    pre = {'bert': 'bert.', 'roberta': 'roberta.', 'bare': ''}[kind]
    gamma, beta = ('gamma', 'beta') if kind == 'bare' else ('weight', 'bias')
    eps, act_name = cfg['layer_norm_eps'], cfg['hidden_act']
    if kind == 'roberta':
        pad = cfg['pad_token_id']
        mask = (ids_t != pad).long()
        pos = torch.cumsum(mask, 0) * mask + pad
    else:
        pos = torch.arange(len(ids))
    x = (d[f'{pre}embeddings.word_embeddings.weight'][ids_t] + d[f'{pre}embeddings.position_embeddings.weight'][pos]
         + d[f'{pre}embeddings.token_type_embeddings.weight'][torch.tensor(types)])
    x = layer_norm(x, d[f'{pre}embeddings.LayerNorm.{gamma}'], d[f'{pre}embeddings.LayerNorm.{beta}'], eps)
    for i in range(L):
        p = f'{pre}encoder.layer.{i}.'
        g = lambda n: (d[f'{p}{n}.weight'], d[f'{p}{n}.bias'])  # noqa: E731
        a = attention(x, *g('attention.self.query'), *g('attention.self.key'), *g('attention.self.value'))
        x = layer_norm(linear(a, *g('attention.output.dense')) + x,
                       d[f'{p}attention.output.LayerNorm.{gamma}'], d[f'{p}attention.output.LayerNorm.{beta}'], eps)
        h = act(act_name, linear(x, *g('intermediate.dense')))
        x = layer_norm(linear(h, *g('output.dense')) + x, d[f'{p}output.LayerNorm.{gamma}'], d[f'{p}output.LayerNorm.{beta}'], eps)
    if kind == 'bare':
        return x, None, None
    word = d[f'{pre}embeddings.word_embeddings.weight']
    if kind == 'bert':
        t = act(act_name, linear(x, d['cls.predictions.transform.dense.weight'], d['cls.predictions.transform.dense.bias']))
        t = layer_norm(t, d['cls.predictions.transform.LayerNorm.weight'], d['cls.predictions.transform.LayerNorm.bias'], eps)
        mlm = t @ word.T + d['cls.predictions.bias']
        pooled = torch.tanh(linear(x[0], d['bert.pooler.dense.weight'], d['bert.pooler.dense.bias']))
        return x, mlm, linear(pooled, d['classifier.weight'], d['classifier.bias'])
    t = act('gelu', linear(x, d['lm_head.dense.weight'], d['lm_head.dense.bias']))  # RobertaLMHead: always exact gelu
    t = layer_norm(t, d['lm_head.layer_norm.weight'], d['lm_head.layer_norm.bias'], eps)
    mlm = t @ word.T + d['lm_head.bias']
    h = torch.tanh(linear(x[0], d['classifier.dense.weight'], d['classifier.dense.bias']))
    return x, mlm, linear(h, d['classifier.out_proj.weight'], d['classifier.out_proj.bias'])


MODERNBERT = dict(model_type='modernbert', architectures=['ModernBertForMaskedLM'], vocab_size=V, hidden_size=C,
                  num_hidden_layers=4, num_attention_heads=H, intermediate_size=24, hidden_activation='gelu',
                  max_position_embeddings=P, norm_eps=1e-5, norm_bias=False, global_rope_theta=160000.0,
                  local_rope_theta=10000.0, local_attention=8, global_attn_every_n_layers=3,
                  classifier_pooling='mean', classifier_activation='gelu', pad_token_id=0,
                  id2label={'0': 'LABEL_0', '1': 'LABEL_1', '2': 'LABEL_2'})


def modernbert_weights(cfg, labels):
    Im, nl = cfg['intermediate_size'], cfg['num_hidden_layers']
    w = {'model.embeddings.tok_embeddings.weight': randn(V, C, scale=0.5),
         'model.embeddings.norm.weight': 1 + randn(C, scale=0.1)}
    for i in range(nl):
        p = f'model.layers.{i}.'
        if i > 0:
            w[f'{p}attn_norm.weight'] = 1 + randn(C, scale=0.1)
        w[f'{p}attn.Wqkv.weight'] = randn(3 * C, C, scale=1 / math.sqrt(C))
        w[f'{p}attn.Wo.weight'] = randn(C, C, scale=1 / math.sqrt(C))
        w[f'{p}mlp_norm.weight'] = 1 + randn(C, scale=0.1)
        w[f'{p}mlp.Wi.weight'] = randn(2 * Im, C, scale=1 / math.sqrt(C))
        w[f'{p}mlp.Wo.weight'] = randn(C, Im, scale=1 / math.sqrt(Im))
    w['model.final_norm.weight'] = 1 + randn(C, scale=0.1)
    w['head.dense.weight'] = randn(C, C, scale=1 / math.sqrt(C))
    w['head.norm.weight'] = 1 + randn(C, scale=0.1)
    w['decoder.bias'] = randn(V, scale=0.1)
    w.update(dense('classifier', labels, C))
    return w


def modernbert_forward(cfg, w, ids):
    """One sequence, float64: (last hidden state [T, C], MLM logits [T, V], classification logits [labels])."""
    d = {k: v.double() for k, v in w.items()}
    T, D, eps = len(ids), C // H, cfg['norm_eps']
    ln = lambda x, name: layer_norm(x, d[name], torch.zeros(C, dtype=torch.float64), eps)  # noqa: E731  no bias
    x = ln(d['model.embeddings.tok_embeddings.weight'][torch.tensor(ids)], 'model.embeddings.norm.weight')
    pos = torch.arange(T, dtype=torch.float64)

    def rope(theta):
        inv = 1.0 / theta ** (torch.arange(0, D, 2, dtype=torch.float64) / D)
        emb = torch.cat([pos[:, None] * inv[None], pos[:, None] * inv[None]], dim=-1)
        return emb.cos(), emb.sin()

    def rotate_half(t):
        return torch.cat([-t[..., D // 2:], t[..., :D // 2]], dim=-1)

    dist = (torch.arange(T)[:, None] - torch.arange(T)[None, :]).abs()
    for i in range(cfg['num_hidden_layers']):
        p = f'model.layers.{i}.'
        is_global = i % cfg['global_attn_every_n_layers'] == 0
        a = x if i == 0 else ln(x, f'{p}attn_norm.weight')
        q, k, v = (a @ d[f'{p}attn.Wqkv.weight'].T).view(T, 3, H, D).permute(1, 2, 0, 3)  # each [H, T, D]
        cos, sin = rope(cfg['global_rope_theta'] if is_global else cfg['local_rope_theta'])
        q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
        s = q @ k.transpose(1, 2) * D ** -0.5
        if not is_global:
            s = s.masked_fill(dist > cfg['local_attention'] // 2, float('-inf'))
        o = (torch.softmax(s, dim=-1) @ v).transpose(0, 1).reshape(T, C)
        x = x + o @ d[f'{p}attn.Wo.weight'].T
        inp, gate = (ln(x, f'{p}mlp_norm.weight') @ d[f'{p}mlp.Wi.weight'].T).chunk(2, dim=-1)
        x = x + (act('gelu', inp) * gate) @ d[f'{p}mlp.Wo.weight'].T
    h = ln(x, 'model.final_norm.weight')
    head = lambda t: ln(act('gelu', t @ d['head.dense.weight'].T), 'head.norm.weight')  # noqa: E731
    mlm = head(h) @ d['model.embeddings.tok_embeddings.weight'].T + d['decoder.bias']
    return h, mlm, linear(head(h.mean(0)), d['classifier.weight'], d['classifier.bias'])


def save_safetensors(path, tensors):
    header, offset, blobs = {}, 0, []
    for name in sorted(tensors):
        b = tensors[name].contiguous().numpy().astype('<f4').tobytes()
        header[name] = {'dtype': 'F32', 'shape': list(tensors[name].shape), 'data_offsets': [offset, offset + len(b)]}
        offset += len(b)
        blobs.append(b)
    h = json.dumps(header).encode()
    h += b' ' * (-len(h) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(h)) + h + b''.join(blobs))


def batch(kind, cfg):
    ids, types = [], []
    for n, length in enumerate(LENGTHS):
        seq = torch.randint(3, V, (length,), generator=gen).tolist()
        seq[0] = 0 if kind == 'roberta' else 2  # <s> / [CLS]
        t = [0] * length
        if kind in ('bert', 'bare') and length > 3:
            t = [0] * (length // 2) + [1] * (length - length // 2)  # a sentence pair
        if kind == 'roberta' and length > 5:
            seq[length // 2] = cfg['pad_token_id']  # a padding id inside: positions skip it
        ids.append(seq)
        types.append(t)
    return ids, types


def rounded(t):
    return [float(f'{v:.9g}') for v in t.flatten().tolist()]


def main():
    os.makedirs(OUT, exist_ok=True)
    expected = {}
    bert_w = bert_weights('bert.', 3)
    bare_cfg = {k: v for k, v in BERT.items() if k not in ('architectures', 'id2label')} | {'hidden_act': 'silu'}
    bare_w = {}
    for k, v in bert_w.items():
        if k.startswith('bert.') and 'pooler' not in k:
            bare_w[k[len('bert.'):].replace('LayerNorm.weight', 'LayerNorm.gamma').replace('LayerNorm.bias', 'LayerNorm.beta')] = v
    roberta_w = bert_weights('roberta.', 2)
    distil_w = distilbert_weights(4)
    # Heads drawn after the first four models' weights, so those stay as they were.
    bert_w.update(dense('cls.seq_relationship', 2, C))
    roberta_w.update(dense('qa_outputs', 2, C))
    token_w = {k: v for k, v in distil_w.items() if k.startswith('distilbert.')}
    token_w.update(dense('classifier', 5, C))
    token_cfg = dict(DISTILBERT, architectures=['DistilBertForTokenClassification'], activation='gelu',
                     id2label={'0': 'O', '1': 'B-PER', '2': 'I-PER', '3': 'B-LOC', '4': 'I-LOC'})
    del token_cfg['problem_type']
    models = [('bert', BERT, bert_w), ('roberta', ROBERTA, roberta_w),
              ('distilbert', DISTILBERT, distil_w), ('bare', bare_cfg, bare_w), ('distilbert-token', token_cfg, token_w)]
    for kind, cfg, w in models:
        save_safetensors(os.path.join(OUT, f'{"bert-bare" if kind == "bare" else kind}.safetensors'), w)
        arch = 'distilbert' if kind == 'distilbert-token' else kind
        ids, types = batch(arch, cfg)
        outs = [forward(arch, cfg, w, s, t) for s, t in zip(ids, types)]
        e = {'config': cfg, 'ids': ids, 'typeIds': types, 'hidden': [rounded(o[0]) for o in outs]}
        if outs[0][1] is not None:
            e['mlm'] = [rounded(o[1]) for o in outs]
            e['classify'] = rounded(torch.stack([o[2] for o in outs]))
        d = {k: v.double() for k, v in w.items()}
        hs = [o[0] for o in outs]
        if 'cls.seq_relationship.weight' in w:  # BertPreTrainingHeads: seq_relationship(pooler(h[0]))
            pooled = [torch.tanh(linear(h[0], d['bert.pooler.dense.weight'], d['bert.pooler.dense.bias'])) for h in hs]
            e['nsp'] = rounded(torch.stack([linear(x, d['cls.seq_relationship.weight'], d['cls.seq_relationship.bias']) for x in pooled]))
        if 'qa_outputs.weight' in w:  # *ForQuestionAnswering: qa_outputs(h) split into start, end
            e['qa'] = [rounded(linear(h, d['qa_outputs.weight'], d['qa_outputs.bias'])) for h in hs]
        if kind == 'bert':  # attention probabilities of every layer, [L][H, T, T] per sequence
            global CAPTURE
            e['attention'] = []
            for seq, t in zip(ids, types):
                CAPTURE = []
                forward(arch, cfg, w, seq, t)
                e['attention'].append([rounded(p) for p in CAPTURE])
            CAPTURE = None
        if kind in ('distilbert-token', 'bert'):  # *ForTokenClassification: classifier(h) (bert: as if so declared)
            e['tokens'] = [rounded(linear(h, d['classifier.weight'], d['classifier.bias'])) for h in hs]
        expected[kind] = e
    # ModernBERT last, so the models above keep their weights and batches.
    mb_w = modernbert_weights(MODERNBERT, 3)
    save_safetensors(os.path.join(OUT, 'modernbert.safetensors'), mb_w)
    ids, _ = batch('distilbert', MODERNBERT)
    ids[2] = ids[2] + torch.randint(3, V, (9,), generator=gen).tolist()  # 22 tokens: local windows of 4 bite
    outs = [modernbert_forward(MODERNBERT, mb_w, s) for s in ids]
    d = {k: v.double() for k, v in mb_w.items()}
    zero = torch.zeros(C, dtype=torch.float64)
    head = lambda t: layer_norm(act('gelu', t @ d['head.dense.weight'].T), d['head.norm.weight'], zero, 1e-5)  # noqa: E731
    expected['modernbert'] = {'config': MODERNBERT, 'ids': ids, 'typeIds': [[0] * len(s) for s in ids],
                              'hidden': [rounded(o[0]) for o in outs], 'mlm': [rounded(o[1]) for o in outs],
                              'classify': rounded(torch.stack([o[2] for o in outs])),
                              # ModernBertForTokenClassification: classifier(head(h)) per token
                              'tokens': [rounded(linear(head(o[0]), d['classifier.weight'], d['classifier.bias'])) for o in outs]}
    with open(os.path.join(OUT, 'expected.json'), 'w') as f:
        json.dump(expected, f, separators=(',', ':'))
    print('wrote', OUT, {k: os.path.getsize(os.path.join(OUT, k)) for k in sorted(os.listdir(OUT))})


if __name__ == '__main__':
    main()

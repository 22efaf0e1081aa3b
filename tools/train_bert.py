#!/usr/bin/python3
"""The "Transformers: BERT" page's bundled model: a tiny BERT trained here on the King James Bible, with its
own WordPiece vocabulary, written as a Hugging Face / sentence-transformers model folder that
Encoder.fromSafetensors, TextTokenizer.fromJSON and sentenceTransformersOptions load like any download:
  public/models/kjv-bert/config.json               BertForPreTraining config (+ id2label of the classifier)
  public/models/kjv-bert/model.safetensors         weights (F16), Hugging Face names (bert.*, cls.*, classifier.*)
  public/models/kjv-bert/vocab.txt                 the WordPiece vocabulary, one token a line (BertTokenizer's file)
  public/models/kjv-bert/tokenizer.json            the same vocabulary as the tokenizers library lays out bert-base-uncased
  public/models/kjv-bert/tokenizer_config.json     lowercase, special tokens, model_max_length
  public/models/kjv-bert/modules.json, 1_Pooling/config.json, 2_Normalize/   sentence-transformers: mean pooling, normalised
  public/models/kjv-bert/verses.tsv                every 10th verse with its reference: the page's semantic-search corpus
demos/bert/recorded.json (the page's example without WebGPU: the model's fill-mask and classifier in float64
PyTorch; `train_bert.py record` remakes it from the saved model), and
tests/fixtures/bert/tokenizer-expected.json: ids, segment ids and character offsets that this script's
tokenizer gives for tricky strings and pairs (the golden file of tests/node/bert-tokenizer.test.ts).

The tokenizer is transformers' BertTokenizer written out (read from tokenization_bert.py): BasicTokenizer
(clean_text: control characters dropped, whitespace to spaces; spaces around CJK ideographs; whitespace
split; lowercase, then accents stripped by NFD without the Mn marks; split on every punctuation character:
ASCII 33-47, 58-64, 91-96, 123-126 and the Unicode P* categories) and WordpieceTokenizer (greedy longest
match first, continuations prefixed '##', a word longer than max_input_chars_per_word or with any piece
missing becomes [UNK]). Offsets are those the tokenizers library reports: each piece's first and last
normalised characters mapped back to the original ones.

The vocabulary: the five special tokens, every character of the corpus alone and as '##c', the most
frequent endings of the words left out ('##eth', '##est', ...), and the most frequent words.

Training, in three stages on verses:
  1. masked LM (15% of the tokens: 80% [MASK], 10% a random token, 10% kept) on runs of whole verses;
  2. masked LM continued, with next-sentence prediction (a verse and the next one, or a random verse,
     as a pair with segment ids 0 / 1) and a testament classifier (Old / New) over the pooler;
  3. the sentence-embedding stage: mean-pooled states of a verse and of its neighbour pulled together
     against the other verses of the batch (in-batch InfoNCE, temperature 0.05, both directions), with
     the masked LM kept as a second loss so fill-mask still works.

Run with Debian's python3-torch:  /usr/bin/python3 tools/train_bert.py [steps]
"""
import collections
import json
import math
import os
import random
import sys
import time
import unicodedata

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
from corpus import kjv_references, kjv_verses  # noqa: E402
from train_llama import save_f16_safetensors  # noqa: E402

ROOT = os.path.join(os.path.dirname(__file__), '..')
OUT = os.path.join(ROOT, 'public', 'models', 'kjv-bert')
FIXTURES = os.path.join(ROOT, 'tests', 'fixtures', 'bert')
SPECIALS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']
PAD, UNK, CLS, SEP, MASK = range(5)
VOCAB = 2048
ENDINGS = 256
MAX_CHARS = 100
SEQ = 40
LABELS = ['Old Testament', 'New Testament']
NT_START = 'The book of the generation of Jesus Christ'  # Matthew 1:1


# ---------------------------------------------------------------- tokenizer (BertTokenizer written out)

def is_control(c):
    if c in '\t\n\r':
        return False
    return unicodedata.category(c).startswith('C')


def is_whitespace(c):
    return c in ' \t\n\r' or unicodedata.category(c) == 'Zs'


def is_punctuation(c):
    cp = ord(c)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(c).startswith('P')


def is_cjk(cp):
    return (0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2A6DF or 0x2A700 <= cp <= 0x2B73F
            or 0x2B740 <= cp <= 0x2B81F or 0x2B820 <= cp <= 0x2CEAF or 0xF900 <= cp <= 0xFAFF or 0x2F800 <= cp <= 0x2FA1F)


def normalize(text):
    """BertNormalizer (clean_text, CJK spacing, lowercase, accents stripped): [(char, original index)]."""
    out = []
    for i, c in enumerate(text):
        cp = ord(c)
        if cp == 0 or cp == 0xFFFD or is_control(c):
            continue
        if is_whitespace(c):
            out.append((' ', i))
            continue
        if is_cjk(cp):
            out += [(' ', i), (c, i), (' ', i)]
            continue
        for d in unicodedata.normalize('NFD', c.lower()):
            if unicodedata.category(d) != 'Mn':
                out.append((d, i))
    return out


def pre_tokenize(chars):
    """BertPreTokenizer: words split on whitespace, each punctuation character a word of its own."""
    words, cur = [], []
    for ch in chars:
        if ch[0] == ' ':
            if cur:
                words.append(cur)
            cur = []
        elif is_punctuation(ch[0]):
            if cur:
                words.append(cur)
            words.append([ch])
            cur = []
        else:
            cur.append(ch)
    if cur:
        words.append(cur)
    return words


def wordpiece(word, vocab):
    """[(token, [start, end))] for one pre-tokenized word: greedy longest match, or [UNK] for the whole word."""
    span = [word[0][1], word[-1][1] + 1]
    if len(word) > MAX_CHARS:
        return [('[UNK]', span)]
    s = ''.join(c for c, _ in word)
    pieces, start = [], 0
    while start < len(s):
        end = len(s)
        while end > start:
            sub = s[start:end] if start == 0 else '##' + s[start:end]
            if sub in vocab:
                break
            end -= 1
        if end == start:
            return [('[UNK]', span)]
        pieces.append((sub, [word[start][1], word[end - 1][1] + 1]))
        start = end
    return pieces


def tokenize(text, vocab):
    return [p for w in pre_tokenize(normalize(text)) for p in wordpiece(w, vocab)]


def encode(text, vocab):
    return [vocab[t] for t, _ in tokenize(text, vocab)]


def longest_first(n1, n2, room):
    """tokenizers' LongestFirst truncation of a pair to `room` tokens (utils/truncation.rs)."""
    if n1 + n2 <= room:
        return n1, n2
    swap = n1 > n2
    short, long = (n2, n1) if swap else (n1, n2)
    long = short if short > room else max(short, room - short)
    if short + long > room:
        short = room // 2
        long = short + room % 2
    return (long, short) if swap else (short, long)


def encode_pair(a, b, vocab, max_length=None):
    ta, tb = tokenize(a, vocab), tokenize(b, vocab)
    if max_length is not None:
        ka, kb = longest_first(len(ta), len(tb), max_length - 3)
        ta, tb = ta[:ka], tb[:kb]
    toks = [('[CLS]', [0, 0])] + ta + [('[SEP]', [0, 0])] + tb + [('[SEP]', [0, 0])]
    return {'ids': [vocab[t] for t, _ in toks], 'typeIds': [0] * (len(ta) + 2) + [1] * (len(tb) + 1),
            'offsets': [o for _, o in toks]}


def build_vocab(verses):
    words = collections.Counter(''.join(c for c, _ in w) for v in verses for w in pre_tokenize(normalize(v)))
    chars = sorted({c for w in words for c in w})
    tokens = SPECIALS + chars + ['##' + c for c in chars]
    room = VOCAB - len(tokens) - ENDINGS
    common = [w for w, _ in words.most_common() if w not in tokens][:room]
    kept = set(common)
    endings = collections.Counter()
    for w, n in words.items():
        if w not in kept:
            for k in (2, 3, 4):
                if len(w) > k + 1:
                    endings['##' + w[-k:]] += n
    tokens += [e for e, _ in endings.most_common(ENDINGS)] + common
    return {t: i for i, t in enumerate(tokens)}


def tokenizer_json(vocab):
    special = [{'id': vocab[s], 'content': s, 'single_word': False, 'lstrip': False, 'rstrip': False, 'normalized': False,
                'special': True} for s in SPECIALS]
    return {
        'version': '1.0', 'truncation': None, 'padding': None, 'added_tokens': special,
        'normalizer': {'type': 'BertNormalizer', 'clean_text': True, 'handle_chinese_chars': True, 'strip_accents': None,
                       'lowercase': True},
        'pre_tokenizer': {'type': 'BertPreTokenizer'},
        'post_processor': {
            'type': 'TemplateProcessing',
            'single': [{'SpecialToken': {'id': '[CLS]', 'type_id': 0}}, {'Sequence': {'id': 'A', 'type_id': 0}},
                       {'SpecialToken': {'id': '[SEP]', 'type_id': 0}}],
            'pair': [{'SpecialToken': {'id': '[CLS]', 'type_id': 0}}, {'Sequence': {'id': 'A', 'type_id': 0}},
                     {'SpecialToken': {'id': '[SEP]', 'type_id': 0}}, {'Sequence': {'id': 'B', 'type_id': 1}},
                     {'SpecialToken': {'id': '[SEP]', 'type_id': 1}}],
            'special_tokens': {s: {'id': s, 'ids': [vocab[s]], 'tokens': [s]} for s in ('[CLS]', '[SEP]')},
        },
        'decoder': {'type': 'WordPiece', 'prefix': '##', 'cleanup': True},
        'model': {'type': 'WordPiece', 'unk_token': '[UNK]', 'continuing_subword_prefix': '##',
                  'max_input_chars_per_word': MAX_CHARS, 'vocab': vocab},
    }


TRICKY = [
    'In the beginning God created the heaven and the earth.',
    'THE LORD is my shepherd; I shall not want.',
    'Café naïve Ångström façade résumé',
    'Hello,world!!(yes)…',
    "don't   stop\tthe\nrain",
    'Jesus wept. John 11:35, 3.14 and 1,000',
    '日本語 and 中文 words',
    'emoji 🙂 and symbols © ™ ∑',
    'x' * 120 + ' after a long word',
    'zzqxj unknownish wordpieces abcdefghij',
    'Ἰησοῦς Χριστός',
    'ﬁne ligature and full-width ＡＢＣ',
    'control\x00chars\x07here\u200b and\u00a0nbsp',
]
PAIRS = [
    ('Who made the heaven?', 'In the beginning God created the heaven and the earth.', None),
    ('Where is the lamb?', 'Behold the Lamb of God, which taketh away the sin of the world.', 12),
    ('A very long question about the sins of the world and the mercy of the Lord', 'Short answer.', 10),
]


def js_offsets(text, offsets):
    """Character offsets as JavaScript strings count them (UTF-16 code units: an emoji is two)."""
    unit = lambda i: len(text[:i].encode('utf-16-le')) // 2  # noqa: E731
    return [[unit(a), unit(b)] if b > 0 else [0, 0] for a, b in offsets]


def write_fixture(vocab):
    os.makedirs(FIXTURES, exist_ok=True)
    single = [{'text': t, 'ids': [vocab['[CLS]']] + encode(t, vocab) + [vocab['[SEP]']],
               'tokens': [p for p, _ in tokenize(t, vocab)], 'offsets': js_offsets(t, [o for _, o in tokenize(t, vocab)])}
              for t in TRICKY]
    pairs = []
    for a, b, m in PAIRS:
        e = encode_pair(a, b, vocab, m)
        seg = e['typeIds']
        e['offsets'] = [js_offsets(a if s == 0 else b, [o])[0] for o, s in zip(e['offsets'], seg)]
        pairs.append({'a': a, 'b': b, 'maxLength': m, **e})
    with open(os.path.join(FIXTURES, 'tokenizer-expected.json'), 'w') as f:
        rows = lambda xs: ',\n'.join(json.dumps(x, ensure_ascii=False) for x in xs)  # noqa: E731
        f.write('{"single": [\n' + rows(single) + '\n],\n"pairs": [\n' + rows(pairs) + '\n]}\n')


# ---------------------------------------------------------------- model (BertForPreTraining + classifier)

class Bert(torch.nn.Module):
    """transformers' BertForPreTraining (post-norm blocks, exact-erf GELU) plus a sequence classifier on the pooler."""

    def __init__(self, cfg):
        super().__init__()
        C, I, V, L = cfg['hidden_size'], cfg['intermediate_size'], cfg['vocab_size'], cfg['num_hidden_layers']
        self.cfg = cfg
        lin = torch.nn.Linear
        ln = lambda: torch.nn.LayerNorm(C, eps=cfg['layer_norm_eps'])  # noqa: E731
        self.word = torch.nn.Embedding(V, C)
        self.pos = torch.nn.Embedding(cfg['max_position_embeddings'], C)
        self.types = torch.nn.Embedding(cfg['type_vocab_size'], C)
        self.emb_ln = ln()
        self.layers = torch.nn.ModuleList([torch.nn.ModuleDict({
            'q': lin(C, C), 'k': lin(C, C), 'v': lin(C, C), 'o': lin(C, C), 'ln1': ln(),
            'up': lin(C, I), 'down': lin(I, C), 'ln2': ln()}) for _ in range(L)])
        self.pooler = lin(C, C)
        self.mlm_dense, self.mlm_ln = lin(C, C), ln()
        self.mlm_bias = torch.nn.Parameter(torch.zeros(V))
        self.nsp = lin(C, 2)
        self.classifier = lin(C, len(LABELS))
        self.drop = torch.nn.Dropout(0.1)
        for m in self.modules():
            if isinstance(m, (torch.nn.Linear, torch.nn.Embedding)):
                torch.nn.init.normal_(m.weight, std=0.02)

    def forward(self, ids, types, pad_mask):
        B, T = ids.shape
        H = self.cfg['num_attention_heads']
        C = self.cfg['hidden_size']
        x = self.drop(self.emb_ln(self.word(ids) + self.pos(torch.arange(T)) + self.types(types)))
        bias = (~pad_mask)[:, None, None, :] * -1e9
        for l in self.layers:
            q, k, v = (l[n](x).view(B, T, H, C // H).transpose(1, 2) for n in 'qkv')
            a = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(C // H) + bias, -1)
            ctx = (self.drop(a) @ v).transpose(1, 2).reshape(B, T, C)
            x = l['ln1'](x + self.drop(l['o'](ctx)))
            x = l['ln2'](x + self.drop(l['down'](F.gelu(l['up'](x)))))
        return x

    def mlm_logits(self, h):
        return self.mlm_ln(F.gelu(self.mlm_dense(h))) @ self.word.weight.T + self.mlm_bias

    def pooled(self, h):
        return torch.tanh(self.pooler(h[:, 0]))

    def hf_state(self):
        s = {'bert.embeddings.word_embeddings.weight': self.word.weight,
             'bert.embeddings.position_embeddings.weight': self.pos.weight,
             'bert.embeddings.token_type_embeddings.weight': self.types.weight,
             'bert.embeddings.LayerNorm.weight': self.emb_ln.weight, 'bert.embeddings.LayerNorm.bias': self.emb_ln.bias}
        names = {'q': 'attention.self.query', 'k': 'attention.self.key', 'v': 'attention.self.value',
                 'o': 'attention.output.dense', 'ln1': 'attention.output.LayerNorm', 'up': 'intermediate.dense',
                 'down': 'output.dense', 'ln2': 'output.LayerNorm'}
        for i, l in enumerate(self.layers):
            for n, hf in names.items():
                s[f'bert.encoder.layer.{i}.{hf}.weight'] = l[n].weight
                s[f'bert.encoder.layer.{i}.{hf}.bias'] = l[n].bias
        s.update({'bert.pooler.dense.weight': self.pooler.weight, 'bert.pooler.dense.bias': self.pooler.bias,
                  'cls.predictions.transform.dense.weight': self.mlm_dense.weight,
                  'cls.predictions.transform.dense.bias': self.mlm_dense.bias,
                  'cls.predictions.transform.LayerNorm.weight': self.mlm_ln.weight,
                  'cls.predictions.transform.LayerNorm.bias': self.mlm_ln.bias,
                  'cls.predictions.bias': self.mlm_bias,
                  'cls.seq_relationship.weight': self.nsp.weight, 'cls.seq_relationship.bias': self.nsp.bias,
                  'classifier.weight': self.classifier.weight, 'classifier.bias': self.classifier.bias})
        return s


def pad_batch(seqs, types=None):
    T = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), T), PAD, dtype=torch.long)
    ty = torch.zeros((len(seqs), T), dtype=torch.long)
    for i, s in enumerate(seqs):
        ids[i, :len(s)] = torch.tensor(s)
        if types:
            ty[i, :len(s)] = torch.tensor(types[i])
    return ids, ty, ids != PAD


def mask_tokens(ids, V):
    """BERT's masking: 15% of the real tokens are targets; of those 80% [MASK], 10% random, 10% kept."""
    real = ids > MASK
    target = (torch.rand(ids.shape) < 0.15) & real
    labels = torch.where(target, ids, torch.full_like(ids, -100))
    r = torch.rand(ids.shape)
    out = ids.clone()
    out[target & (r < 0.8)] = MASK
    rnd = target & (r >= 0.8) & (r < 0.9)
    out[rnd] = torch.randint(len(SPECIALS), V, (int(rnd.sum()),))
    return out, labels


def main(steps):
    random.seed(0)
    torch.manual_seed(0)
    torch.set_num_threads(1)  # one thread: on a shared machine two spin against each other
    t0 = time.time()
    verses = kjv_verses()
    nt = next(i for i, v in enumerate(verses) if v.startswith(NT_START))
    vocab = build_vocab(verses)
    V = len(vocab)
    enc = [encode(v, vocab)[:SEQ - 3] for v in verses]
    unk = sum(x.count(UNK) for x in enc) / sum(len(x) for x in enc)
    print(f'{len(verses)} verses (New Testament from {nt}), vocab {V}, [UNK] {unk:.4%} ({time.time() - t0:.0f}s)', flush=True)
    os.makedirs(os.path.join(OUT, '1_Pooling'), exist_ok=True)
    os.makedirs(os.path.join(OUT, '2_Normalize'), exist_ok=True)
    write_fixture(vocab)
    with open(os.path.join(OUT, 'vocab.txt'), 'w') as f:
        f.write(''.join(t + '\n' for t in vocab))
    with open(os.path.join(OUT, 'tokenizer.json'), 'w') as f:
        json.dump(tokenizer_json(vocab), f, ensure_ascii=False)
    with open(os.path.join(OUT, 'tokenizer_config.json'), 'w') as f:
        json.dump({'tokenizer_class': 'BertTokenizer', 'do_lower_case': True, 'unk_token': '[UNK]', 'sep_token': '[SEP]',
                   'pad_token': '[PAD]', 'cls_token': '[CLS]', 'mask_token': '[MASK]', 'model_max_length': 128}, f, indent=1)
    with open(os.path.join(OUT, 'modules.json'), 'w') as f:
        json.dump([{'idx': 0, 'name': '0', 'path': '', 'type': 'sentence_transformers.models.Transformer'},
                   {'idx': 1, 'name': '1', 'path': '1_Pooling', 'type': 'sentence_transformers.models.Pooling'},
                   {'idx': 2, 'name': '2', 'path': '2_Normalize', 'type': 'sentence_transformers.models.Normalize'}], f, indent=1)
    with open(os.path.join(OUT, '1_Pooling', 'config.json'), 'w') as f:
        json.dump({'word_embedding_dimension': 64, 'pooling_mode_cls_token': False, 'pooling_mode_mean_tokens': True,
                   'pooling_mode_max_tokens': False, 'pooling_mode_mean_sqrt_len_tokens': False}, f, indent=1)
    with open(os.path.join(OUT, 'verses.tsv'), 'w') as f:  # the page's search corpus: every 10th verse
        f.write(''.join(f'{r}\t{v}\n' for r, v in kjv_references()[::10]))
    with open(os.path.join(OUT, '2_Normalize', '.keep'), 'w') as f:
        f.write('')  # sentence-transformers' Normalize module has no files; git keeps no empty folder
    if steps == 0:
        return
    cfg = {'architectures': ['BertForPreTraining'], 'model_type': 'bert', 'vocab_size': V, 'hidden_size': 64,
           'num_hidden_layers': 3, 'num_attention_heads': 4, 'intermediate_size': 256, 'hidden_act': 'gelu',
           'max_position_embeddings': 128, 'type_vocab_size': 2, 'layer_norm_eps': 1e-12, 'pad_token_id': PAD,
           'id2label': {str(i): l for i, l in enumerate(LABELS)}, 'label2id': {l: i for i, l in enumerate(LABELS)},
           'torch_dtype': 'float16'}
    model = Bert(cfg)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)
    s1, s2 = int(steps * 0.6), int(steps * 0.8)
    B = 32

    def runs():  # consecutive verses packed up to SEQ tokens
        i = random.randrange(len(enc))
        out = []
        while i < len(enc) and len(out) + len(enc[i]) <= SEQ - 2:
            out += enc[i]
            i += 1
        return [CLS] + (out or enc[i - 1]) + [SEP]

    def mlm_loss(seqs, types=None):
        ids, ty, m = pad_batch(seqs, types)
        x, labels = mask_tokens(ids, V)
        h = model(x, ty, m)
        target = labels != -100  # the vocabulary projection only where a token is predicted
        return F.cross_entropy(model.mlm_logits(h[target]), labels[target]), h

    def mean_pool(seqs):
        ids, ty, m = pad_batch(seqs)
        h = model(ids, ty, m)
        return F.normalize((h * m[..., None]).sum(1) / m.sum(1, keepdim=True), dim=-1)

    for step in range(steps):
        lr = 1e-3 * min(1, (step + 1) / 100) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * step / steps)))
        for gr in opt.param_groups:
            gr['lr'] = lr
        model.train()
        if step < s1:
            loss, _ = mlm_loss([runs() for _ in range(B)])
            parts = {'mlm': loss.item()}
        elif step < s2:
            pairs, types, nsp = [], [], []
            for _ in range(B):
                i = random.randrange(len(enc) - 1)
                follows = random.random() < 0.5
                j = i + 1 if follows else random.randrange(len(enc))
                a, b = enc[i][:(SEQ - 3) // 2], enc[j][:(SEQ - 3) // 2]
                pairs.append([CLS] + a + [SEP] + b + [SEP])
                types.append([0] * (len(a) + 2) + [1] * (len(b) + 1))
                nsp.append(0 if follows else 1)  # BERT's convention: 0 = b follows a
            lm, h = mlm_loss(pairs, types)
            pooled = model.pooled(h)
            ln = F.cross_entropy(model.nsp(pooled), torch.tensor(nsp))
            loss = lm + ln
            parts = {'mlm': lm.item(), 'nsp': ln.item()}
        else:
            idx = random.sample(range(len(enc) - 1), B)
            a = mean_pool([[CLS] + enc[i] + [SEP] for i in idx])
            b = mean_pool([[CLS] + enc[i + 1] + [SEP] for i in idx])
            sim = a @ b.T / 0.05
            target = torch.arange(B)
            lc = (F.cross_entropy(sim, target) + F.cross_entropy(sim.T, target)) / 2
            lm, _ = mlm_loss([runs() for _ in range(B // 2)])
            loss = lc + lm
            parts = {'mlm': lm.item(), 'contrastive': lc.item()}
        if step >= s1:  # the testament classifier, on single verses, from stage 2 on
            idx = random.sample(range(len(enc)), B // 2)
            ids, ty, m = pad_batch([[CLS] + enc[i] + [SEP] for i in idx])
            lcls = F.cross_entropy(model.classifier(model.pooled(model(ids, ty, m))), torch.tensor([int(i >= nt) for i in idx]))
            loss = loss + lcls
            parts['testament'] = lcls.item()
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if step % 25 == 0 or step == steps - 1:
            print(f'step {step} ' + ' '.join(f'{k} {v:.3f}' for k, v in parts.items()) + f' ({time.time() - t0:.0f}s)', flush=True)
        if (step + 1) % 100 == 0 or step == steps - 1:  # saved as it goes: a run cut short still leaves a model
            save_f16_safetensors(os.path.join(OUT, 'model.safetensors'), model.hf_state())
            with open(os.path.join(OUT, 'config.json'), 'w') as f:
                json.dump({**cfg, 'corpus': 'King James Bible (bible-kjv-text)', 'steps': step + 1}, f, indent=1)
    print('->', OUT, f'({time.time() - t0:.0f}s)')


FILL = 'And God said, Let there be [MASK]: and there was light.'  # the page's default sentence
CLASSIFY = 'Jesus answered and said unto them, Verily I say unto you.'


def record():
    """demos/bert/recorded.json, what the page shows without WebGPU: the saved model (its F16 weights, in
    float64) filling the page's default mask, and classifying its default text."""
    import numpy as np
    with open(os.path.join(OUT, 'config.json')) as f:
        cfg = json.load(f)
    with open(os.path.join(OUT, 'model.safetensors'), 'rb') as f:
        n = int.from_bytes(f.read(8), 'little')
        header = json.loads(f.read(n))
        data = f.read()
    header.pop('__metadata__', None)
    model = Bert(cfg).double().eval()
    for name, param in model.hf_state().items():
        a, b = header[name]['data_offsets']
        param.data = torch.from_numpy(np.frombuffer(data[a:b], dtype='<f2').astype(np.float64).reshape(header[name]['shape']))
    vocab = {t: i for i, t in enumerate(open(os.path.join(OUT, 'vocab.txt')).read().split('\n')[:-1])}
    words = list(vocab)
    parts = FILL.split('[MASK]')
    ids = [CLS] + encode(parts[0], vocab) + [MASK] + encode(parts[1], vocab) + [SEP]
    with torch.no_grad():
        x = torch.tensor([ids])
        h = model(x, torch.zeros_like(x), x != PAD)
        p = torch.softmax(model.mlm_logits(h)[0, ids.index(MASK)], -1)
        top = torch.topk(p, 5)
        c = [CLS] + encode(CLASSIFY, vocab) + [SEP]
        x = torch.tensor([c])
        q = torch.softmax(model.classifier(model.pooled(model(x, torch.zeros_like(x), x != PAD))), -1)[0]
    out = {'sentence': FILL, 'steps': cfg.get('steps'),
           'fill': [{'token': words[i], 'p': round(float(v), 4)} for v, i in zip(top.values.tolist(), top.indices.tolist())],
           'classify': {'text': CLASSIFY, 'scores': {l: round(float(q[i]), 4) for i, l in enumerate(LABELS)}}}
    with open(os.path.join(ROOT, 'demos', 'bert', 'recorded.json'), 'w') as f:
        json.dump(out, f, indent=1)
    print(out)


if __name__ == '__main__':
    if sys.argv[1:] == ['record']:
        record()
    else:
        main(int(sys.argv[1]) if len(sys.argv) > 1 else 500)
        record()

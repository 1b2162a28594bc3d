"""A small BERT-style encoder over moat's behaviour vocabulary.

Hand-written on purpose: torch 1.13's nn.TransformerEncoder does not export to
ONNX, this one exports at opset 14-17 and matches torch within 1e-6.

Input contract (shared with scan/model in Go):
  input_ids      int64 [batch, len]  [CLS] t1 .. tn [SEP] [PAD]...
  attention_mask int64 [batch, len]  1 for real positions, 0 for padding
Output of the exported graph:
  probability    float32 [batch]     sigmoid of the classifier logit (an
                                     ensemble: the members' mean)
"""

import math

import torch
from torch import nn
import torch.nn.functional as F

PAD, CLS, SEP, MASK, UNK = 0, 1, 2, 3, 4
SPECIALS = ["[PAD]", "[CLS]", "[SEP]", "[MASK]", "[UNK]"]


class Config:
    def __init__(self, vocab_size, max_len=512, width=128, heads=4, layers=2,
                 ff=512, dropout=0.1, pool_act="tanh"):
        self.vocab_size = vocab_size
        self.max_len = max_len
        self.width = width
        self.heads = heads
        self.layers = layers
        self.ff = ff
        self.dropout = dropout
        # Activation of the pooling layer: "tanh" (BERT's; it bounds the
        # logit, so confident scores crowd into a narrow band under 1) or
        # "gelu" (unbounded above: confident malice keeps its margin).
        self.pool_act = pool_act

    def to_dict(self):
        return dict(vocab_size=self.vocab_size, max_len=self.max_len,
                    width=self.width, heads=self.heads, layers=self.layers,
                    ff=self.ff, dropout=self.dropout, pool_act=self.pool_act)

    @classmethod
    def from_dict(cls, d):
        return cls(**d)


class Block(nn.Module):
    """Post-LN transformer block (as in BERT): attention, then a GELU FFN."""

    def __init__(self, cfg):
        super().__init__()
        self.heads = cfg.heads
        self.head_dim = cfg.width // cfg.heads
        self.qkv = nn.Linear(cfg.width, 3 * cfg.width)
        self.out = nn.Linear(cfg.width, cfg.width)
        self.ln1 = nn.LayerNorm(cfg.width, eps=1e-12)
        self.ff1 = nn.Linear(cfg.width, cfg.ff)
        self.ff2 = nn.Linear(cfg.ff, cfg.width)
        self.ln2 = nn.LayerNorm(cfg.width, eps=1e-12)
        self.drop = nn.Dropout(cfg.dropout)

    def forward(self, x, bias):
        # x [B, L, W]; bias [B, 1, 1, L] (0 for real keys, -1e4 for padding)
        b, l, w = x.shape
        qkv = self.qkv(x).reshape(b, l, 3, self.heads, self.head_dim)
        qkv = qkv.permute(2, 0, 3, 1, 4)  # 3, B, H, L, D
        q, k, v = qkv[0], qkv[1], qkv[2]
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.head_dim)
        attn = torch.softmax(scores + bias, dim=-1)
        attn = self.drop(attn)
        ctx = torch.matmul(attn, v).permute(0, 2, 1, 3).reshape(b, l, w)
        x = self.ln1(x + self.drop(self.out(ctx)))
        h = self.ff2(self.drop(F.gelu(self.ff1(x))))
        return self.ln2(x + self.drop(h))


class Encoder(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.tok = nn.Embedding(cfg.vocab_size, cfg.width, padding_idx=PAD)
        self.pos = nn.Embedding(cfg.max_len, cfg.width)
        self.ln = nn.LayerNorm(cfg.width, eps=1e-12)
        self.drop = nn.Dropout(cfg.dropout)
        self.blocks = nn.ModuleList([Block(cfg) for _ in range(cfg.layers)])
        # Masked-token head (pretraining).
        self.mlm = nn.Sequential(nn.Linear(cfg.width, cfg.width), nn.GELU(),
                                 nn.LayerNorm(cfg.width, eps=1e-12),
                                 nn.Linear(cfg.width, cfg.vocab_size))
        # Classifier head over [CLS] concatenated with the masked mean.
        self.pool = nn.Linear(2 * cfg.width, cfg.width)
        self.cls = nn.Linear(cfg.width, 1)
        self.apply(self._init)

    @staticmethod
    def _init(m):
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, std=0.02)
        if isinstance(m, nn.Linear) and m.bias is not None:
            nn.init.zeros_(m.bias)

    def hidden(self, input_ids, attention_mask):
        l = input_ids.shape[1]
        pos = torch.arange(l, device=input_ids.device).unsqueeze(0)
        x = self.drop(self.ln(self.tok(input_ids) + self.pos(pos)))
        mask = attention_mask.to(x.dtype)
        bias = ((1.0 - mask) * -10000.0).unsqueeze(1).unsqueeze(2)
        for blk in self.blocks:
            x = blk(x, bias)
        return x

    def logit(self, input_ids, attention_mask):
        h = self.hidden(input_ids, attention_mask)
        mask = attention_mask.to(h.dtype).unsqueeze(-1)
        mean = (h * mask).sum(1) / mask.sum(1).clamp(min=1.0)
        pooled = self.pool(torch.cat([h[:, 0], mean], dim=-1))
        pooled = F.gelu(pooled) if self.cfg.pool_act == "gelu" else torch.tanh(pooled)
        return self.cls(self.drop(pooled)).squeeze(-1)

    def mlm_logits(self, input_ids, attention_mask):
        return self.mlm(self.hidden(input_ids, attention_mask))

    def prob(self, input_ids, attention_mask):
        return torch.sigmoid(self.logit(input_ids, attention_mask))


class Ensemble(nn.Module):
    """Encoders trained alike from different seeds; the probability is their
    mean (variance reduction: one seed's quirks near the threshold average out)."""

    def __init__(self, members):
        super().__init__()
        self.members = nn.ModuleList(members)
        self.cfg = members[0].cfg

    def prob(self, input_ids, attention_mask):
        return torch.stack([m.prob(input_ids, attention_mask) for m in self.members]).mean(0)


class Exported(nn.Module):
    """The graph shipped as ONNX: (input_ids, attention_mask) -> probability."""

    def __init__(self, enc):
        super().__init__()
        self.enc = enc

    def forward(self, input_ids, attention_mask):
        return self.enc.prob(input_ids, attention_mask)


def encode(tokens, vocab, max_len):
    """[CLS] + head of tokens + [SEP]; the same rule as scan/model in Go.

    A leading [CLS] / trailing [SEP] already in tokens is dropped first;
    unknown tokens map to [UNK]. The head is kept (install-time first).
    """
    if tokens and tokens[0] == "[CLS]":
        tokens = tokens[1:]
    if tokens and tokens[-1] == "[SEP]":
        tokens = tokens[:-1]
    tokens = tokens[: max_len - 2]
    return [CLS] + [vocab.get(t, UNK) for t in tokens] + [SEP]


def pad_batch(seqs):
    l = max(len(s) for s in seqs)
    ids = torch.zeros(len(seqs), l, dtype=torch.long)
    mask = torch.zeros(len(seqs), l, dtype=torch.long)
    for i, s in enumerate(seqs):
        ids[i, : len(s)] = torch.tensor(s, dtype=torch.long)
        mask[i, : len(s)] = 1
    return ids, mask

"""Reference outputs for the MiniLM-L6 port: token ids and sentence embeddings.

usage: minilm_reference.py assets/minilm-l6 tests/fixtures/minilm_reference.json
needs: numpy, safetensors, tokenizers==0.22.2 (Hugging Face's Python package, the tokenizer the
model was trained with).

Token ids come from Hugging Face `tokenizers` on the model's own tokenizer.json (padding off,
truncation to `max_length`). Embeddings come from an independent NumPy float64 implementation of
the BERT encoder written from the architecture (not from burn): embeddings + LayerNorm, 6 post-LN
layers of 12-head self-attention and an erf-GELU feed-forward, mean pooling over the attention
mask, L2 normalisation.
"""
import json
import math
import sys

import numpy as np
from safetensors.numpy import load_file
from tokenizers import Tokenizer

model_dir, out_path = sys.argv[1:3]
HEADS, LAYERS, EPS = 12, 6, 1e-12

TRICKY = [
    "Hello, world!",
    "Héllo wörld, naïve café — Ångström ÉCOLE",
    "I loved it 😍🎬!! 10/10 👍🏽",
    "这部电影很好看，我喜欢。",
    "日本語のテキストと한국어",
    "Visit https://example.com/path?q=1&x=2#frag or mail me@example.org",
    "Pneumonoultramicroscopicsilicovolcanoconiosis " + "a" * 120,
    "",
    "  \t\n  ",
    "Don't stop—it's 100% great... isn't it?!",
    "ﬁne ligatures and ½ fractions, ™ and ©",
    "zero\u200bwidth and control\u0007chars\u00a0nbsp",
    "UPPER lower MiXeD CaSe",
]
TRUNCATION = [("one two three four five six seven eight nine ten eleven twelve", 8)]
SENTENCES = [
    "A man is playing a guitar.",
    "Someone is strumming a guitar.",
    "The stock market fell sharply today.",
    "This movie was a complete waste of time.",
    "An absolutely wonderful, moving film.",
]


def tokenizer(max_length):
    tok = Tokenizer.from_file(f"{model_dir}/tokenizer.json")
    tok.no_padding()
    tok.enable_truncation(max_length=max_length)
    return tok


def layer_norm(x, w, b):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + EPS) * w + b


def gelu(x):
    erf = np.vectorize(math.erf)
    return 0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))


def embed(ids, w):
    """Sentence embedding of one unpadded sequence."""
    n = len(ids)
    g = lambda k: w[k].astype(np.float64)
    x = g("embeddings.word_embeddings.weight")[ids] + g("embeddings.position_embeddings.weight")[:n] \
        + g("embeddings.token_type_embeddings.weight")[0]
    x = layer_norm(x, g("embeddings.LayerNorm.weight"), g("embeddings.LayerNorm.bias"))
    d = x.shape[1]
    hd = d // HEADS
    for i in range(LAYERS):
        p = f"encoder.layer.{i}."
        lin = lambda t, name: t @ g(p + name + ".weight").T + g(p + name + ".bias")
        q, k, v = (lin(x, f"attention.self.{n_}").reshape(n, HEADS, hd).transpose(1, 0, 2) for n_ in ("query", "key", "value"))
        scores = q @ k.transpose(0, 2, 1) / math.sqrt(hd)
        scores = np.exp(scores - scores.max(-1, keepdims=True))
        attn = scores / scores.sum(-1, keepdims=True)
        ctx = (attn @ v).transpose(1, 0, 2).reshape(n, d)
        x = layer_norm(x + lin(ctx, "attention.output.dense"), g(p + "attention.output.LayerNorm.weight"), g(p + "attention.output.LayerNorm.bias"))
        h = gelu(lin(x, "intermediate.dense"))
        x = layer_norm(x + lin(h, "output.dense"), g(p + "output.LayerNorm.weight"), g(p + "output.LayerNorm.bias"))
    pooled = x.mean(0)
    return pooled / np.linalg.norm(pooled)


weights = load_file(f"{model_dir}/model.safetensors")
tok128 = tokenizer(128)
tokens = [{"text": t, "max_length": 128, "ids": tok128.encode(t).ids} for t in TRICKY]
tokens += [{"text": t, "max_length": m, "ids": tokenizer(m).encode(t).ids} for t, m in TRUNCATION]
embeddings = []
for s in SENTENCES:
    ids = tok128.encode(s).ids
    embeddings.append({"text": s, "ids": ids, "embedding": [round(float(v), 8) for v in embed(ids, weights)]})
E = np.array([e["embedding"] for e in embeddings])
cos = E @ E.T
with open(out_path, "w", encoding="utf-8") as f:
    json.dump({"tokens": tokens, "embeddings": embeddings, "cosines": np.round(cos, 6).tolist()}, f, ensure_ascii=False, indent=1)
print("cosine guitar/guitar-paraphrase %.4f, guitar/stock-market %.4f" % (cos[0, 1], cos[0, 2]))

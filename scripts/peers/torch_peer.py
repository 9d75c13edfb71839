#!/usr/bin/env python3
"""The PyTorch peer of the benchmark (scripts/bench-peers.mjs): the same fine-tuning work as ours,
natively on the CPU, with the same weights, cut, optimiser and schedule.

- image: EfficientNet-Lite0 (the converted safetensors, batch-norm folded into the convolutions as
  ours does), frozen up to the last 2 MBConv blocks; trains blocks 14-15 + `_conv_head` + a new
  linear head on Fashion-MNIST (assets/fashion-bench: train 1 000, validation = test 1 000).
- text: all-MiniLM-L6-v2 (HF BERT weights), frozen embeddings + layers 0-3; trains layers 4-5 +
  masked mean pooling + dropout 0.1 + a new linear head on the movie-review snippets (stratified
  80/20, seed 0), max length 64 ([SEP] kept).

Both cache the frozen part's output once (f16, as ours), then train with AdamW (head 1e-3,
pretrained layers 1e-4, weight decay 1e-4), 10 % linear warm-up then cosine decay, batch 32.
Prints one JSON object: caching ex/s, time to first step, per-epoch training ex/s, peak RSS, the
best epoch's (lowest validation loss) accuracy.

Usage: torch_peer.py image|text [--epochs 3] [--threads N]
       torch_peer.py text-data   (the text set-up as JSON, for the TF.js peer)
"""
import argparse
import csv
import json
import math
import os
import random
import resource
import time

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from safetensors.numpy import load_file
from torch import nn

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
STAGES = [(1, 3, 1, 1, 32, 16), (2, 3, 2, 6, 16, 24), (2, 5, 2, 6, 24, 40), (3, 3, 2, 6, 40, 80),
          (3, 5, 1, 6, 80, 112), (4, 5, 2, 6, 112, 192), (1, 3, 1, 6, 192, 320)]
BATCH = 32


def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ---------------------------------------------------------------- EfficientNet-Lite0

class Conv(nn.Module):
    """Convolution with batch-norm folded in (weight and bias), TF "SAME" padding, optional ReLU6."""

    def __init__(self, p, conv, bn, stride=1, depthwise=False, act=True):
        super().__init__()
        w, g, b = p[conv + ".weight"], p[bn + ".weight"], p[bn + ".bias"]
        scale = g / np.sqrt(p[bn + ".running_var"] + 1e-3)
        self.weight = nn.Parameter(torch.tensor(w * scale[:, None, None, None], dtype=torch.float32))
        self.bias = nn.Parameter(torch.tensor(b - p[bn + ".running_mean"] * scale, dtype=torch.float32))
        self.stride, self.groups, self.act = stride, (w.shape[0] if depthwise else 1), act

    def forward(self, x):
        k, s = self.weight.shape[2], self.stride
        h = x.shape[2]
        pad = max((math.ceil(h / s) - 1) * s + k - h, 0)
        x = F.pad(x, (pad // 2, pad - pad // 2, pad // 2, pad - pad // 2))
        x = F.conv2d(x, self.weight, self.bias, s, 0, 1, self.groups)
        return F.relu6(x) if self.act else x


class MBConv(nn.Module):
    def __init__(self, p, i, k, stride, expand, cin, cout):
        super().__init__()
        pre = f"_blocks.{i}."
        self.expand = Conv(p, pre + "_expand_conv", pre + "_bn0") if expand != 1 else None
        self.depthwise = Conv(p, pre + "_depthwise_conv", pre + "_bn1", stride, depthwise=True)
        self.project = Conv(p, pre + "_project_conv", pre + "_bn2", act=False)
        self.residual = stride == 1 and cin == cout

    def forward(self, x):
        y = self.expand(x) if self.expand is not None else x
        y = self.project(self.depthwise(y))
        return y + x if self.residual else y


def efficientnet(p, unfreeze, classes):
    blocks, i = [], 0
    for repeats, k, stride, expand, cin, cout in STAGES:
        for r in range(repeats):
            blocks.append(MBConv(p, i, k, stride if r == 0 else 1, expand, cin if r == 0 else cout, cout))
            i += 1
    trunk = nn.Sequential(Conv(p, "_conv_stem", "_bn0", 2), *blocks[:len(blocks) - unfreeze])
    upper = nn.Sequential(*blocks[len(blocks) - unfreeze:], Conv(p, "_conv_head", "_bn1"),
                          nn.AdaptiveAvgPool2d(1), nn.Flatten())
    return trunk, upper, nn.Linear(1280, classes)


def load_folder(folder):
    classes = sorted(d for d in os.listdir(folder) if not d.startswith("."))
    items = [(os.path.join(folder, c, f), y) for y, c in enumerate(classes)
             for f in sorted(os.listdir(os.path.join(folder, c)))]
    return classes, items


def pixels(path):
    img = Image.open(path).convert("RGB")
    w, h = img.size
    scale = 224 / min(w, h)
    img = img.resize((max(224, round(w * scale)), max(224, round(h * scale))), Image.BILINEAR)
    w, h = img.size
    img = img.crop(((w - 224) // 2, (h - 224) // 2, (w - 224) // 2 + 224, (h - 224) // 2 + 224))
    return (np.asarray(img, dtype=np.float32).transpose(2, 0, 1) - 127.0) / 128.0


def image_task(args):
    data = os.path.join(ROOT, "assets/fashion-bench")
    classes, train = load_folder(os.path.join(data, "train"))
    _, val = load_folder(os.path.join(data, "test"))
    p = load_file(os.path.join(ROOT, "assets/efficientnet-lite0.safetensors"))
    torch.manual_seed(0)
    trunk, upper, head = efficientnet(p, 2, len(classes))
    trunk.eval()
    started = time.perf_counter()
    feats, labels = [], []
    with torch.no_grad():
        for items in (train, val):
            for s in range(0, len(items), BATCH):
                chunk = items[s:s + BATCH]
                x = torch.tensor(np.stack([pixels(f) for f, _ in chunk]))
                feats.append(trunk(x).half())
                labels += [y for _, y in chunk]
    caching = (len(train) + len(val)) / (time.perf_counter() - started)
    feats, labels = torch.cat(feats), torch.tensor(labels)
    n = len(train)
    return fine_tune(args, "image", upper, head, dropout=None,
                     train=(feats[:n], labels[:n]), val=(feats[n:], labels[n:]), caching=caching,
                     batch_of=lambda f, idx: f[idx].float())


# ---------------------------------------------------------------- MiniLM-L6

class Layer(nn.Module):
    """One post-LN BERT encoder layer (12 heads, erf GELU), dropout 0.1 when training."""

    def __init__(self, p, i):
        super().__init__()
        pre = f"encoder.layer.{i}."

        def linear(name):
            w, b = p[pre + name + ".weight"], p[pre + name + ".bias"]
            m = nn.Linear(w.shape[1], w.shape[0])
            m.weight.data, m.bias.data = torch.tensor(w), torch.tensor(b)
            return m

        def norm(name):
            m = nn.LayerNorm(384, eps=1e-12)
            m.weight.data, m.bias.data = torch.tensor(p[pre + name + ".weight"]), torch.tensor(p[pre + name + ".bias"])
            return m

        self.q, self.k, self.v = linear("attention.self.query"), linear("attention.self.key"), linear("attention.self.value")
        self.o, self.ln1 = linear("attention.output.dense"), norm("attention.output.LayerNorm")
        self.up, self.down, self.ln2 = linear("intermediate.dense"), linear("output.dense"), norm("output.LayerNorm")
        self.drop = nn.Dropout(0.1)

    def forward(self, x, pad):
        b, t, _ = x.shape
        heads = lambda y: y.view(b, t, 12, 32).transpose(1, 2)
        scores = heads(self.q(x)) @ heads(self.k(x)).transpose(-1, -2) / math.sqrt(32)
        scores = scores.masked_fill(pad[:, None, None, :], float("-inf"))
        ctx = (self.drop(scores.softmax(-1)) @ heads(self.v(x))).transpose(1, 2).reshape(b, t, 384)
        x = self.ln1(x + self.drop(self.o(ctx)))
        return self.ln2(x + self.drop(self.down(F.gelu(self.up(x)))))


class Upper(nn.Module):
    """The trained top: the last encoder layers + masked mean pooling."""

    def __init__(self, layers):
        super().__init__()
        self.layers = nn.ModuleList(layers)

    def forward(self, batch):
        x, pad = batch
        for layer in self.layers:
            x = layer(x, pad)
        keep = (~pad).unsqueeze(-1).float()
        return (x * keep).sum(1) / keep.sum(1)


def embed(p, ids):
    x = p["embeddings.word_embeddings.weight"][ids] + p["embeddings.position_embeddings.weight"][:len(ids)] \
        + p["embeddings.token_type_embeddings.weight"][0]
    mean, var = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + 1e-12) * p["embeddings.LayerNorm.weight"] + p["embeddings.LayerNorm.bias"]


def text_data():
    """The movie-review set-up: token ids (max length 64, [SEP] kept), labels and the stratified
    80/20 split (seed 0). Shared with the TF.js peer (`torch_peer.py text-data` prints it)."""
    from tokenizers import Tokenizer
    tok = Tokenizer.from_file(os.path.join(ROOT, "assets/minilm-l6/tokenizer.json"))
    tok.no_padding()
    tok.enable_truncation(max_length=64)
    with open(os.path.join(ROOT, "assets/movie-reviews.csv"), newline="", encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if r["text"].strip()]
    classes = sorted({r["label"] for r in rows})
    labels = [classes.index(r["label"]) for r in rows]
    rng = random.Random(0)
    val_idx = []
    for c in range(len(classes)):
        members = [i for i, y in enumerate(labels) if y == c]
        rng.shuffle(members)
        val_idx += members[:round(len(members) * 0.2)]
    val_set = set(val_idx)
    train_idx = [i for i in range(len(rows)) if i not in val_set]
    ids = lambda: [e.ids for e in tok.encode_batch([r["text"] for r in rows])]
    return {"classes": classes, "labels": labels, "train": train_idx, "val": val_idx, "ids": ids}


def text_task(args):
    data = text_data()
    classes, labels, train_idx, val_idx = data["classes"], data["labels"], data["train"], data["val"]
    model = os.path.join(ROOT, "assets/minilm-l6")
    p = load_file(os.path.join(model, "model.safetensors"))
    torch.manual_seed(0)
    frozen = [Layer(p, i).eval() for i in range(4)]
    upper, head = Upper([Layer(p, i) for i in (4, 5)]), nn.Linear(384, len(classes))
    started = time.perf_counter()
    ids = data["ids"]()  # tokenising is part of the caching time
    order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
    cache = [None] * len(ids)
    with torch.no_grad():
        for s in range(0, len(order), 64):
            chunk = order[s:s + 64]
            t = max(len(ids[i]) for i in chunk)
            x = torch.zeros(len(chunk), t, 384)
            pad = torch.ones(len(chunk), t, dtype=torch.bool)
            for k, i in enumerate(chunk):
                x[k, :len(ids[i])] = torch.tensor(embed(p, np.array(ids[i])))
                pad[k, :len(ids[i])] = False
            for layer in frozen:
                x = layer(x, pad)
            for k, i in enumerate(chunk):
                cache[i] = x[k, :len(ids[i])].half()
    caching = len(ids) / (time.perf_counter() - started)

    def batch_of(data, idx):
        rows_ = [data[i] for i in idx.tolist()]
        t = max(r.shape[0] for r in rows_)
        x = torch.zeros(len(rows_), t, 384)
        pad = torch.ones(len(rows_), t, dtype=torch.bool)
        for k, r in enumerate(rows_):
            x[k, :r.shape[0]] = r.float()
            pad[k, :r.shape[0]] = False
        return x, pad

    y = torch.tensor(labels)
    train = ([cache[i] for i in train_idx], y[train_idx])
    val = ([cache[i] for i in val_idx], y[val_idx])
    return fine_tune(args, "text", upper, head, dropout=nn.Dropout(0.1), train=train, val=val, caching=caching, batch_of=batch_of)


# ---------------------------------------------------------------- the shared loop

def flops_per_example(forward, batch_of, x, y, batches=20):
    """Matmul/convolution FLOPs of one training step per example: the forward pass counted by
    PyTorch's FlopCounterMode over a few batches (text batches differ in length), times 3 for
    forward + backward (the usual rule: the backward pass costs twice the forward; the counter's
    own backward count is wrong for grouped (depthwise) convolutions)."""
    from torch.utils.flop_counter import FlopCounterMode
    total, seen = 0, 0
    with torch.no_grad():
        for idx in list(torch.randperm(len(y), generator=torch.Generator().manual_seed(1)).split(BATCH))[:batches]:
            with FlopCounterMode(display=False) as counter:
                forward(batch_of(x, idx))
            total, seen = total + counter.get_total_flops(), seen + len(idx)
    return 3 * total / seen


def fine_tune(args, task, upper, head, dropout, train, val, caching, batch_of):
    (tx, ty), (vx, vy) = train, val
    n = len(ty)
    steps_per_epoch = math.ceil(n / BATCH)
    total, warmup = steps_per_epoch * args.epochs, max(1, round(steps_per_epoch * args.epochs * 0.1))
    opt = torch.optim.AdamW([{"params": head.parameters(), "lr": 1e-3}, {"params": upper.parameters(), "lr": 1e-4}],
                            weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: (s + 1) / warmup if s < warmup
                                              else 0.5 * (1 + math.cos(math.pi * min(1.0, (s - warmup) / max(1, total - warmup)))))
    forward = lambda x: head(dropout(upper(x)) if dropout is not None else upper(x))
    flops = flops_per_example(forward, batch_of, tx, ty)
    gen = torch.Generator().manual_seed(0)
    started, first_step, epochs = time.perf_counter(), None, []
    for epoch in range(args.epochs):
        upper.train(), head.train()
        t0 = time.perf_counter()
        for idx in torch.randperm(n, generator=gen).split(BATCH):
            loss = F.cross_entropy(forward(batch_of(tx, idx)), ty[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            if first_step is None:
                first_step = time.perf_counter() - started
        seconds = time.perf_counter() - t0
        upper.eval(), head.eval()
        with torch.no_grad():
            losses, correct = 0.0, 0
            for idx in torch.arange(len(vy)).split(BATCH):
                logits = forward(batch_of(vx, idx))
                losses += F.cross_entropy(logits, vy[idx], reduction="sum").item()
                correct += (logits.argmax(1) == vy[idx]).sum().item()
        epochs.append({"examples_per_s": n / seconds, "val_loss": losses / len(vy), "val_accuracy": correct / len(vy)})
    best = min(epochs, key=lambda e: e["val_loss"])
    return {"path": "pytorch cpu", "task": task, "threads": torch.get_num_threads(), "torch": torch.__version__,
            "caching_examples_per_s": caching, "time_to_first_step_s": first_step,
            "epoch_examples_per_s": [e["examples_per_s"] for e in epochs], "peak_memory_mb": peak_mb(),
            "best_val_accuracy": best["val_accuracy"], "train_flops_per_example": flops}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("task", choices=["image", "text", "text-data"])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.task == "text-data":
        data = text_data()
        print(json.dumps({**data, "ids": data["ids"]()}))
        return
    print(json.dumps(image_task(args) if args.task == "image" else text_task(args)))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Independent NumPy (float64) reference forward of EfficientNet-Lite0, used to make the parity
fixture `tests/fixtures/efficientnet_reference.json`.

It reads the converted safetensors (made by scripts/convert_efficientnet.py from the PyPI wheel),
applies batch-norm explicitly (the Rust port folds it into the convolutions) and TF "SAME" padding,
and runs the two scikit-learn sample photos. The photos are resized (shorter side 256, bilinear)
and centre-cropped to 224x224 here and saved as raw RGB bytes next to the fixture, so the Rust test
feeds exactly the same pixels.

Usage: efficientnet_reference.py WEIGHTS.safetensors SKLEARN_WHEEL OUT_DIR
"""
import io
import json
import sys
import zipfile

import numpy as np
from PIL import Image
from safetensors.numpy import load_file

# (repeats, kernel, stride, expand ratio, in, out): the EfficientNet-B0 stages (Lite0 keeps them).
STAGES = [(1, 3, 1, 1, 32, 16), (2, 3, 2, 6, 16, 24), (2, 5, 2, 6, 24, 40), (3, 3, 2, 6, 40, 80),
          (3, 5, 1, 6, 80, 112), (4, 5, 2, 6, 112, 192), (1, 3, 1, 6, 192, 320)]
EPS = 1e-3


def conv(x, w, stride, depthwise=False):
    """x [C,H,W], w [O,I,k,k]; TF SAME padding (total//2 before)."""
    c, h, wd = x.shape
    k = w.shape[2]
    oh, ow = -(-h // stride), -(-wd // stride)
    ph = max((oh - 1) * stride + k - h, 0)
    pw = max((ow - 1) * stride + k - wd, 0)
    xp = np.pad(x, ((0, 0), (ph // 2, ph - ph // 2), (pw // 2, pw - pw // 2)))
    out = np.zeros((w.shape[0], oh, ow))
    for i in range(k):
        for j in range(k):
            patch = xp[:, i:i + stride * oh:stride, j:j + stride * ow:stride]
            if depthwise:
                out += w[:, 0, i, j][:, None, None] * patch
            else:
                out += np.einsum("oc,chw->ohw", w[:, :, i, j], patch)
    return out


def bn(x, p, prefix):
    g, b = p[prefix + ".weight"], p[prefix + ".bias"]
    m, v = p[prefix + ".running_mean"], p[prefix + ".running_var"]
    return ((x - m[:, None, None]) / np.sqrt(v[:, None, None] + EPS)) * g[:, None, None] + b[:, None, None]


def relu6(x):
    return np.clip(x, 0.0, 6.0)


def forward(p, img):
    x = (img.astype(np.float64).transpose(2, 0, 1) - 127.0) / 128.0
    x = relu6(bn(conv(x, p["_conv_stem.weight"], 2), p, "_bn0"))
    idx = 0
    for repeats, k, stride, expand, cin, cout in STAGES:
        for r in range(repeats):
            s = stride if r == 0 else 1
            i = cin if r == 0 else cout
            pre = f"_blocks.{idx}."
            y = x
            if expand != 1:
                y = relu6(bn(conv(y, p[pre + "_expand_conv.weight"], 1), p, pre + "_bn0"))
            y = relu6(bn(conv(y, p[pre + "_depthwise_conv.weight"], s, depthwise=True), p, pre + "_bn1"))
            y = bn(conv(y, p[pre + "_project_conv.weight"], 1), p, pre + "_bn2")
            if s == 1 and i == cout:
                y = y + x
            x = y
            idx += 1
    x = relu6(bn(conv(x, p["_conv_head.weight"], 1), p, "_bn1"))
    pooled = x.mean(axis=(1, 2))
    return p["_fc.weight"] @ pooled + p["_fc.bias"]


def load_photo(wheel, name):
    with zipfile.ZipFile(wheel) as z:
        img = Image.open(io.BytesIO(z.read(f"sklearn/datasets/images/{name}.jpg"))).convert("RGB")
    w, h = img.size
    scale = 256 / min(w, h)
    img = img.resize((round(w * scale), round(h * scale)), Image.BILINEAR)
    w, h = img.size
    left, top = (w - 224) // 2, (h - 224) // 2
    return np.asarray(img.crop((left, top, left + 224, top + 224)), dtype=np.uint8)


def main():
    weights, wheel, out_dir = sys.argv[1:4]
    p = {k: v.astype(np.float64) for k, v in load_file(weights).items()}
    result = {"preprocessing": "shorter side 256 (PIL bilinear), centre crop 224, (x-127)/128",
              "images": {}}
    for name in ("china", "flower"):
        img = load_photo(wheel, name)
        img.tofile(f"{out_dir}/{name}_224.rgb")
        logits = forward(p, img)
        e = np.exp(logits - logits.max())
        probs = e / e.sum()
        top = [int(i) for i in np.argsort(-logits)[:5]]
        result["images"][name] = {
            "top5": top, "top1_prob": round(float(probs[top[0]]), 6),
            "logits": [round(float(v), 6) for v in logits]}
        print(name, top, float(probs[top[0]]))
    with open(f"{out_dir}/efficientnet_reference.json", "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main()

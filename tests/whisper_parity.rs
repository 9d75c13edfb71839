//! The Whisper tiny.en port against an independent NumPy float64 implementation
//! (tests/reference/whisper_reference.py → tests/fixtures/whisper_reference.json), on real
//! Asterisk prompts stored at 16 kHz beside the fixture: log-mel, encoder output, teacher-forced
//! decoder logits, and greedy transcripts (token for token).

mod common;

use burn::tensor::{Device, Int, Tensor, TensorData};
use burn_finetune::data::mel::{FRAMES, LogMel};
use burn_finetune::model::whisper::{DECODER_LAYERS, EncodedAudio, GreedyDecoder, MELS, tokens};
use burn_finetune::native::audio_file::read_audio;
use serde_json::Value;

struct Clip {
    name: String,
    audio: Vec<f32>,
    reference: Value,
}

fn clips() -> Vec<Clip> {
    let dir = common::repo().join("tests/fixtures");
    let fixture: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("whisper_reference.json")).unwrap()).unwrap();
    fixture["clips"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let name = c["name"].as_str().unwrap().to_string();
            let audio = read_audio(&dir.join(format!("whisper-clips/{name}.wav"))).unwrap();
            assert_eq!(audio.len() as u64, c["samples"].as_u64().unwrap(), "{name}: sample count");
            Clip { name, audio, reference: c.clone() }
        })
        .collect()
}

/// The largest difference between `values` at the reference's sampled indices and its values,
/// relative to `scale` (at least 1).
fn max_diff(name: &str, what: &str, values: &[f32], reference: &Value, tolerance: f64) {
    let indices = reference["index"].as_array().unwrap();
    let expected = reference["value"].as_array().unwrap();
    let shape: usize = reference["shape"].as_array().unwrap().iter().map(|d| d.as_u64().unwrap() as usize).product();
    assert_eq!(values.len(), shape, "{name}: {what} has {} values, the reference {shape}", values.len());
    let mut worst = (0.0f64, 0usize);
    for (i, e) in indices.iter().zip(expected) {
        let i = i.as_u64().unwrap() as usize;
        let diff = (values[i] as f64 - e.as_f64().unwrap()).abs();
        assert!(diff.is_finite(), "{name}: {what}[{i}] is {}", values[i]);
        if diff > worst.0 {
            worst = (diff, i);
        }
    }
    let mean_abs = values.iter().map(|v| v.abs() as f64).sum::<f64>() / values.len() as f64;
    let ref_mean = reference["meanAbs"].as_f64().unwrap();
    eprintln!("{name}: {what} max |Δ| {:.2e} at {}, mean |x| {mean_abs:.6} vs {ref_mean:.6}", worst.0, worst.1);
    assert!(worst.0 <= tolerance, "{name}: {what} differs by {:.2e} at {} (tolerance {tolerance:e})", worst.0, worst.1);
    assert!((mean_abs - ref_mean).abs() <= tolerance, "{name}: {what} mean |x| {mean_abs} vs {ref_mean}");
}

#[test]
fn whisper_matches_the_float64_reference() {
    let (weights, tokenizer, suppression) = common::whisper();
    let device = Device::flex();
    let mel = LogMel::new(&weights.mel_filters);
    let clips = clips();
    assert!(clips.len() >= 5);

    let mut mels = Vec::new();
    for clip in &clips {
        let m = mel.compute(&clip.audio);
        max_diff(&clip.name, "log-mel", &m, &clip.reference["mel"], 1e-4);
        mels.extend(m);
    }
    let batch = clips.len();
    let encoder = weights.encoder(&device);
    let audio = encoder.forward(Tensor::from_data(TensorData::new(mels, [batch, MELS, FRAMES]), &device));
    let encoded: Vec<f32> = audio.to_data().try_to_vec::<f32>().unwrap();
    let per_clip = encoded.len() / batch;
    for (i, clip) in clips.iter().enumerate() {
        max_diff(&clip.name, "encoder output", &encoded[i * per_clip..(i + 1) * per_clip], &clip.reference["encoder"], 1e-3);
    }

    let embedding = weights.embedding(&device);
    let layers = weights.decoder_layers(0..DECODER_LAYERS, 0.0, &device);
    let norm = weights.decoder_norm(&device);
    let decoder = GreedyDecoder { embedding: &embedding, layers: layers.iter().collect(), norm: &norm, suppression: &suppression };
    for (i, clip) in clips.iter().enumerate() {
        let reference_tokens: Vec<u32> = clip.reference["tokens"].as_array().unwrap().iter().map(|t| t.as_u64().unwrap() as u32).collect();
        let ids: Vec<i64> = tokens::PROMPT.iter().chain(&reference_tokens).map(|&t| t as i64).collect();
        let len = ids.len();
        let ids = Tensor::<2, Int>::from_data(TensorData::new(ids, [1, len]), &device);
        let logits = decoder.logits(ids, &EncodedAudio::whole(audio.clone().slice(i..i + 1)));
        let values: Vec<f32> = logits.to_data().try_to_vec::<f32>().unwrap();
        max_diff(&clip.name, "decoder logits", &values, &clip.reference["logits"], 1e-3);
    }

    let transcripts = futures_lite::future::block_on(decoder.transcribe(&EncodedAudio::whole(audio), 224)).unwrap();
    for (clip, ours) in clips.iter().zip(&transcripts) {
        let reference: Vec<u32> = clip.reference["tokens"].as_array().unwrap().iter().map(|t| t.as_u64().unwrap() as u32).collect();
        let text = tokenizer.decode(ours).unwrap();
        eprintln!("{}: {text:?}", clip.name);
        assert_eq!(ours, &reference, "{}: greedy tokens differ ({text:?} vs {:?})", clip.name, clip.reference["text"]);
        assert_eq!(text, clip.reference["text"].as_str().unwrap().trim());
    }
}

/// The tokenizer gives back the reference's transcripts from their tokens and encodes a
/// transcript the way Whisper writes it (a leading space).
#[test]
fn transcripts_round_trip_through_the_tokenizer() {
    let (_, tokenizer, _) = common::whisper();
    for clip in clips() {
        let text = clip.reference["text"].as_str().unwrap();
        let ids = tokenizer.encode(text).unwrap();
        let reference: Vec<u32> = clip.reference["tokens"].as_array().unwrap().iter().map(|t| t.as_u64().unwrap() as u32).collect();
        assert_eq!(ids, reference, "{}", clip.name);
    }
    let long = "word ".repeat(500);
    let e = tokenizer.encode(&long).unwrap_err();
    assert!(e.contains("445") && e.contains("split"), "{e}");
}

/// Where the encoder's time goes on a batch of 4 windows (run with `--ignored --nocapture`).
#[test]
#[ignore]
fn encoder_time_by_part() {
    let (weights, _, _) = common::whisper();
    let device = Device::flex();
    let encoder = weights.encoder(&device);
    let mel = Tensor::<3>::random([4, MELS, FRAMES], burn::tensor::Distribution::Normal(0.0, 1.0), &device);
    let time = |what: &str, f: &dyn Fn() -> Tensor<3>| {
        let _ = f().into_data();
        let started = std::time::Instant::now();
        let _ = f().into_data();
        eprintln!("{what}: {:.0} ms", started.elapsed().as_secs_f64() * 1e3);
    };
    time("conv1", &|| encoder.conv1.forward(mel.clone()));
    let x1 = burn_finetune::ops::gelu(encoder.conv1.forward(mel.clone()));
    time("conv2", &|| encoder.conv2.forward(x1.clone()));
    let x = burn_finetune::ops::gelu(encoder.conv2.forward(x1.clone())).swap_dims(1, 2);
    let pad = Tensor::<2, burn::tensor::Int>::zeros([x.dims()[0], x.dims()[1]], &x.device()).bool();
    time("one layer", &|| encoder.layers[0].forward(x.clone(), pad.clone()));
    let layer = &encoder.layers[0];
    let [batch, len, d] = x.dims();
    let qkv_weight = Tensor::cat(vec![layer.attention.query.weight.val(), layer.attention.key.weight.val(), layer.attention.value.weight.val()], 1);
    let qkv_bias = Tensor::<1>::zeros([3 * d], &device);
    let qkv = |x: Tensor<3>| burn_finetune::ops::dense(x.reshape([batch * len, d]), qkv_weight.clone(), qkv_bias.clone()).reshape([batch, len, 3 * d]);
    time("  q|k|v projection", &|| qkv(x.clone()));
    let projected = qkv(x.clone());
    time("  attention core", &|| burn_finetune::ops::self_attention(projected.clone(), pad.clone(), 0.0, layer.attention.heads));
    time("  output projection", &|| burn_finetune::ops::linear(&layer.attention.output, x.clone()));
    time("  fc1", &|| burn_finetune::ops::linear(&layer.fc1, x.clone()));
    let wide = burn_finetune::ops::linear(&layer.fc1, x.clone());
    time("  gelu", &|| burn_finetune::ops::gelu(wide.clone()));
    time("  fc2", &|| burn_finetune::ops::linear(&layer.fc2, wide.clone()));
    time("  layer norm", &|| burn_finetune::model::whisper::normalize(&layer.ffn_norm, x.clone()));
    time("whole encoder", &|| encoder.forward(mel.clone()));
}

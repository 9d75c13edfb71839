//! Writes the fuzz targets' seed corpora (`fuzz/corpus/<target>/`, kept in the repository):
//! small valid inputs of each parser, made by the code that makes them for users (model files and
//! checkpoints by real, tiny training runs). Run again after a format changes:
//! `cargo test --release --test fuzz_seeds -- --ignored`.

mod common;

use std::path::PathBuf;

use burn::tensor::Device;
use burn_finetune::data::PixelLayout;
use burn_finetune::model::Unfreeze;
use burn_finetune::task::{AudioClips, AudioFineTuner, AudioTask, ImageBatch, ImageFineTuner, TextFineTuner};
use burn_finetune::train::{CollectEvents, TrainOptions};
use futures_lite::future::block_on;

fn corpus(target: &str) -> PathBuf {
    let dir = common::repo().join("fuzz/corpus").join(target);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn options() -> TrainOptions {
    TrainOptions { epochs: 2, batch_size: 2, validation_split: 0.5, ..TrainOptions::default() }
}

#[test]
#[ignore = "writes fuzz/corpus: run by hand after a format change"]
fn write_fuzz_seeds() {
    let keep = CollectEvents { keep_checkpoints: true, ..CollectEvents::default() };
    // Model files and checkpoints: head-only models of each classifier task.
    let mut image = ImageFineTuner::new(common::image_task(), Device::flex());
    image.reset(names(&["a", "b"]), common::prep(Unfreeze::Head, 128)).unwrap();
    let pixels: Vec<u8> = [0u8, 60, 190, 250].iter().flat_map(|&v| vec![v; 224 * 224 * 3]).collect();
    block_on(image.add(ImageBatch { pixels: &pixels, layout: PixelLayout::Rgb, count: 4 }, &[0, 0, 1, 1], false)).unwrap();
    let mut hooks = CollectEvents { ..keep };
    block_on(image.train(&options(), &mut hooks)).unwrap();
    std::fs::write(corpus("model_file").join("image-head.safetensors"), block_on(image.export_model()).unwrap()).unwrap();
    std::fs::write(corpus("checkpoint").join("image-head-epoch1.safetensors"), &hooks.checkpoints[0].1).unwrap();

    let mut text = TextFineTuner::new(common::text_task(), Device::flex());
    text.reset(names(&["neg", "pos"]), common::prep(Unfreeze::Head, 16)).unwrap();
    block_on(text.add(&names(&["awful", "boring", "great", "loved it"]), &[0, 0, 1, 1], false)).unwrap();
    block_on(text.train(&options(), &mut CollectEvents::default())).unwrap();
    std::fs::write(corpus("model_file").join("text-head.safetensors"), block_on(text.export_model()).unwrap()).unwrap();

    let (weights, _, _) = common::whisper();
    let mut audio = AudioFineTuner::new(AudioTask::new(weights), Device::flex());
    audio.reset(names(&["hum", "tick"]), common::prep(Unfreeze::Head, 128)).unwrap();
    let clip = |f: f32| (0..8000).map(|i| (i as f32 * f * 0.001).sin() * 0.3).collect::<Vec<f32>>();
    let samples: Vec<f32> = [1.0, 1.2, 9.0, 11.0].iter().flat_map(|&f| clip(f)).collect();
    block_on(audio.add(AudioClips { audio: &samples, lengths: &[8000; 4] }, &[0, 0, 1, 1], false)).unwrap();
    block_on(audio.train(&options(), &mut CollectEvents::default())).unwrap();
    std::fs::write(corpus("model_file").join("audio-head.safetensors"), block_on(audio.export_model()).unwrap()).unwrap();

    // Weights: a small safetensors file of the layout the loaders read.
    let mut weights = Vec::new();
    let header = br#"{"head.weight":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},"__metadata__":{"format":"pt"}}"#;
    weights.extend_from_slice(&(header.len() as u64).to_le_bytes());
    weights.extend_from_slice(header);
    weights.extend((0..6).flat_map(|i| (i as f32).to_le_bytes()));
    std::fs::write(corpus("weights").join("small.safetensors"), weights).unwrap();

    // Tokenizers: a tiny WordPiece (MiniLM's kind) and a tiny byte-level BPE (Whisper's kind).
    std::fs::write(corpus("tokenizer").join("wordpiece.json"), WORDPIECE).unwrap();
    std::fs::write(corpus("tokenizer").join("bpe.json"), BPE).unwrap();

    // Tables: the first byte picks the format (0 CSV, 1 TSV, 2 JSON Lines) and the chunking.
    let table = |control: u8, body: &str| [&[control][..], body.as_bytes()].concat();
    std::fs::write(corpus("table").join("csv"), table(0, "text,label\n\"a \"\"quoted\"\", film\",pos\nboring,neg\n")).unwrap();
    std::fs::write(corpus("table").join("tsv"), table(5, "review\tsentiment\r\ngreat\tpos\r\nbad\tneg\r\n")).unwrap();
    std::fs::write(corpus("table").join("jsonl"), table(2, "{\"text\": \"fine\", \"label\": \"pos\"}\n{\"text\": \"no\", \"label\": \"neg\", \"x\": 1}\n")).unwrap();
    std::fs::write(corpus("table").join("bom-csv"), table(12, "\u{feff}body,team\nlogin fails,auth\n")).unwrap();

    // Subtitles.
    std::fs::write(corpus("subtitles").join("a.vtt"), "WEBVTT\n\n00:00:01.000 --> 00:00:04.500\nHello there.\n\nintro\n00:00:05.000 --> 00:00:40.000 align:start\nA long cue\nover two lines.\n").unwrap();
    std::fs::write(corpus("subtitles").join("a.srt"), "1\n00:00:00,500 --> 00:00:02,000\nOne\n\n2\n00:00:02,100 --> 00:00:03,000\nTwo\n").unwrap();

    // Audio: the first byte picks the extension hint (0 none, 1 wav, …); a short 16-bit WAV.
    let mut wav = Vec::new();
    let samples: Vec<i16> = (0..800).map(|i| ((i as f32 * 0.2).sin() * 8000.0) as i16).collect();
    let data_len = (samples.len() * 2) as u32;
    wav.extend_from_slice(b"RIFF");
    wav.extend_from_slice(&(36 + data_len).to_le_bytes());
    wav.extend_from_slice(b"WAVEfmt ");
    wav.extend_from_slice(&16u32.to_le_bytes());
    wav.extend_from_slice(&1u16.to_le_bytes()); // PCM
    wav.extend_from_slice(&1u16.to_le_bytes()); // mono
    wav.extend_from_slice(&8000u32.to_le_bytes());
    wav.extend_from_slice(&16000u32.to_le_bytes());
    wav.extend_from_slice(&2u16.to_le_bytes());
    wav.extend_from_slice(&16u16.to_le_bytes());
    wav.extend_from_slice(b"data");
    wav.extend_from_slice(&data_len.to_le_bytes());
    wav.extend(samples.iter().flat_map(|s| s.to_le_bytes()));
    std::fs::write(corpus("audio_file").join("tone.wav"), [&[1u8][..], &wav].concat()).unwrap();
}

const WORDPIECE: &str = r###"{"version":"1.0","truncation":null,"padding":null,"added_tokens":[{"id":0,"content":"[PAD]","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true},{"id":1,"content":"[UNK]","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true},{"id":2,"content":"[CLS]","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true},{"id":3,"content":"[SEP]","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true}],"normalizer":{"type":"BertNormalizer","clean_text":true,"handle_chinese_chars":true,"strip_accents":null,"lowercase":true},"pre_tokenizer":{"type":"BertPreTokenizer"},"post_processor":{"type":"TemplateProcessing","single":[{"SpecialToken":{"id":"[CLS]","type_id":0}},{"Sequence":{"id":"A","type_id":0}},{"SpecialToken":{"id":"[SEP]","type_id":0}}],"pair":[{"Sequence":{"id":"A","type_id":0}},{"Sequence":{"id":"B","type_id":1}}],"special_tokens":{"[CLS]":{"id":"[CLS]","ids":[2],"tokens":["[CLS]"]},"[SEP]":{"id":"[SEP]","ids":[3],"tokens":["[SEP]"]}}},"decoder":{"type":"WordPiece","prefix":"##","cleanup":true},"model":{"type":"WordPiece","unk_token":"[UNK]","continuing_subword_prefix":"##","max_input_chars_per_word":100,"vocab":{"[PAD]":0,"[UNK]":1,"[CLS]":2,"[SEP]":3,"a":4,"great":5,"film":6,"loved":7,"it":8,",":9,"##s":10}}}"###;

const BPE: &str = r###"{"version":"1.0","truncation":null,"padding":null,"added_tokens":[{"id":6,"content":"<|endoftext|>","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true}],"normalizer":null,"pre_tokenizer":{"type":"ByteLevel","add_prefix_space":false,"trim_offsets":true,"use_regex":true},"post_processor":null,"decoder":{"type":"ByteLevel","add_prefix_space":true,"trim_offsets":true,"use_regex":true},"model":{"type":"BPE","dropout":null,"unk_token":null,"continuing_subword_prefix":"","end_of_word_suffix":"","fuse_unk":false,"byte_fallback":false,"vocab":{"p":0,"r":1,"e":2,"s":3,"pr":4,"Ġ":5},"merges":["p r"]}}"###;

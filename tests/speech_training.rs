//! Speech fine-tuning on real recordings (the Asterisk prompts of scripts/setup.sh): the
//! validation word error rate drops below the pretrained model's, the guard rails hold, bad clips
//! are listed without losing the good ones, and an exported model transcribes the same after
//! import.

mod common;

use burn::tensor::Device;
use burn_finetune::Error;
use burn_finetune::model::Unfreeze;
use burn_finetune::native::speech_data::{SpeechSet, read_speech};
use burn_finetune::task::speech::train_defaults;
use burn_finetune::task::{Clip, Preparation, SpeechFineTuner, SpeechTask};
use burn_finetune::train::{CollectEvents, StopReason, TrainEvent, TrainOptions};
use futures_lite::future::block_on;

fn tuner() -> SpeechFineTuner {
    let (weights, tokenizer, suppression) = common::whisper();
    SpeechFineTuner::new(SpeechTask::new(weights, tokenizer, suppression), Device::flex())
}

/// The first `n` prompts of the Asterisk manifest (sorted by name) whose path contains `part`,
/// at 16 kHz.
fn prompts(part: &str, n: usize) -> SpeechSet {
    let mut set = read_speech(&common::repo().join("assets/asterisk/manifest.csv"), None).expect("run scripts/setup.sh");
    set.clips.retain(|c| c.name.contains(part));
    set.clips.sort_by(|a, b| a.name.cmp(&b.name));
    set.clips.truncate(n);
    set
}

fn clips(set: &SpeechSet) -> Vec<Clip<'_>> {
    set.clips.iter().map(|c| Clip { audio: &c.audio, text: &c.text }).collect()
}

#[test]
fn fine_tuning_lowers_the_validation_word_error_rate() {
    // Numbers, times and dates read out one by one ("digits/"): the prompts' transcripts spell
    // them out ("fourteen", "A.M."), which the pretrained model writes as figures ("14", "AM").
    let set = prompts("/digits/", 60);
    let mut tuner = tuner();
    tuner.reset(Preparation { unfreeze: Unfreeze::Blocks(2), ..Preparation::default() }).unwrap();
    let added = block_on(tuner.add(&clips(&set), false)).unwrap();
    assert_eq!(added.added, 60, "{:?}", added.skipped);
    let mut events = CollectEvents::default();
    let report = block_on(tuner.train(&TrainOptions { epochs: 2, mix_pretrained: true, ..train_defaults() }, &mut events)).unwrap();
    eprintln!("{}", report.message);
    assert!(report.zero_shot_val_wer > 0.0, "the pretrained model makes mistakes on this domain");
    assert!(report.best_epoch >= 1 && report.best_val_wer < report.zero_shot_val_wer, "{report:?}");
    assert_eq!(report.epochs.len(), 2);
    assert!(report.epochs[1].train_loss < report.epochs[0].train_loss);
    let epochs = events.events.iter().filter(|e| matches!(e, TrainEvent::SpeechEpoch(_))).count();
    assert_eq!(epochs, 2);
    assert!(matches!(events.events.last(), Some(TrainEvent::SpeechDone(_))));

    // Then mixes with the pretrained weights were scored, and the kept model is the best of them
    // and the best epoch (on a tie, the one with more pretrained weights).
    let mixes: Vec<f32> = events.events.iter().filter_map(|e| if let TrainEvent::Mix { mix, .. } = e { Some(mix.share) } else { None }).collect();
    assert_eq!(mixes, [0.75, 0.5, 0.25]);
    let epoch_wer = report.epochs[report.best_epoch - 1].val_wer;
    let candidates = std::iter::once((1.0, epoch_wer)).chain(report.mixes.iter().map(|m| (m.share, m.val_wer)));
    let best = candidates.fold((1.0, f32::INFINITY), |kept, (share, wer)| if wer <= kept.1 { (share, wer) } else { kept });
    assert_eq!((report.fine_tuned_share, report.best_val_wer), best, "{report:?}");
    if report.fine_tuned_share < 1.0 {
        assert!(report.message.contains("mixed"), "{}", report.message);
    }

    // Export → import into a fresh tuner: the same transcript of a clip.
    let bytes = block_on(tuner.export_model()).unwrap();
    assert!(bytes.len() < 40_000_000, "only the trained layers are stored: {} bytes", bytes.len());
    let mut other = self::tuner();
    let info = other.import_model(&bytes).unwrap();
    assert_eq!((info.task.as_str(), info.unfreeze), ("speech", Unfreeze::Blocks(2)));
    let clip = &set.clips[3].audio;
    let ours = block_on(tuner.transcribe(clip, true, |_, _| {})).unwrap();
    assert_eq!(block_on(other.transcribe(clip, true, |_, _| {})).unwrap(), ours);
}

#[test]
fn cancel_keeps_the_pretrained_model_and_a_huge_rate_rolls_back() {
    let set = prompts("", 12);
    let mut tuner = tuner();
    block_on(tuner.add(&clips(&set), false)).unwrap();
    let mut events = CollectEvents { cancel_after_steps: Some(1), ..Default::default() };
    let report = block_on(tuner.train(&TrainOptions { epochs: 2, batch_size: 4, ..train_defaults() }, &mut events)).unwrap();
    assert_eq!(report.stop_reason, StopReason::Cancelled);
    assert_eq!(report.best_epoch, 0);
    assert!(tuner.is_trained(), "cancel keeps a usable model (the best so far)");

    let opts = TrainOptions { epochs: 2, batch_size: 4, learning_rate: 50.0, backbone_learning_rate: 50.0, ..train_defaults() };
    let report = block_on(tuner.train(&opts, &mut CollectEvents::default())).unwrap();
    assert_eq!(report.stop_reason, StopReason::Diverged, "{}", report.message);
    assert!(report.message.contains("Lower the learning rate"), "{}", report.message);
}

#[test]
fn bad_clips_are_listed_and_the_good_ones_kept() {
    let set = prompts("", 4);
    let good = &set.clips[0];
    let silent = vec![0.0f32; 16_000];
    let long = vec![0.1f32; 31 * 16_000];
    let many_words = "word ".repeat(500);
    let batch = [
        Clip { audio: &[], text: "nothing" },
        Clip { audio: &silent, text: "silence" },
        Clip { audio: &long, text: "too long" },
        Clip { audio: &good.audio, text: "  " },
        Clip { audio: &good.audio, text: &many_words },
        Clip { audio: &good.audio, text: &good.text },
    ];
    let mut tuner = tuner();
    assert!(tuner.readiness().unwrap_err().contains("Add recordings"));
    let report = block_on(tuner.add(&batch, false)).unwrap();
    assert_eq!(report.added, 1);
    let reasons: Vec<(usize, &str)> = report.skipped.iter().map(|s| (s.index, s.reason.as_str())).collect();
    assert_eq!(reasons.len(), 5, "{reasons:?}");
    assert!(reasons[0].1.contains("no audio"), "{reasons:?}");
    assert!(reasons[1].1.contains("silent"), "{reasons:?}");
    assert!(reasons[2].1.contains("31.0 s") && reasons[2].1.contains("subtitles"), "{reasons:?}");
    assert!(reasons[3].1.contains("no transcript"), "{reasons:?}");
    assert!(reasons[4].1.contains("tokens") && reasons[4].1.contains("split"), "{reasons:?}");
    assert_eq!(tuner.clips(), 1);
    assert!(tuner.readiness().unwrap_err().contains("at least 4"));
    let e = tuner.reset(Preparation { unfreeze: Unfreeze::Head, ..Preparation::default() }).unwrap_err();
    assert!(matches!(&e, Error::Options(m) if m.contains("decoder layers")), "{e}");
    let e = tuner.reset(Preparation { unfreeze: Unfreeze::Blocks(5), ..Preparation::default() }).unwrap_err();
    assert!(e.to_string().contains("Whisper tiny.en has 4"), "{e}");
    assert!(matches!(block_on(tuner.transcribe(&good.audio, true, |_, _| {})), Err(Error::NotTrained)));
}

#[test]
fn a_long_recording_is_transcribed_in_thirty_second_windows() {
    let set = prompts("", 40);
    // Prompts back to back with half a second of silence: about 70 s.
    let mut recording = Vec::new();
    let mut said = Vec::new();
    for clip in set.clips.iter().filter(|c| c.audio.len() < 8 * 16_000).take(24) {
        recording.extend_from_slice(&clip.audio);
        recording.extend(std::iter::repeat_n(0.0, 8_000));
        said.push(clip.text.clone());
    }
    assert!(recording.len() > 60 * 16_000, "{} s", recording.len() / 16_000);
    let tuner = tuner();
    let mut progress = Vec::new();
    let text = block_on(tuner.transcribe(&recording, false, |done, total| progress.push((done, total)))).unwrap();
    let windows = recording.len().div_ceil(30 * 16_000);
    assert_eq!(progress, (1..=windows).map(|d| (d, windows)).collect::<Vec<_>>());
    let mut errors = burn_finetune::train::WordErrors::default();
    errors.add(&said.join(" "), &text);
    // Cuts at window edges cost a few words; the rest is heard.
    assert!(errors.rate() < 0.25, "WER {:.2}: {text}", errors.rate());
}

#[test]
fn own_frames_cache_less_and_a_model_trained_on_them_keeps_hearing_them() {
    // Short prompts ("digits/": 1 s or so) fill a few dozen of the window's 1 500 positions.
    let set = prompts("/digits/", 40);
    let mut window = tuner();
    block_on(window.add(&clips(&set), false)).unwrap();
    let mut tuner = tuner();
    tuner.hear_own_frames(true);
    block_on(tuner.add(&clips(&set), false)).unwrap();
    assert!(tuner.cache_bytes() * 5 < window.cache_bytes(), "{} vs {} bytes", tuner.cache_bytes(), window.cache_bytes());

    let mut events = CollectEvents::default();
    let report = block_on(tuner.train(&TrainOptions { epochs: 6, backbone_learning_rate: 3e-4, ..train_defaults() }, &mut events)).unwrap();
    eprintln!("{}", report.message);
    // The baseline is the pretrained model on whole windows, transcribed before the first step.
    let baseline = events.events.iter().position(|e| matches!(e, TrainEvent::Baseline { done, total } if done == total));
    let first_step = events.events.iter().position(|e| matches!(e, TrainEvent::Step { .. }));
    assert!(baseline.is_some() && baseline < first_step, "{baseline:?} {first_step:?}");
    assert!(report.best_epoch >= 1 && report.best_val_wer < report.zero_shot_val_wer, "{report:?}");

    // Export → import: the file says how the model hears, and it transcribes the same.
    let bytes = block_on(tuner.export_model()).unwrap();
    let mut other = self::tuner();
    assert!(other.import_model(&bytes).unwrap().preprocessing.contains("own frames"));
    let clip = &set.clips[5].audio;
    assert_eq!(block_on(other.transcribe(clip, true, |_, _| {})).unwrap(), block_on(tuner.transcribe(clip, true, |_, _| {})).unwrap());
}

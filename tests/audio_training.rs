//! Sound classes on Whisper's encoder, on real recordings (the Asterisk prompts of
//! scripts/setup.sh: numbers, letters and the NATO alphabet as three classes): held-out accuracy
//! rises well above chance, a clip's features do not depend on the clips it is encoded with,
//! unfrozen encoder layers train, bad clips get a message naming them, and an exported model
//! predicts the same after import.

mod common;

use burn::tensor::Device;
use burn_finetune::Error;
use burn_finetune::data::stratified_split;
use burn_finetune::model::Unfreeze;
use burn_finetune::native::audio_folder::{AudioFolder, LabelledClip, add_clips, read_audio_folder};
use burn_finetune::task::{AudioClips, AudioFineTuner, AudioTask, Preparation, Task};
use burn_finetune::train::{CollectEvents, TrainEvent, TrainOptions};
use futures_lite::future::block_on;

fn tuner(unfreeze: Unfreeze, classes: &[String]) -> AudioFineTuner {
    let (weights, _, _) = common::whisper();
    let mut tuner = AudioFineTuner::new(AudioTask::new(weights), Device::flex());
    tuner.reset(classes.to_vec(), Preparation { unfreeze, ..Preparation::default() }).unwrap();
    tuner
}

/// The three classes, every clip of each.
fn classes() -> AudioFolder {
    let only = ["digits", "letters", "phonetic"].map(String::from);
    read_audio_folder(&common::repo().join("assets/asterisk"), &only).expect("run scripts/setup.sh")
}

fn clips_of<'a>(set: &'a AudioFolder, indices: &[usize]) -> Vec<&'a LabelledClip> {
    indices.iter().map(|&i| &set.clips[i]).collect()
}

/// `clips` as one call's inputs, with their class names.
fn joined(set: &AudioFolder, clips: &[&LabelledClip]) -> (Vec<f32>, Vec<usize>, Vec<String>) {
    let audio = clips.iter().flat_map(|c| c.audio.iter().copied()).collect();
    let lengths = clips.iter().map(|c| c.audio.len()).collect();
    (audio, lengths, clips.iter().map(|c| set.classes[c.label].clone()).collect())
}

#[test]
fn the_default_head_learns_the_classes_of_held_out_clips() {
    let set = classes();
    // The prompts outside the class folders are listed as such; every clip of the classes reads.
    assert!(set.skipped.iter().all(|(_, why)| why.contains("not in a class folder")), "{:?}", set.skipped);
    let labels: Vec<usize> = set.clips.iter().map(|c| c.label).collect();
    let split = stratified_split(&labels, 0.2, 0);
    let mut tuner = tuner(AudioTask::default_unfreeze(), &set.classes);
    assert_eq!(tuner.preparation().unfreeze, Unfreeze::Head, "the audio task trains its head by default");
    block_on(add_clips(&mut tuner, &set.classes, &clips_of(&set, &split.train), false)).unwrap();
    assert_eq!(tuner.cache_bytes(), split.train.len() * 384 * 2, "one pooled f16 vector per clip");
    // The head alone, not probed first: nothing pretrained to mix with, so no mix is scored.
    let mixing = TrainOptions { mix_pretrained: true, ..AudioTask::train_defaults() };
    let unmixed = block_on(tuner.train(&mixing, &mut CollectEvents::default())).unwrap();
    assert!(unmixed.mixes.is_empty() && unmixed.fine_tuned_share == 1.0, "{:?}", unmixed.mixes);
    let mut events = CollectEvents::default();
    let report = block_on(tuner.train(&AudioTask::train_defaults(), &mut events)).unwrap();
    eprintln!("{}", report.message);
    let first = report.epochs[0].val_accuracy;
    assert!(report.best_val_accuracy > first, "validation accuracy rises from epoch 1 ({first}): {report:?}");
    assert!(events.events.iter().any(|e| matches!(e, TrainEvent::Epoch(_))));

    let test = clips_of(&set, &split.val);
    let (audio, lengths, names) = joined(&set, &test);
    let scores = block_on(tuner.evaluate(AudioClips { audio: &audio, lengths: &lengths }, &names)).unwrap();
    eprintln!("held-out accuracy {:.1}% on {} clips", scores.accuracy * 100.0, scores.examples);
    assert!(scores.accuracy >= 0.6, "three classes (chance 33 %): {:.1}%", scores.accuracy * 100.0);

    // Export → import into a fresh tuner: the same predictions.
    let bytes = block_on(tuner.export_model()).unwrap();
    assert!(bytes.len() < 100_000, "only the head is stored: {} bytes", bytes.len());
    let mut other = self::tuner(Unfreeze::Head, &set.classes);
    let info = other.import_model(&bytes).unwrap();
    assert_eq!((info.task.as_str(), info.classes.clone()), ("audio", set.classes.clone()));
    let few = AudioClips { audio: &audio[..lengths[..3].iter().sum::<usize>()], lengths: &lengths[..3] };
    let before = block_on(tuner.predict(few, 3)).unwrap();
    let after = block_on(other.predict(few, 3)).unwrap();
    assert_eq!(before, after);
}

#[test]
fn a_clips_scores_do_not_depend_on_the_clips_encoded_with_it() {
    let set = classes();
    let short = set.clips.iter().min_by_key(|c| c.audio.len()).unwrap();
    let long = set.clips.iter().max_by_key(|c| c.audio.len()).unwrap();
    assert!(long.audio.len() > 2 * short.audio.len());
    let few: Vec<&LabelledClip> = (0..3).flat_map(|label| set.clips.iter().filter(move |c| c.label == label).take(4)).collect();
    for unfreeze in [Unfreeze::Head, Unfreeze::Blocks(1)] {
        let mut tuner = tuner(unfreeze, &set.classes);
        block_on(add_clips(&mut tuner, &set.classes, &few, false)).unwrap();
        block_on(tuner.train(&TrainOptions { epochs: 2, ..AudioTask::train_defaults() }, &mut CollectEvents::default())).unwrap();
        let alone = block_on(tuner.predict(AudioClips { audio: &short.audio, lengths: &[short.audio.len()] }, 3)).unwrap();
        let audio: Vec<f32> = long.audio.iter().chain(&short.audio).copied().collect();
        let beside = block_on(tuner.predict(AudioClips { audio: &audio, lengths: &[long.audio.len(), short.audio.len()] }, 3)).unwrap();
        for (a, b) in alone[0].iter().zip(&beside[1]) {
            assert_eq!(a.label, b.label, "{unfreeze}");
            assert!((a.score - b.score).abs() < 1e-4, "{unfreeze}: {} alone, {} beside a longer clip", a.score, b.score);
        }
    }
}

#[test]
fn unfrozen_encoder_layers_train() {
    let set = classes();
    let labels: Vec<usize> = set.clips.iter().map(|c| c.label).collect();
    // A quarter of each class keeps the test short.
    let part = stratified_split(&labels, 0.25, 1).val;
    let mut tuner = tuner(Unfreeze::Blocks(1), &set.classes);
    block_on(add_clips(&mut tuner, &set.classes, &clips_of(&set, &part), false)).unwrap();
    let opts = TrainOptions { epochs: 3, patience: 10, ..AudioTask::train_defaults() };
    let report = block_on(tuner.train(&opts, &mut CollectEvents::default())).unwrap();
    assert_eq!(report.epochs.len(), 3, "{report:?}");
    assert!(report.epochs[2].train_loss < report.epochs[0].train_loss, "{report:?}");
    let bytes = block_on(tuner.export_model()).unwrap();
    assert!(bytes.len() > 4_000_000, "the encoder layer is stored with the head: {} bytes", bytes.len());
}

#[test]
fn bad_clips_are_named_and_long_ones_are_cut_to_thirty_seconds() {
    let set = classes();
    let mut tuner = tuner(Unfreeze::Head, &set.classes);
    let one = &set.clips[0].audio;
    let err = block_on(tuner.add(AudioClips { audio: one, lengths: &[one.len(), 5] }, &[0, 0], false)).unwrap_err();
    assert_eq!(err.to_string(), Error::Data(format!("the clips' lengths add up to {} samples, not {}", one.len() + 5, one.len())).to_string());
    let err = block_on(tuner.add(AudioClips { audio: one, lengths: &[0, one.len()] }, &[0, 0], false)).unwrap_err();
    assert!(err.to_string().contains("clip 1 has no audio samples"), "{err}");
    let mut bad = one.clone();
    bad[10] = f32::NAN;
    let err = block_on(tuner.add(AudioClips { audio: &bad, lengths: &[bad.len()] }, &[0], false)).unwrap_err();
    assert!(err.to_string().contains("clip 1: its samples are not numbers"), "{err}");
    assert_eq!(tuner.class_counts(), vec![0, 0, 0], "nothing was added by a refused call");
    // A bad clip late in a call is named by its place in the call (the trunk runs in passes),
    // and nothing of the call is kept.
    let clips: Vec<&LabelledClip> = set.clips.iter().take(40).collect();
    let (mut audio, lengths, _) = joined(&set, &clips);
    let at: usize = lengths[..35].iter().sum();
    audio[at + 3] = f32::INFINITY;
    let err = block_on(tuner.add(AudioClips { audio: &audio, lengths: &lengths }, &[0; 40], false)).unwrap_err();
    assert!(err.to_string().contains("clip 36: its samples are not numbers"), "{err}");
    assert_eq!((tuner.class_counts(), tuner.cache_bytes()), (vec![0, 0, 0], 0), "all of them or none");

    let long: Vec<f32> = one.iter().copied().cycle().take(16_000 * 31).collect();
    let silence = vec![0.0; 16_000];
    let audio: Vec<f32> = long.iter().chain(&silence).copied().collect();
    let added = block_on(tuner.add(AudioClips { audio: &audio, lengths: &[long.len(), silence.len()] }, &[0, 1], false)).unwrap();
    assert_eq!((added.added, added.truncated), (2, 1), "silence is a sound (a background class); 31 s is cut to 30 s");

    // A speech model is not an audio-classes model, though both are Whisper tiny.en.
    let err = tuner.import_model(&speech_model()).unwrap_err();
    assert!(err.to_string().contains("This is a speech model of whisper-tiny.en; this is the audio task"), "{err}");
}

/// A model file of the speech task (one decoder layer, pretrained weights).
fn speech_model() -> Vec<u8> {
    use burn_finetune::task::{Clip, SpeechFineTuner, SpeechTask};
    let (weights, tokenizer, suppression) = common::whisper();
    let mut speech = SpeechFineTuner::new(SpeechTask::new(weights, tokenizer, suppression), Device::flex());
    speech.reset(Preparation { unfreeze: Unfreeze::Blocks(1), ..Preparation::default() }).unwrap();
    let set = classes();
    let clips: Vec<Clip> = set.clips[..4].iter().map(|c| Clip { audio: &c.audio, text: "one" }).collect();
    block_on(speech.add(&clips, false)).unwrap();
    block_on(speech.train(&TrainOptions { epochs: 1, ..burn_finetune::task::speech::train_defaults() }, &mut CollectEvents::default())).unwrap();
    block_on(speech.export_model()).unwrap()
}

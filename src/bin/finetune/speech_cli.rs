//! `finetune --audio`, `--speech` and `--transcribe`: Whisper tiny.en on the user's recordings
//! (sound classes on its encoder; transcripts).

use std::path::Path;

use burn_finetune::Error;
use burn_finetune::data::TranscriptTokenizer;
use burn_finetune::model::whisper::{Suppression, WhisperWeights};
use burn_finetune::native::audio_file::read_audio;
use burn_finetune::native::audio_folder::{add_clips, read_audio_folder};
use burn_finetune::native::folder::printable_path;
use burn_finetune::native::speech_data::{SpeechSet, read_speech};
use burn_finetune::task::speech::train_defaults;
use burn_finetune::task::{AudioFineTuner, AudioTask, Clip, Preparation, SpeechFineTuner, SpeechTask};
use web_time::Instant;

use super::{Args, Printer, counts_of, device, preparation, read, ready, skipped, train_and_export, train_options, train_options_over, write_model};

/// Sound classes: a folder per class (and optionally a validation folder of the same classes).
pub async fn run_audio(args: &Args, path: &Path) -> Result<(), Error> {
    let opts = train_options::<AudioTask>(args)?;
    let prep = preparation::<AudioTask>(args)?;
    let train = read_audio_folder(path, &[])?;
    let val = args.val_data.as_deref().map(|v| read_audio_folder(v, &train.classes)).transpose()?;
    let labels = train.clips.iter().map(|c| c.label);
    let mut counts = counts_of(labels, train.classes.len(), args.limit_per_class);
    if let Some(val) = &val {
        let at = |l: usize| train.classes.iter().position(|c| *c == val.classes[l]).expect("a training class");
        counts_of(val.clips.iter().map(|c| at(c.label)), train.classes.len(), args.limit_per_class).iter().enumerate().for_each(|(i, n)| counts[i] += n);
    }
    ready::<AudioTask>(&train.classes, &counts)?;
    let weights = WhisperWeights::from_bytes("model.safetensors", &read(&args.speech_model.join("model.safetensors"))?)?;
    let mut tuner = AudioFineTuner::new(AudioTask::new(weights), device(args)?);
    tuner.reset(train.classes.clone(), prep)?;
    let started = Instant::now();
    let mut added = 0;
    for (set, holdout) in std::iter::once((&train, false)).chain(val.iter().map(|v| (v, true))) {
        for (file, reason) in &set.skipped {
            skipped(args, &printable_path(file), reason);
        }
        let mut clips: Vec<_> = set.clips.iter().collect();
        if args.limit_per_class > 0 {
            let mut seen = vec![0; set.classes.len()];
            clips.retain(|c| { seen[c.label] += 1; seen[c.label] <= args.limit_per_class });
        }
        let report = add_clips(&mut tuner, &set.classes, &clips, holdout).await?;
        if report.truncated > 0 {
            skipped(args, &format!("{} clips", report.truncated), "longer than 30 s: their first 30 s are used (not skipped)");
        }
        added += report.added;
    }
    train_and_export(args, &mut tuner, &opts, "clips", added, started.elapsed().as_secs_f32()).await
}

fn speech_task(args: &Args) -> Result<SpeechTask, Error> {
    let dir = &args.speech_model;
    let weights = WhisperWeights::from_bytes("model.safetensors", &read(&dir.join("model.safetensors"))?)?;
    let tokenizer = TranscriptTokenizer::from_bytes(&read(&dir.join("tokenizer.json"))?).map_err(Error::Data)?;
    let config = String::from_utf8_lossy(&read(&dir.join("config.json"))?).to_string();
    Ok(SpeechTask::new(weights, tokenizer, Suppression::from_config(&config).map_err(Error::Data)?))
}

/// Adds `set`'s clips, listing the skipped ones (reading and checking); returns the number added.
async fn add(args: &Args, tuner: &mut SpeechFineTuner, set: &SpeechSet, holdout: bool) -> Result<usize, Error> {
    for (what, why) in &set.skipped {
        skipped(args, what, why);
    }
    let clips: Vec<Clip> = set.clips.iter().map(|c| Clip { audio: &c.audio, text: &c.text }).collect();
    let report = tuner.add(&clips, holdout).await?;
    for s in &report.skipped {
        skipped(args, &set.clips[s.index].name, &s.reason);
    }
    Ok(report.added)
}

pub async fn run_speech(args: &Args, path: &Path) -> Result<(), Error> {
    let opts = train_options_over(args, train_defaults())?;
    if args.checkpoint.is_some() {
        return Err(Error::Options("--checkpoint and --resume: images, text and sounds in this version (not speech)".into()));
    }
    let prep = Preparation { unfreeze: args.unfreeze.unwrap_or(Preparation::default().unfreeze), augment: args.augment.unwrap_or(0), ..Preparation::default() };
    let train = read_speech(path, args.subtitles.as_deref())?;
    let val = match &args.val_data {
        Some(v) => Some(read_speech(v, None)?),
        None => None,
    };
    // The clips read so far (before the encoder runs over them): the same rule as training's.
    let read_clips = train.clips.len() + val.as_ref().map_or(0, |v| v.clips.len());
    burn_finetune::task::speech::readiness(read_clips, val.as_ref().map_or(0, |v| v.clips.len())).map_err(Error::Data)?;
    let mut tuner = SpeechFineTuner::new(speech_task(args)?, device(args)?);
    tuner.reset(prep)?;
    let started = Instant::now();
    let mut added = add(args, &mut tuner, &train, false).await?;
    if let Some(val) = &val {
        added += add(args, &mut tuner, val, true).await?;
    }
    tuner.readiness().map_err(Error::Data)?;
    let secs = started.elapsed().as_secs_f32();
    if args.json {
        println!("{}", serde_json::json!({"type": "prepared", "examples": added, "seconds": secs}));
    } else {
        println!("{added} clips prepared in {secs:.1} s ({:.2}/s)", added as f32 / secs.max(1e-6));
        println!("training: {}", prep.unfreeze.describe("decoder layers"));
        println!("{:>5} {:>10} {:>9} {:>9} {:>9} {:>7}", "epoch", "train_loss", "val_loss", "val_wer", "clips/s", "sec");
    }
    tuner.train(&opts, &mut Printer::new(args.json)).await?;
    if let Some(path) = &args.export {
        write_model(path, tuner.export_model().await?)?;
    }
    Ok(())
}

pub async fn run_transcribe(args: &Args, path: &Path) -> Result<(), Error> {
    let audio = read_audio(path).map_err(|e| Error::Data(format!("'{}': {e}", path.display())))?;
    let mut tuner = SpeechFineTuner::new(speech_task(args)?, device(args)?);
    if let Some(model) = &args.model {
        tuner.import_model(&read(model)?)?;
    }
    let json = args.json;
    let text = tuner
        .transcribe(&audio, args.model.is_some(), |done, total| {
            if json {
                println!("{}", serde_json::json!({"type": "progress", "done": done, "total": total}));
            } else if total > 1 {
                eprintln!("window {done}/{total}");
            }
        })
        .await?;
    if json {
        println!("{}", serde_json::json!({"type": "transcript", "text": text}));
    } else {
        println!("{text}");
    }
    Ok(())
}

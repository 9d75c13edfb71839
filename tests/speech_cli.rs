//! `finetune --speech`, `--transcribe` and `--audio` as a user runs them: a manifest of real clips
//! (one naming a missing file), JSON events with the WER per epoch, an exported model that
//! `--transcribe` then uses, a recording without subtitles refused with what to do; a folder of
//! sound classes with a file that is not audio.

mod common;

use std::process::Command;

fn finetune(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_finetune")).args(args).current_dir(common::repo()).output().unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into(), String::from_utf8_lossy(&out.stderr).into())
}

#[test]
fn train_from_a_manifest_export_and_transcribe() {
    let dir = std::env::temp_dir().join(format!("speech-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let clips = common::repo().join("assets/asterisk/digits");
    let mut manifest = String::from("file,text\n");
    for (n, word) in [(1, "one"), (2, "two"), (3, "three"), (4, "four"), (5, "five"), (6, "six"), (7, "seven"), (8, "eight")] {
        manifest.push_str(&format!("{},{word}\n", clips.join(format!("{n}.wav")).display()));
    }
    manifest.push_str("missing.wav,nothing\n");
    std::fs::write(dir.join("m.csv"), manifest).unwrap();
    let model = dir.join("m.safetensors");
    let (ok, out, err) = finetune(&["--speech", dir.join("m.csv").to_str().unwrap(), "--epochs", "1", "--batch-size", "4", "--json", "--export", model.to_str().unwrap()]);
    assert!(ok, "{out}\n{err}");
    let events: Vec<serde_json::Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let kinds: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert!(kinds.contains(&"skipped") && kinds.contains(&"prepared") && kinds.contains(&"speechEpoch") && kinds.contains(&"speechDone"), "{kinds:?}");
    let skipped = events.iter().find(|e| e["type"] == "skipped").unwrap();
    assert!(skipped["reason"].as_str().unwrap().contains("'missing.wav', which is not there"), "{skipped}");
    let epoch = events.iter().find(|e| e["type"] == "speechEpoch").unwrap();
    assert!(epoch["valWer"].as_f64().unwrap() >= 0.0 && epoch["valWords"].as_u64().unwrap() > 0, "{epoch}");
    assert!(model.is_file());

    let (ok, out, err) = finetune(&["--transcribe", clips.join("1.wav").to_str().unwrap(), "--model", model.to_str().unwrap()]);
    assert!(ok, "{err}");
    assert!(!out.trim().is_empty(), "a transcript is printed");

    let (ok, _, err) = finetune(&["--speech", clips.join("1.wav").to_str().unwrap()]);
    assert!(!ok);
    assert!(err.contains("--subtitles"), "{err}");
}

#[test]
fn sound_classes_from_a_folder_per_class() {
    let dir = std::env::temp_dir().join(format!("audio-cli-{}", std::process::id()));
    let asterisk = common::repo().join("assets/asterisk");
    for class in ["digits", "phonetic"] {
        std::fs::create_dir_all(dir.join(class)).unwrap();
        let mut files: Vec<_> = std::fs::read_dir(asterisk.join(class)).unwrap().map(|e| e.unwrap().path()).collect();
        files.sort();
        for f in files.iter().take(6) {
            std::fs::copy(f, dir.join(class).join(f.file_name().unwrap())).unwrap();
        }
    }
    std::fs::write(dir.join("digits/notes.txt"), "not audio").unwrap();
    let model = dir.join("sounds.safetensors");
    let (ok, out, err) = finetune(&["--audio", dir.to_str().unwrap(), "--epochs", "3", "--json", "--export", model.to_str().unwrap()]);
    assert!(ok, "{out}\n{err}");
    let events: Vec<serde_json::Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let skipped = events.iter().find(|e| e["type"] == "skipped").expect("the text file is listed");
    assert!(skipped["item"].as_str().unwrap().ends_with("notes.txt"), "{skipped}");
    let prepared = events.iter().find(|e| e["type"] == "prepared").unwrap();
    assert_eq!(prepared["counts"], serde_json::json!([6, 6]), "{prepared}");
    assert_eq!(events.iter().filter(|e| e["type"] == "epoch").count(), 3, "{out}");
    assert!(model.is_file());
}

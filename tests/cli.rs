//! The command line on data that cannot train: it says why before any example runs through the
//! frozen layers (once it cached every example first), and it prints what it skipped with
//! control characters escaped.

mod common;

use std::process::Command;

fn finetune(args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_finetune")).args(args).current_dir(common::repo()).output().unwrap();
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

#[test]
fn a_class_with_one_example_is_refused_before_caching() {
    let dir = std::env::temp_dir().join(format!("finetune-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let csv = dir.join("reviews.csv");
    std::fs::write(&csv, "text,label\ngreat film,pos\nloved it,pos\nawful,neg\n").unwrap();
    let (ok, out) = finetune(&["--text", csv.to_str().unwrap()]);
    assert!(!ok);
    assert!(out.contains("Class 'neg' has 1 example(s): each class needs at least 2."), "{out}");
    assert!(!out.contains("prepared"), "nothing was cached: {out}");

    // Images: two classes, one with a single image; a stray file in the root and an escape
    // sequence in a file name are listed, printed escaped.
    let images = dir.join("images");
    for (class, n) in [("cats", 3), ("dogs", 1)] {
        std::fs::create_dir_all(images.join(class)).unwrap();
        for i in 0..n {
            image::RgbImage::new(32, 32).save(images.join(class).join(format!("{i}.png"))).unwrap();
        }
    }
    let (ok, out) = finetune(&["--data", images.to_str().unwrap()]);
    assert!(!ok);
    assert!(out.contains("Class 'dogs' has 1 example(s)"), "{out}");
    assert!(!out.contains("prepared"), "{out}");

    std::fs::write(images.join("dogs").join("bad\u{1b}[31mname.png"), b"not an image").unwrap();
    std::fs::write(images.join("dogs").join("3.png"), b"").unwrap();
    image::RgbImage::new(32, 32).save(images.join("dogs").join("2.png")).unwrap();
    let (_, out) = finetune(&["--data", images.to_str().unwrap(), "--epochs", "1"]);
    assert!(out.contains("bad\\u{1b}[31mname.png"), "the escape sequence is printed escaped: {out}");
    assert!(!out.contains('\u{1b}'), "{out}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `--checkpoint FILE` keeps the run after each epoch; `--resume` goes on from it with its
/// settings: the epoch that runs again prints what the uninterrupted run printed (timings aside).
#[test]
fn a_run_kept_with_checkpoint_goes_on_with_resume() {
    let dir = std::env::temp_dir().join(format!("finetune-cli-resume-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let csv = dir.join("reviews.csv");
    let rows = ["great film,pos", "loved it,pos", "a joy,pos", "wonderful,pos", "awful,neg", "boring plot,neg", "a mess,neg", "dull,neg"];
    std::fs::write(&csv, format!("text,label\n{}\n", rows.join("\n"))).unwrap();
    let checkpoint = dir.join("run.checkpoint");
    let (csv, kept) = (csv.to_str().unwrap(), checkpoint.to_str().unwrap());
    let train = ["--text", csv, "--unfreeze", "1", "--epochs", "3", "--batch-size", "2", "--patience", "9", "--max-length", "16"];
    let (ok, whole) = finetune(&[&train[..], &["--checkpoint", kept]].concat());
    assert!(ok, "{whole}");
    assert!(whole.contains("checkpoint of epoch 2 kept in"), "{whole}");
    // Epoch rows without their last two columns (ex/s, seconds).
    let rows = |out: &str| -> Vec<String> {
        out.lines()
            .filter(|l| l.split_whitespace().next().is_some_and(|w| w.parse::<usize>().is_ok()) && l.contains('%'))
            .map(|l| l.split_whitespace().collect::<Vec<_>>()[..6].join(" "))
            .collect()
    };
    // The file holds epoch 2's checkpoint (none is written after the last epoch).
    let (ok, resumed) = finetune(&["--text", csv, "--max-length", "16", "--unfreeze", "1", "--checkpoint", kept, "--resume"]);
    assert!(ok, "{resumed}");
    assert!(resumed.contains("(resumed after epoch 2 from its checkpoint)"), "{resumed}");
    assert_eq!(rows(&resumed), rows(&whole), "{whole}\n---\n{resumed}");
    assert_eq!(rows(&whole).len(), 3);
    // Other data: refused, naming the difference.
    std::fs::write(dir.join("other.csv"), "text,label\ngreat,pos\nfine,pos\nbad,neg\npoor,neg\n").unwrap();
    let (ok, out) = finetune(&["--text", dir.join("other.csv").to_str().unwrap(), "--max-length", "16", "--unfreeze", "1", "--checkpoint", kept, "--resume"]);
    assert!(!ok && out.contains("had 8 examples; there are 4 now"), "{out}");
    std::fs::remove_dir_all(&dir).unwrap();
}

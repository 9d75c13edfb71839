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

//! A data set on disk: one subfolder per class, images inside. Decoding and resizing use the
//! `image` crate (the browser uses `createImageBitmap`), with the same policy: the centre square,
//! scaled to 224, RGB.

use std::path::{Path, PathBuf};

use image::imageops::FilterType;

use crate::data::PixelLayout;
use crate::error::Error;
use crate::task::{ImageBatch, ImageFineTuner};
use crate::model::efficientnet::INPUT_SIZE;

/// The files of a folder-per-class data set.
#[derive(Debug, Default)]
pub struct FolderDataset {
    pub classes: Vec<String>,
    /// `(path, class index)`, in class then file-name order.
    pub files: Vec<(PathBuf, usize)>,
    /// What was not used, with the reason: hidden and system folders (`.git`, `__MACOSX`), empty
    /// class folders, files outside any class folder, links leading out of the data folder.
    pub skipped: Vec<(PathBuf, String)>,
}

/// Lists `root/<class>/<file>`. Hidden files (`.DS_Store`) are passed over; what else is not
/// used is listed in `skipped`. A link is followed only when it stays inside `root`. Class names
/// are the folder names, with control characters and bytes that are not UTF-8 escaped (`\n`,
/// `\xE9`): two folders never share a name, and a name never drives the terminal.
pub fn list_folder(root: &Path) -> Result<FolderDataset, Error> {
    let cannot = |dir: &Path, e: std::io::Error| Error::Data(format!("cannot read folder {}: {e}", printable_path(dir)));
    let base = root.canonicalize().map_err(|e| cannot(root, e))?;
    let mut set = FolderDataset::default();
    let mut class_dirs = Vec::new();
    for path in sorted_entries(root).map_err(|e| cannot(root, e))? {
        let name = path.file_name().unwrap_or_default();
        match kind(&path, &base) {
            Kind::Outside => set.skipped.push((path, "a link leading out of the data folder (not followed)".into())),
            Kind::Dir if name == "__MACOSX" || hidden(&path) => set.skipped.push((path, "a hidden or system folder, not a class".into())),
            Kind::Dir => class_dirs.push(path),
            Kind::File if hidden(&path) => {}
            Kind::File => set.skipped.push((path, "not in a class folder (put each class's files in its own subfolder)".into())),
            Kind::Other => set.skipped.push((path, "neither a file nor a folder".into())),
        }
    }
    for dir in class_dirs {
        let mut files = Vec::new();
        for path in sorted_entries(&dir).map_err(|e| cannot(&dir, e))? {
            match kind(&path, &base) {
                Kind::File if !hidden(&path) => files.push(path),
                Kind::Outside => set.skipped.push((path, "a link leading out of the data folder (not followed)".into())),
                _ => {}
            }
        }
        if files.is_empty() {
            set.skipped.push((dir, "an empty class folder (no files), not a class".into()));
            continue;
        }
        let label = set.classes.len();
        set.classes.push(escaped_name(dir.file_name().unwrap_or_default()));
        set.files.extend(files.into_iter().map(|f| (f, label)));
    }
    if set.classes.is_empty() {
        return Err(Error::Data(format!("{} has no class subfolders with files: put each class's images in its own subfolder", printable_path(root))));
    }
    Ok(set)
}

/// What an entry of the data folder is, links resolved.
enum Kind {
    File,
    Dir,
    /// A link whose target lies outside the data folder (or does not exist).
    Outside,
    Other,
}

fn kind(path: &Path, base: &Path) -> Kind {
    let Ok(meta) = std::fs::symlink_metadata(path) else { return Kind::Other };
    let meta = if meta.file_type().is_symlink() {
        match (path.canonicalize(), std::fs::metadata(path)) {
            (Ok(target), Ok(meta)) if target.starts_with(base) => meta,
            _ => return Kind::Outside,
        }
    } else {
        meta
    };
    if meta.is_dir() {
        Kind::Dir
    } else if meta.is_file() {
        Kind::File
    } else {
        Kind::Other
    }
}

fn sorted_entries(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)?.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    Ok(paths)
}

fn hidden(p: &Path) -> bool {
    p.file_name().is_some_and(|n| n.as_encoded_bytes().starts_with(b"."))
}

/// `name` as text: control characters escaped (`\n`, `\u{1b}`), bytes that are not UTF-8 as
/// `\xNN`, so that distinct names stay distinct.
pub fn escaped_name(name: &std::ffi::OsStr) -> String {
    let mut out = String::new();
    for chunk in name.as_encoded_bytes().utf8_chunks() {
        out.push_str(&printable(chunk.valid()));
        out.extend(chunk.invalid().iter().map(|b| format!("\\x{b:02X}")));
    }
    out
}

/// `text` with its control characters escaped (safe to print to a terminal).
pub fn printable(text: &str) -> String {
    text.chars().map(|c| if c.is_control() { c.escape_default().to_string() } else { c.to_string() }).collect()
}

/// A path as [`escaped_name`] writes names.
pub fn printable_path(path: &Path) -> String {
    escaped_name(path.as_os_str())
}

/// The largest image read (pixels): 100 megapixels decode in ~400 MB.
const MAX_PIXELS: u64 = 100_000_000;
/// The most one side may be longer than the other (a panorama is ~4; a 1 × 2 000 000 strip is
/// not a photograph).
const MAX_ASPECT: u32 = 100;

/// Decodes an image file to 224×224 RGB bytes: the centre square cut out first, then scaled to
/// 224 (as the browser does), so the work is the square's whatever the image's shape. Sizes are
/// checked from the header before anything is decoded.
pub fn load_rgb(path: &Path) -> Result<Vec<u8>, String> {
    use image::ImageDecoder;
    let reader = image::ImageReader::open(path).map_err(|e| e.to_string())?.with_guessed_format().map_err(|e| e.to_string())?;
    let decoder = reader.into_decoder().map_err(|e| e.to_string())?;
    let (w, h) = decoder.dimensions();
    check_size(w, h)?;
    let img = image::DynamicImage::from_decoder(decoder).map_err(|e| e.to_string())?;
    let side = w.min(h);
    let square = img.crop_imm((w - side) / 2, (h - side) / 2, side, side);
    let size = INPUT_SIZE as u32;
    Ok(square.resize_exact(size, size, FilterType::Triangle).to_rgb8().into_raw())
}

/// Why an image of `w × h` pixels is not read, if it is not.
fn check_size(w: u32, h: u32) -> Result<(), String> {
    let (short, long) = (w.min(h), w.max(h));
    if short == 0 {
        return Err(format!("it is {w} × {h} pixels: an empty image"));
    }
    if long / short > MAX_ASPECT {
        return Err(format!("it is {w} × {h} pixels: one side is over {MAX_ASPECT} times the other (only its centre square would be used)"));
    }
    if w as u64 * h as u64 > MAX_PIXELS {
        return Err(format!("it is {w} × {h} pixels: images up to {} megapixels are read", MAX_PIXELS / 1_000_000));
    }
    Ok(())
}

/// What [`add_folder`] did: images added, and files skipped with the reason.
#[derive(Debug, Default)]
pub struct Added {
    pub images: usize,
    pub skipped: Vec<(PathBuf, String)>,
}

/// Decodes a folder's images in batches of 32 and adds them to `tuner` under the class of the
/// same name in `classes`; at most `limit` per class (0: all). Unreadable files are skipped.
pub async fn add_folder(tuner: &mut ImageFineTuner, root: &Path, limit: usize, holdout: bool) -> Result<Added, Error> {
    let set = list_folder(root)?;
    let classes = tuner.classes().to_vec();
    let mut per_class = vec![0usize; classes.len()];
    let (mut pixels, mut labels) = (Vec::new(), Vec::new());
    let mut added = Added { skipped: set.skipped.clone(), ..Added::default() };
    for (path, label) in &set.files {
        let Some(class) = classes.iter().position(|c| *c == set.classes[*label]) else {
            return Err(Error::Data(format!("{}: class '{}' is not among the training classes", printable_path(root), set.classes[*label])));
        };
        if limit > 0 && per_class[class] >= limit {
            continue;
        }
        match load_rgb(path) {
            Ok(rgb) => {
                pixels.extend_from_slice(&rgb);
                labels.push(class);
                per_class[class] += 1;
            }
            Err(why) => added.skipped.push((path.clone(), why)),
        }
        if labels.len() == 32 {
            tuner.add(ImageBatch { pixels: &pixels, layout: PixelLayout::Rgb, count: labels.len() }, &labels, holdout).await?;
            added.images += labels.len();
            pixels.clear();
            labels.clear();
        }
    }
    if !labels.is_empty() {
        tuner.add(ImageBatch { pixels: &pixels, layout: PixelLayout::Rgb, count: labels.len() }, &labels, holdout).await?;
        added.images += labels.len();
    }
    Ok(added)
}

#[cfg(test)]
mod tests {
    use std::os::unix::ffi::OsStrExt;

    use super::*;

    /// A data folder as users' archives and disks have them.
    #[test]
    fn folders_that_are_not_classes_are_listed_and_names_stay_distinct() {
        let root = std::env::temp_dir().join(format!("finetune-folder-{}", std::process::id()));
        let outside = std::env::temp_dir().join(format!("finetune-outside-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&outside).unwrap();
        std::fs::write(outside.join("secret.png"), b"x").unwrap();
        let dir = |name: &[u8]| {
            let path = root.join(std::ffi::OsStr::from_bytes(name));
            std::fs::create_dir_all(&path).unwrap();
            std::fs::write(path.join("1.png"), b"x").unwrap();
            path
        };
        let cats = dir(b"cats");
        dir(b"caf\xE9");
        dir(b"caf\xE8");
        dir(b"bad\nname");
        dir(b".git");
        dir(b"__MACOSX");
        std::fs::create_dir_all(root.join("empty")).unwrap();
        std::fs::write(cats.join(".DS_Store"), b"x").unwrap();
        std::fs::write(root.join("notes.txt"), b"x").unwrap();
        std::os::unix::fs::symlink(&outside, root.join("linked-out")).unwrap();
        std::os::unix::fs::symlink(outside.join("secret.png"), cats.join("2.png")).unwrap();
        std::os::unix::fs::symlink(&cats, root.join("linked-in")).unwrap();

        let set = list_folder(&root).unwrap();
        assert_eq!(set.classes, ["bad\\nname", "caf\\xE8", "caf\\xE9", "cats", "linked-in"]);
        let cats_files: Vec<_> = set.files.iter().filter(|(_, l)| set.classes[*l] == "cats").map(|(p, _)| p.file_name().unwrap().to_owned()).collect();
        assert_eq!(cats_files, ["1.png"], "hidden files passed over, the link out not followed");
        let mut reasons: Vec<(String, String)> =
            set.skipped.iter().map(|(p, r)| (p.file_name().unwrap().to_string_lossy().into_owned(), r.clone())).collect();
        reasons.sort();
        let names: Vec<&str> = reasons.iter().map(|(n, _)| n.as_str()).collect();
        // 2.png twice: in cats, and in linked-in (a link inside the folder, followed: cats again).
        assert_eq!(names, [".git", "2.png", "2.png", "__MACOSX", "empty", "linked-out", "notes.txt"]);
        assert!(reasons[1].1.contains("link leading out") && reasons[5].1.contains("link leading out"), "{reasons:?}");
        assert!(reasons[4].1.contains("empty class folder"), "{reasons:?}");
        std::fs::remove_dir_all(&root).unwrap();
        std::fs::remove_dir_all(&outside).unwrap();
    }

    /// A 1 × 2 000 000 PNG once asked for ~100 GB: it was scaled whole before the crop.
    #[test]
    fn absurd_images_are_refused_from_their_header_and_the_centre_square_is_cut_first() {
        let dir = std::env::temp_dir().join(format!("finetune-images-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let strip = dir.join("strip.png");
        image::GrayImage::new(1, 2_000_000).save(&strip).unwrap();
        let e = load_rgb(&strip).unwrap_err();
        assert!(e.contains("1 × 2000000 pixels: one side is over 100 times the other"), "{e}");
        assert!(check_size(20_000, 20_000).unwrap_err().contains("up to 100 megapixels"));
        // 300 × 100: red, green, blue thirds; the centre square is the green one.
        let wide = dir.join("wide.png");
        image::RgbImage::from_fn(300, 100, |x, _| image::Rgb([[255, 0, 0], [0, 255, 0], [0, 0, 255]][x as usize / 100])).save(&wide).unwrap();
        let rgb = load_rgb(&wide).unwrap();
        assert_eq!(rgb.len(), 224 * 224 * 3);
        assert!(rgb.chunks(3).all(|p| p[1] > 200 && p[0] < 60 && p[2] < 60), "only the green centre is kept");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

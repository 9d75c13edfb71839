//! A data set on disk: one subfolder per class, images inside. Decoding and resizing use the
//! `image` crate (the browser uses `createImageBitmap`), with the same policy: scale the shorter
//! side to 224, centre-crop, RGB.

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
}

/// Lists `root/<class>/<file>`; files directly in `root` and hidden entries are ignored.
pub fn list_folder(root: &Path) -> Result<FolderDataset, Error> {
    let entries = std::fs::read_dir(root).map_err(|e| Error::Data(format!("cannot read folder {}: {e}", root.display())))?;
    let mut class_dirs: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir() && !hidden(p))
        .collect();
    class_dirs.sort();
    let mut set = FolderDataset::default();
    for dir in class_dirs {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .map_err(|e| Error::Data(format!("cannot read folder {}: {e}", dir.display())))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file() && !hidden(p))
            .collect();
        files.sort();
        let label = set.classes.len();
        set.classes.push(dir.file_name().unwrap_or_default().to_string_lossy().into_owned());
        set.files.extend(files.into_iter().map(|f| (f, label)));
    }
    if set.classes.is_empty() {
        return Err(Error::Data(format!("{} has no class subfolders: put each class's images in its own subfolder", root.display())));
    }
    Ok(set)
}

fn hidden(p: &Path) -> bool {
    p.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.'))
}

/// Decodes an image file to 224×224 RGB bytes (shorter side scaled to 224, centre crop).
pub fn load_rgb(path: &Path) -> Result<Vec<u8>, String> {
    let img = image::open(path).map_err(|e| e.to_string())?;
    let (w, h) = (img.width(), img.height());
    let scale = INPUT_SIZE as f32 / w.min(h) as f32;
    let (nw, nh) = ((w as f32 * scale).round().max(INPUT_SIZE as f32) as u32, (h as f32 * scale).round().max(INPUT_SIZE as f32) as u32);
    let resized = img.resize_exact(nw, nh, FilterType::Triangle);
    let side = INPUT_SIZE as u32;
    let cropped = resized.crop_imm((nw - side) / 2, (nh - side) / 2, side, side);
    Ok(cropped.to_rgb8().into_raw())
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
    let (mut pixels, mut labels, mut added) = (Vec::new(), Vec::new(), Added::default());
    for (path, label) in &set.files {
        let Some(class) = classes.iter().position(|c| *c == set.classes[*label]) else {
            return Err(Error::Data(format!("{}: class '{}' is not among the training classes", root.display(), set.classes[*label])));
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

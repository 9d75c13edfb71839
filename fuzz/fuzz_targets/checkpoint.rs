//! Training checkpoints (what `--resume` and the page read back): any bytes are refused with a
//! reason or read, and a checkpoint read is checked against a fine-tuner's examples and restored
//! into a head-only image top — never a panic.
#![no_main]

use std::cell::RefCell;

use burn::tensor::Device;
use burn_finetune::model::{EfficientNetWeights, Unfreeze};
use burn_finetune::task::resume::read_checkpoint;
use burn_finetune::task::{ImageBatch, ImageFineTuner, ImageTask, Preparation};
use burn_finetune::train::CollectEvents;
use libfuzzer_sys::fuzz_target;

thread_local! {
    static TUNER: RefCell<ImageFineTuner> = RefCell::new({
        let bytes = std::fs::read("assets/efficientnet-lite0.safetensors").expect("run from the repository root after scripts/setup.sh");
        let mut tuner = ImageFineTuner::new(ImageTask { weights: EfficientNetWeights::from_bytes("efficientnet", &bytes).unwrap() }, Device::flex());
        tuner.reset(vec!["a".into(), "b".into()], Preparation { unfreeze: Unfreeze::Head, ..Preparation::default() }).unwrap();
        let pixels: Vec<u8> = [0u8, 60, 190, 250].iter().flat_map(|&v| vec![v; 224 * 224 * 3]).collect();
        let batch = ImageBatch { pixels: &pixels, layout: burn_finetune::data::PixelLayout::Rgb, count: 4 };
        futures_lite::future::block_on(tuner.add(batch, &[0, 0, 1, 1], false)).unwrap();
        tuner
    });
}

fuzz_target!(|data: &[u8]| {
    let _ = read_checkpoint(data.to_vec());
    TUNER.with(|t| {
        let mut tuner = t.borrow_mut();
        if tuner.check_checkpoint(data.to_vec()).is_ok() {
            let _ = futures_lite::future::block_on(tuner.resume(data.to_vec(), &mut CollectEvents::default()));
        }
    });
});

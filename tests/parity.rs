//! The EfficientNet-Lite0 port against an independent NumPy reference
//! (tests/reference/efficientnet_reference.py → tests/fixtures/efficientnet_reference.json).

mod common;

use burn::tensor::{Device, Tensor, TensorData};
use burn_finetune::data::{PixelLayout, preprocess};
use burn_finetune::model::{EfficientNetClassifierConfig, Unfreeze};
use serde_json::Value;

const PALACE: usize = 698;
const DAISY: usize = 985;

#[test]
fn imagenet_logits_match_the_reference() {
    let device = Device::flex();
    let weights = common::weights();
    let trunk = weights.trunk(Unfreeze::Head, &device);
    let fc = weights.imagenet_fc(&device);
    let reference: Value =
        serde_json::from_str(&std::fs::read_to_string(common::repo().join("tests/fixtures/efficientnet_reference.json")).unwrap())
            .unwrap();
    for (name, expected_top1) in [("china", PALACE), ("flower", DAISY)] {
        let pixels = std::fs::read(common::repo().join(format!("tests/fixtures/{name}_224.rgb"))).unwrap();
        let input = preprocess(&pixels, PixelLayout::Rgb, 1).unwrap();
        let images = Tensor::<4>::from_data(TensorData::new(input, [1, 3, 224, 224]), &device);
        let pooled = trunk.forward(images).reshape([1, 1280]);
        let logits: Vec<f32> = fc.forward(pooled).into_data().try_to_vec().unwrap();
        let want: Vec<f32> =
            reference["images"][name]["logits"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap() as f32).collect();
        let max_diff = logits.iter().zip(&want).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
        let top1 = logits.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).unwrap().0;
        println!("{name}: top-1 {top1}, max |diff| {max_diff:.2e}");
        assert_eq!(top1, expected_top1, "{name}: wrong top-1 class");
        assert!(max_diff <= 1e-3, "{name}: logits differ from the reference by {max_diff}");
    }
}

/// Every cut computes the same network: the frozen trunk below the cut followed by the trainable
/// upper layers (on an autodiff device, as in training) gives the whole trunk's pooled features.
/// Covers the upper layers' path (stride-2 depthwise blocks included at 6 blocks).
#[test]
fn every_cut_computes_the_same_features() {
    let device = Device::flex();
    let weights = common::weights();
    let pixels = std::fs::read(common::repo().join("tests/fixtures/flower_224.rgb")).unwrap();
    let input = preprocess(&pixels, PixelLayout::Rgb, 1).unwrap();
    let images = Tensor::<4>::from_data(TensorData::new(input, [1, 3, 224, 224]), &device);
    let whole: Vec<f32> = weights.trunk(Unfreeze::Head, &device).forward(images.clone()).into_data().try_to_vec().unwrap();
    for blocks in [1, 2, 6] {
        let unfreeze = Unfreeze::Blocks(blocks);
        let features = weights.trunk(unfreeze, &device).forward(images.clone());
        let autodiff = device.clone().autodiff();
        let upper = EfficientNetClassifierConfig { classes: 2, unfreeze, dropout: 0.0 }.init(&weights, &autodiff).upper;
        let pooled: Vec<f32> = upper.forward(Tensor::from_data(features.into_data(), &autodiff)).into_data().try_to_vec().unwrap();
        let max_diff = pooled.iter().zip(&whole).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
        assert_eq!(pooled.len(), whole.len());
        assert!(max_diff <= 1e-4, "{blocks} blocks: pooled features differ by {max_diff}");
    }
}

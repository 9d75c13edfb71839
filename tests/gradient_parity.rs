//! The custom ops' portable bodies (what a GPU runs) against the CPU kernels in training: the same
//! fine-tuned model (2 unfrozen MiniLM layers / EfficientNet blocks / Whisper encoder layers) and
//! batches give the same
//! losses and gradients over a few optimiser steps on wgpu (natively Vulkan: Mesa's lavapipe,
//! which the test command installs) as on the CPU, within TOLERANCE. Dropout is off: the two
//! backends draw their masks differently.
//!
//! Two probes: 3 training steps (batch 4; the optimiser's kernels too), and each of the 12
//! examples' gradients at the same weights. ReLU6 (images) has kinks: where one of its inputs lies
//! within rounding of 0 or 6, a backend's rounding decides whether its derivative is 1 or 0, and
//! that example's gradients jump, by up to 1e-2 (the CPU against itself with rounding-sized changes
//! to its weights: `measure_the_cpus_own_sensitivity`, ignored by default). So for images the
//! gradients must agree in the lower quartile over the examples (a jump hits a quarter to a half
//! of them, a wrong kernel every example), and their training steps in the losses; for text and
//! sounds (smooth: GELU, softmax, layer norm) the gradients agree everywhere.
//!
//! Without a Vulkan adapter the wgpu half is skipped with a message, unless FINETUNE_VULKAN=1
//! (set by the test command) says one must be there.

mod common;

use burn::tensor::Device;
use burn_finetune::backend::BackendKind;
use burn_finetune::data::PixelLayout;
use burn_finetune::model::Unfreeze;
use burn_finetune::native::native_device;
use burn_finetune::task::{AudioClips, AudioFineTuner, AudioTask, ImageBatch, Task};
use burn_finetune::train::probe::{ProbeStep, compare};
use burn_finetune::train::{CollectEvents, TrainOptions};
use burn_finetune::task::FineTuner;
use burn_finetune::{ImageFineTuner, TextFineTuner};
use futures_lite::future::block_on;

/// Largest relative difference of a loss or a gradient (norm or projection) allowed between the
/// backends at the first step, from the same weights: f32 on both, sums in other orders (measured:
/// ≤ 6.4e-5; GELU's tanh-form gradient on the GPU was 2.1e-3 off).
const TOLERANCE: f32 = 1e-3;
/// The same after optimiser steps, which amplify rounding: AdamW's first steps move each weight by
/// about ± its learning rate whatever its gradient's size, so a near-zero gradient whose sign the
/// backends round apart moves a weight both ways (measured: ≤ 9.7e-4 by step 3).
const LATER_TOLERANCE: f32 = 5e-3;
const STEPS: usize = 3;
/// Examples (batches of 1) of the probe without updates.
const BATCHES: usize = 12;

fn texts(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| w.to_string()).collect()
}

const REVIEWS: [&str; 12] = [
    "great film, I loved it", "wonderful acting from everyone", "a joy from start to end", "brilliant and moving",
    "a delight", "the best this year", "awful film", "a boring plot that goes nowhere", "hated it", "a mess",
    "dull and slow", "a waste of time and money",
];

fn text_tuner(device: Device) -> TextFineTuner {
    let mut tuner = TextFineTuner::new(common::text_task(), device);
    tuner.reset(texts(&["neg", "pos"]), common::prep(Unfreeze::Blocks(2), 32)).unwrap();
    let examples = texts(&REVIEWS);
    let labels: Vec<usize> = (0..12).map(|i| usize::from(i < 6)).collect();
    block_on(tuner.add(&examples, &labels, false)).unwrap();
    tuner
}

fn image_tuner(device: Device) -> ImageFineTuner {
    // Seeded noise around a dark or a light mean: every pixel differs, the classes are learnable.
    let mut state = 7u32;
    let pixels: Vec<u8> = (0..12 * 224 * 224 * 3)
        .map(|i| {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let base = if i / (224 * 224 * 3) % 2 == 0 { 60 } else { 170 };
            (base + (state >> 26) as i32) as u8
        })
        .collect();
    let labels: Vec<usize> = (0..12).map(|i| i % 2).collect();
    let mut tuner = ImageFineTuner::new(common::image_task(), device);
    tuner.reset(texts(&["dark", "light"]), common::prep(Unfreeze::Blocks(2), 128)).unwrap();
    block_on(tuner.add(ImageBatch { pixels: &pixels, layout: PixelLayout::Rgb, count: 12 }, &labels, false)).unwrap();
    tuner
}

fn audio_tuner(device: Device) -> AudioFineTuner {
    // One-second tones, low or high, with seeded noise.
    let mut state = 11u32;
    let clips: Vec<Vec<f32>> = (0..12)
        .map(|i| {
            let hz = if i % 2 == 0 { 220.0 } else { 880.0 } * (1.0 + i as f32 / 50.0);
            (0..16_000)
                .map(|t| {
                    state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                    0.3 * (t as f32 * hz * std::f32::consts::TAU / 16_000.0).sin() + 0.02 * ((state >> 8) as f32 / 16_777_216.0 - 0.5)
                })
                .collect()
        })
        .collect();
    let lengths: Vec<usize> = clips.iter().map(Vec::len).collect();
    let audio: Vec<f32> = clips.concat();
    let (weights, _, _) = common::whisper();
    let mut tuner = AudioFineTuner::new(AudioTask::new(weights), device);
    tuner.reset(texts(&["high", "low"]), common::prep(Unfreeze::Blocks(2), 128)).unwrap();
    let labels: Vec<usize> = (0..12).map(|i| usize::from(i % 2 == 0)).collect();
    block_on(tuner.add(AudioClips { audio: &audio, lengths: &lengths }, &labels, false)).unwrap();
    tuner
}

fn probe_options(dropout: f64, batch_size: usize) -> TrainOptions {
    TrainOptions { batch_size, learning_rate: 3e-3, backbone_learning_rate: 3e-4, dropout, ..TrainOptions::default() }
}

/// [`STEPS`] training steps of batch 4.
fn probe<T: Task>(tuner: &FineTuner<T>, dropout: f64) -> Vec<ProbeStep> {
    block_on(tuner.probe_gradients(STEPS, true, &probe_options(dropout, 4))).unwrap()
}

/// The gradients of each of the [`BATCHES`] examples at the model's weights.
fn batch_gradients<T: Task>(tuner: &FineTuner<T>) -> Vec<ProbeStep> {
    block_on(tuner.probe_gradients(BATCHES, false, &probe_options(0.0, 1))).unwrap()
}

/// Where a model's gradients may jump between backends (ReLU6's kinks), or not.
#[derive(Clone, Copy, PartialEq)]
enum Gradient {
    Smooth,
    Kinked,
}

/// The Vulkan device, or `None` (with a message) where there is none and none is required.
fn vulkan() -> Option<Device> {
    match native_device(BackendKind::Webgpu) {
        Ok(device) => Some(device),
        Err(e) if std::env::var("FINETUNE_VULKAN").as_deref() != Ok("1") => {
            println!("SKIPPED the wgpu half: {e} (install mesa-vulkan-drivers, or set FINETUNE_VULKAN=1 to require it)");
            None
        }
        Err(e) => panic!("FINETUNE_VULKAN=1 but {e}"),
    }
}

/// Trains on the CPU, then probes there and, with the same model imported, on wgpu.
fn cpu_against_wgpu<T: Task>(what: &str, make: impl Fn(Device) -> FineTuner<T>, gradient: Gradient) {
    let mut cpu = make(Device::flex());
    block_on(cpu.train(&TrainOptions { epochs: 1, batch_size: 4, ..T::train_defaults() }, &mut CollectEvents::default())).unwrap();
    let reference = probe(&cpu, 0.0);
    // The comparison sees what it must: the CPU against itself is exact, and dropout (other
    // masks) is far outside the tolerance.
    assert_eq!(compare(&reference, &probe(&cpu, 0.0)).unwrap().gradient, 0.0, "{what}: the CPU probe repeats exactly");
    let dropped = compare(&reference, &probe(&cpu, 0.3)).unwrap();
    assert!(dropped.gradient > 100.0 * TOLERANCE, "{what}: dropout 0.3 should change the gradients: {dropped:?}");
    assert!(reference.iter().all(|s| s.loss.is_finite() && s.gradients.iter().all(|g| g.norm.is_finite() && g.norm > 0.0)), "{what}: {reference:?}");
    let Some(device) = vulkan() else { return };
    let bytes = block_on(cpu.export_model()).unwrap();
    let mut gpu = make(device);
    gpu.import_model(&bytes).unwrap();
    let on_gpu = probe(&gpu, 0.0);
    let batches = compare(&batch_gradients(&cpu), &batch_gradients(&gpu)).unwrap();
    println!(
        "{what}: gradients of {BATCHES} examples at the same weights, CPU against wgpu: lower quartile over the examples {:.1e} ({}), largest {:.1e} ({})",
        batches.quartile_gradient, batches.quartile_worst, batches.gradient, batches.worst
    );
    assert!(batches.quartile_gradient <= TOLERANCE, "{what}, batches: {batches:?}");
    for step in 0..STEPS {
        let d = compare(&reference[step..=step], &on_gpu[step..=step]).unwrap();
        let worst = d.worst.split_once(", ").map_or(d.worst.as_str(), |(_, path)| path);
        println!("{what}: step {}: loss {:.1e}, gradient {:.1e} ({worst})", step + 1, d.loss, d.gradient);
    }
    let first = compare(&reference[..1], &on_gpu[..1]).unwrap();
    let d = compare(&reference, &on_gpu).unwrap();
    println!(
        "{what}: {} gradients over {STEPS} steps, CPU against wgpu: largest relative difference loss {:.1e}, gradient {:.1e} ({})",
        d.compared, d.loss, d.gradient, d.worst
    );
    assert!(first.loss <= TOLERANCE && d.loss <= LATER_TOLERANCE, "{what}, losses: {d:?}");
    if gradient == Gradient::Smooth {
        assert!(batches.gradient <= TOLERANCE, "{what}, batches: {batches:?}");
        assert!(first.gradient <= TOLERANCE && d.gradient <= LATER_TOLERANCE, "{what}: {d:?}");
    }
}

#[test]
fn text_two_layers_train_the_same_on_wgpu_as_on_the_cpu() {
    cpu_against_wgpu("text, 2 layers", text_tuner, Gradient::Smooth);
}

#[test]
fn sounds_two_encoder_layers_train_the_same_on_wgpu_as_on_the_cpu() {
    cpu_against_wgpu("sounds, 2 encoder layers", audio_tuner, Gradient::Smooth);
}

#[test]
fn image_two_blocks_train_the_same_on_wgpu_as_on_the_cpu() {
    cpu_against_wgpu("image, 2 blocks", image_tuner, Gradient::Kinked);
}

/// The model's weights, each scaled by its own `1 + ε·r` (`r` uniform in [−1, 1), seeded).
fn nudged(bytes: &[u8], seed: u64, epsilon: f32) -> Vec<u8> {
    use safetensors::{Dtype, SafeTensors, tensor::TensorView};
    let (_, metadata) = SafeTensors::read_metadata(bytes).unwrap();
    let file = SafeTensors::deserialize(bytes).unwrap();
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut names = file.names();
    names.sort();
    let tensors: Vec<(String, Dtype, Vec<usize>, Vec<u8>)> = names
        .into_iter()
        .map(|name| {
            let t = file.tensor(name).unwrap();
            let mut data = t.data().to_vec();
            if t.dtype() == Dtype::F32 {
                for v in data.chunks_exact_mut(4) {
                    (state ^= state << 13, state ^= state >> 7, state ^= state << 17);
                    let r = (state >> 40) as f32 / (1u64 << 23) as f32 - 1.0;
                    let x = f32::from_le_bytes(v.try_into().unwrap()) * (1.0 + epsilon * r);
                    v.copy_from_slice(&x.to_le_bytes());
                }
            }
            (name.to_string(), t.dtype(), t.shape().to_vec(), data)
        })
        .collect();
    let views = tensors.iter().map(|(n, d, s, b)| (n.clone(), TensorView::new(*d, s.clone(), b).unwrap()));
    safetensors::serialize(views, metadata.metadata().clone()).unwrap()
}

/// How far the CPU's gradients move when its weights change by about rounding (ε = 1e-7, 1e-6
/// relative; 20 seeds): a measurement for docs/benchmarks.md, not a check. Run it with
/// `cargo test --release --test gradient_parity -- --ignored --nocapture`.
#[test]
#[ignore]
fn measure_the_cpus_own_sensitivity() {
    fn measure<T: Task>(what: &str, make: impl Fn(Device) -> FineTuner<T>) {
        let mut cpu = make(Device::flex());
        block_on(cpu.train(&TrainOptions { epochs: 1, batch_size: 4, ..T::train_defaults() }, &mut CollectEvents::default())).unwrap();
        let bytes = block_on(cpu.export_model()).unwrap();
        let (reference, batches) = (probe(&cpu, 0.0), batch_gradients(&cpu));
        for epsilon in [1e-7, 1e-6] {
            let (mut first, mut steps, mut largest, mut quartile, mut jumped) = (0f32, 0f32, 0f32, 0f32, 0);
            for seed in 1..=20 {
                let mut nudged_cpu = make(Device::flex());
                nudged_cpu.import_model(&nudged(&bytes, seed, epsilon)).unwrap();
                let steps_nudged = probe(&nudged_cpu, 0.0);
                let d = compare(&reference, &steps_nudged).unwrap();
                first = first.max(compare(&reference[..1], &steps_nudged[..1]).unwrap().gradient);
                steps = steps.max(d.gradient);
                let b = compare(&batches, &batch_gradients(&nudged_cpu)).unwrap();
                (largest, quartile) = (largest.max(b.gradient), quartile.max(b.quartile_gradient));
                jumped += usize::from(b.gradient > TOLERANCE);
            }
            println!(
                "{what}, weights × (1 ± {epsilon:.0e}), 20 seeds: training steps: first {first:.1e}, all {steps:.1e}; {BATCHES} examples at the same weights: largest {largest:.1e} ({jumped} of 20 seeds above {TOLERANCE:.0e}), lower quartile {quartile:.1e}"
            );
        }
    }
    measure("text, 2 layers", text_tuner);
    measure("image, 2 blocks", image_tuner);
}

//! Model import for each task (image, text, sounds, speech): whatever the bytes, a model file is
//! refused with a reason or imported — never a panic, never a head built from unchecked sizes —
//! and a refused file leaves the fine-tuner as it was. The pretrained weights are read once from
//! `assets/` (scripts/setup.sh), as the fine-tuners need them.
#![no_main]

use std::cell::RefCell;

use burn::tensor::Device;
use burn_finetune::data::{TextTokenizer, TranscriptTokenizer};
use burn_finetune::model::whisper::{Suppression, WhisperWeights};
use burn_finetune::model::{EfficientNetWeights, MiniLmWeights};
use burn_finetune::task::model_file::read_info;
use burn_finetune::task::{AudioFineTuner, AudioTask, ImageFineTuner, ImageTask, SpeechFineTuner, SpeechTask, TextFineTuner, TextTask};
use libfuzzer_sys::fuzz_target;

fn read(path: &str) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e} (run from the repository root after scripts/setup.sh)"))
}

struct Tuners {
    image: ImageFineTuner,
    text: TextFineTuner,
    audio: AudioFineTuner,
    speech: SpeechFineTuner,
}

thread_local! {
    static TUNERS: RefCell<Tuners> = RefCell::new({
        let whisper = || WhisperWeights::from_bytes("model.safetensors", &read("assets/whisper-tiny-en/model.safetensors")).unwrap();
        let image = ImageTask { weights: EfficientNetWeights::from_bytes("efficientnet", &read("assets/efficientnet-lite0.safetensors")).unwrap() };
        let text = TextTask::new(
            MiniLmWeights::from_bytes("model.safetensors", &read("assets/minilm-l6/model.safetensors")).unwrap(),
            TextTokenizer::from_bytes(&read("assets/minilm-l6/tokenizer.json")).unwrap(),
        )
        .unwrap();
        let config = String::from_utf8(read("assets/whisper-tiny-en/config.json")).unwrap();
        let speech = SpeechTask::new(
            whisper(),
            TranscriptTokenizer::from_bytes(&read("assets/whisper-tiny-en/tokenizer.json")).unwrap(),
            Suppression::from_config(&config).unwrap(),
        );
        Tuners {
            image: ImageFineTuner::new(image, Device::flex()),
            text: TextFineTuner::new(text, Device::flex()),
            audio: AudioFineTuner::new(AudioTask::new(whisper()), Device::flex()),
            speech: SpeechFineTuner::new(speech, Device::flex()),
        }
    });
}

fuzz_target!(|data: &[u8]| {
    let _ = read_info(data);
    TUNERS.with(|t| {
        let mut t = t.borrow_mut();
        let _ = t.image.import_model(data);
        let _ = t.text.import_model(data);
        let _ = t.audio.import_model(data);
        let _ = t.speech.import_model(data);
    });
});

//! The score fine-tuning must beat: the pretrained transcriber on the validation clips, on 30-s
//! windows as it was trained (from the cache, or from the kept audio when the cache holds the
//! clips' own frames), computed once per clip.

use burn::tensor::activation::log_softmax;
use burn::tensor::{Int, Tensor, TensorData};

use super::{ENCODE_BATCH, SpeechFineTuner};
use crate::error::Error;
use crate::model::whisper::{GreedyDecoder, MAX_TRANSCRIPT_TOKENS};
use crate::task::read_f32;
use crate::train::{Baseline, TrainEvent, TrainHooks};

/// What the pretrained transcriber made of one clip (on its 30-s window).
#[derive(Clone, Debug)]
pub(super) struct ZeroShot {
    transcript: String,
    /// Teacher-forced cross-entropy summed over the clip's counted tokens.
    loss_sum: f32,
}


impl SpeechFineTuner {
    /// The pretrained transcriber (on 30-s windows, as it was trained) on the clips `indices`:
    /// what fine-tuning must beat. Each clip is transcribed once; later runs reuse it.
    pub(super) async fn zero_shot(&mut self, indices: &[usize], hooks: &mut impl TrainHooks) -> Result<Baseline, Error> {
        let todo: Vec<usize> = indices.iter().copied().filter(|&i| self.zero_shot[i].is_none()).collect();
        let mut done = Vec::new();
        {
            let decoder = GreedyDecoder {
                embedding: &self.embedding,
                layers: self.lower.iter().chain(&self.pretrained.0).collect(),
                norm: &self.pretrained.1,
                suppression: &self.task.suppression,
            };
            for chunk in todo.chunks(ENCODE_BATCH) {
                if hooks.cancelled() {
                    break;
                }
                // The cache holds the windows' encoder output, or the audio to compute it from.
                let encoded = if self.own_frames {
                    let audio: Vec<Vec<f32>> = chunk.iter().map(|&i| self.recordings[i].iter().map(|&v| v as f32 / 32767.0).collect()).collect();
                    self.encode_window(&audio.iter().map(Vec::as_slice).collect::<Vec<_>>())
                } else {
                    self.cache.audio(chunk, &self.device)
                };
                let transcripts: Vec<&[u32]> = chunk.iter().map(|&i| self.cache.transcript(i)).collect();
                let targets = self.cache.targets(chunk);
                let logits = decoder.logits(self.decoder_input(&transcripts), &encoded);
                let [batch, len, vocab] = logits.dims();
                let counted = targets.rows.len();
                let rows = Tensor::<1, Int>::from_data(TensorData::new(targets.rows, [counted]), &self.device);
                let wanted = Tensor::<2, Int>::from_data(TensorData::new(targets.targets, [counted, 1]), &self.device);
                let log_p = log_softmax(logits.reshape([batch * len, vocab]).select(0, rows), 1).gather(1, wanted);
                let log_p = read_f32(log_p.reshape([counted])).await?;
                let longest = transcripts.iter().map(|t| t.len()).max().unwrap_or(0);
                let ids = decoder.transcribe(&encoded, (longest * 2 + 10).min(MAX_TRANSCRIPT_TOKENS)).await?;
                let mut at = 0;
                for ((&i, t), ids) in chunk.iter().zip(&transcripts).zip(ids) {
                    let loss_sum = -log_p[at..at + t.len() + 1].iter().sum::<f32>();
                    at += t.len() + 1;
                    done.push((i, ZeroShot { transcript: self.task.tokenizer.decode(&ids).map_err(Error::Data)?, loss_sum }));
                }
                hooks.on_event(&TrainEvent::Baseline { done: done.len(), total: todo.len() });
                hooks.yield_now().await;
            }
        }
        for (i, z) in done {
            self.zero_shot[i] = Some(z);
        }
        let mut baseline = Baseline::default();
        for &i in indices {
            if let Some(z) = &self.zero_shot[i] {
                baseline.errors.add(&self.references[i], &z.transcript);
                baseline.loss_sum += z.loss_sum as f64;
                baseline.counted += self.cache.transcript(i).len() + 1;
            }
        }
        Ok(baseline)
    }
}

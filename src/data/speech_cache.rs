//! The speech task's feature cache: per clip, the frozen encoder's output (half precision: 1.1 MB
//! a clip instead of 2.3), the frozen decoder part's output on the clip's teacher-forced tokens,
//! and the tokens themselves.

use burn::tensor::{Device, Int, Tensor, TensorData};
use half::f16;

use crate::model::whisper::{AUDIO_POSITIONS, D, TranscriptBatch, tokens};
use crate::train::FeatureSource;

#[derive(Default)]
pub struct SpeechCache {
    /// `[clips · positions · d]`
    audio: Vec<f16>,
    /// Per clip `[len, d]`: the decoder input is the prompt and the transcript (`len` = its tokens + 2).
    hidden: Vec<Vec<f32>>,
    /// Per clip: the transcript's tokens (without prompt and end of text).
    transcripts: Vec<Vec<u32>>,
}

impl SpeechCache {
    /// Appends one clip: its encoder output (`[positions, d]`), the frozen decoder part's output on
    /// its decoder input (`[transcript tokens + 2, d]`) and its transcript tokens.
    pub fn push(&mut self, audio: &[f32], hidden: Vec<f32>, transcript: Vec<u32>) {
        assert_eq!(audio.len(), AUDIO_POSITIONS * D, "an encoder output is [positions, d]");
        assert_eq!(hidden.len(), (transcript.len() + tokens::PROMPT.len()) * D, "one hidden row per decoder input token");
        self.audio.extend(audio.iter().map(|&v| f16::from_f32(v)));
        self.hidden.push(hidden);
        self.transcripts.push(transcript);
    }

    /// The transcript tokens of clip `i`.
    pub fn transcript(&self, i: usize) -> &[u32] {
        &self.transcripts[i]
    }

    /// The encoder outputs of `indices`.
    ///
    /// # Shapes
    /// - output: `[indices, positions, d]`
    pub fn audio(&self, indices: &[usize], device: &Device) -> Tensor<3> {
        let per = AUDIO_POSITIONS * D;
        let values: Vec<f32> = indices.iter().flat_map(|&i| self.audio[i * per..(i + 1) * per].iter().map(|v| v.to_f32())).collect();
        Tensor::from_data(TensorData::new(values, [indices.len(), AUDIO_POSITIONS, D]), device)
    }
}

impl FeatureSource for SpeechCache {
    type Input = TranscriptBatch;

    fn len(&self) -> usize {
        self.transcripts.len()
    }

    fn bytes(&self) -> usize {
        self.audio.len() * 2 + self.hidden.iter().map(|h| h.len() * 4).sum::<usize>() + self.transcripts.iter().map(|t| t.len() * 4).sum::<usize>()
    }

    /// Decoder inputs `[prompt, t1 … tn]` padded to the batch's longest, with the targets
    /// `t1 … tn, end of text` of the positions from the prompt's last on.
    fn batch(&self, indices: &[usize], device: &Device) -> TranscriptBatch {
        let prompt = tokens::PROMPT.len();
        let len = indices.iter().map(|&i| self.transcripts[i].len() + prompt).max().unwrap_or(prompt);
        let mut hidden = vec![0.0f32; indices.len() * len * D];
        let (mut rows, mut targets) = (Vec::new(), Vec::new());
        for (b, &i) in indices.iter().enumerate() {
            let h = &self.hidden[i];
            hidden[b * len * D..b * len * D + h.len()].copy_from_slice(h);
            // Position p predicts the token after it: the prompt's last predicts t1, tn predicts end of text.
            for (k, &next) in self.transcripts[i].iter().chain(std::iter::once(&tokens::END_OF_TEXT)).enumerate() {
                rows.push((b * len + prompt - 1 + k) as i64);
                targets.push(next as i64);
            }
        }
        let counted = rows.len();
        TranscriptBatch {
            audio: self.audio(indices, device),
            hidden: Tensor::from_data(TensorData::new(hidden, [indices.len(), len, D]), device),
            rows: Tensor::<1, Int>::from_data(TensorData::new(rows, [counted]), device),
            targets: Tensor::<1, Int>::from_data(TensorData::new(targets, [counted]), device),
        }
    }
}

//! The speech task's feature cache: per clip, the frozen encoder's output on the clip's own
//! positions (half precision: 0.77 kB per position, 38 kB per second of audio), the frozen decoder
//! part's output on the clip's teacher-forced tokens, and the tokens themselves.

use burn::tensor::{Bool, Device, Int, Tensor, TensorData};
use half::f16;

use crate::model::whisper::{AUDIO_POSITIONS, D, EncodedAudio, TranscriptBatch, tokens};
use crate::train::FeatureSource;

#[derive(Default)]
pub struct SpeechCache {
    /// Clip after clip, `[positions, d]` each.
    audio: Vec<f16>,
    /// Where each clip's encoder output starts in `audio` (in positions), and its positions.
    spans: Vec<(usize, usize)>,
    /// Per clip `[len, d]`: the decoder input is the prompt and the transcript (`len` = its tokens + 2).
    hidden: Vec<Vec<f32>>,
    /// Per clip: the transcript's tokens (without prompt and end of text).
    transcripts: Vec<Vec<u32>>,
}

impl SpeechCache {
    /// Appends one clip: its encoder output (`[positions, d]`, at most 1 500 positions), the
    /// frozen decoder part's output on its decoder input (`[transcript tokens + 2, d]`) and its
    /// transcript tokens.
    pub fn push(&mut self, audio: &[f32], hidden: Vec<f32>, transcript: Vec<u32>) {
        let positions = audio.len() / D;
        assert!(audio.len() == positions * D && (1..=AUDIO_POSITIONS).contains(&positions), "an encoder output is [positions, d]");
        self.spans.push((self.audio.len() / D, positions));
        assert_eq!(hidden.len(), (transcript.len() + tokens::PROMPT.len()) * D, "one hidden row per decoder input token");
        self.audio.extend(audio.iter().map(|&v| f16::from_f32(v)));
        self.hidden.push(hidden);
        self.transcripts.push(transcript);
    }

    /// The transcript tokens of clip `i`.
    pub fn transcript(&self, i: usize) -> &[u32] {
        &self.transcripts[i]
    }

    /// The encoder outputs of `indices`, padded to the longest (masked when their lengths differ).
    ///
    /// # Shapes
    /// - output: states `[indices, longest, d]`, pad `[indices, longest]`
    pub fn audio(&self, indices: &[usize], device: &Device) -> EncodedAudio {
        let longest = indices.iter().map(|&i| self.spans[i].1).max().unwrap_or(1);
        let mut values = vec![0.0f32; indices.len() * longest * D];
        for (b, &i) in indices.iter().enumerate() {
            let (start, positions) = self.spans[i];
            let out = &mut values[b * longest * D..(b * longest + positions) * D];
            for (o, v) in out.iter_mut().zip(&self.audio[start * D..(start + positions) * D]) {
                *o = v.to_f32();
            }
        }
        let states = Tensor::from_data(TensorData::new(values, [indices.len(), longest, D]), device);
        let pad = indices.iter().any(|&i| self.spans[i].1 != longest).then(|| {
            let mask: Vec<bool> = indices.iter().flat_map(|&i| (0..longest).map(move |p| p >= self.spans[i].1)).collect();
            Tensor::<2, Bool>::from_data(TensorData::new(mask, [indices.len(), longest]), device)
        });
        EncodedAudio { states, pad }
    }

    /// The encoder positions cached for clip `i`.
    pub fn positions(&self, i: usize) -> usize {
        self.spans[i].1
    }
}

impl FeatureSource for SpeechCache {
    type Input = TranscriptBatch;

    fn len(&self) -> usize {
        self.transcripts.len()
    }

    fn bytes(&self) -> usize {
        self.audio.len() * 2 + self.spans.len() * 16 + self.hidden.iter().map(|h| h.len() * 4).sum::<usize>() + self.transcripts.iter().map(|t| t.len() * 4).sum::<usize>()
    }

    /// Decoder inputs `[prompt, t1 … tn]` padded to the batch's longest, with the targets
    /// `t1 … tn, end of text` of the positions from the prompt's last on.
    fn batch(&self, indices: &[usize], device: &Device) -> TranscriptBatch {
        let Targets { len, rows, targets } = self.targets(indices);
        let mut hidden = vec![0.0f32; indices.len() * len * D];
        for (b, &i) in indices.iter().enumerate() {
            let h = &self.hidden[i];
            hidden[b * len * D..b * len * D + h.len()].copy_from_slice(h);
        }
        let counted = rows.len();
        TranscriptBatch {
            audio: self.audio(indices, device),
            hidden: Tensor::from_data(TensorData::new(hidden, [indices.len(), len, D]), device),
            rows: Tensor::<1, Int>::from_data(TensorData::new(rows, [counted]), device),
            targets: Tensor::<1, Int>::from_data(TensorData::new(targets, [counted]), device),
        }
    }

    fn truncate(&mut self, len: usize) {
        self.spans.truncate(len);
        self.audio.truncate(self.spans.last().map_or(0, |&(start, positions)| (start + positions) * D));
        self.hidden.truncate(len);
        self.transcripts.truncate(len);
    }
}

/// The positions of a batch whose next-token prediction counts, and those tokens.
pub struct Targets {
    /// The decoder input's length: the prompt and the batch's longest transcript.
    pub len: usize,
    /// Indices into `batch · len`, clip after clip.
    pub rows: Vec<i64>,
    pub targets: Vec<i64>,
}

impl SpeechCache {
    /// The teacher-forced targets of the clips `indices` (each clip's transcript tokens and the
    /// end of text, predicted from the prompt's last position on).
    pub fn targets(&self, indices: &[usize]) -> Targets {
        let prompt = tokens::PROMPT.len();
        let len = indices.iter().map(|&i| self.transcripts[i].len() + prompt).max().unwrap_or(prompt);
        let (mut rows, mut targets) = (Vec::new(), Vec::new());
        for (b, &i) in indices.iter().enumerate() {
            // Position p predicts the token after it: the prompt's last predicts t1, tn predicts end of text.
            for (k, &next) in self.transcripts[i].iter().chain(std::iter::once(&tokens::END_OF_TEXT)).enumerate() {
                rows.push((b * len + prompt - 1 + k) as i64);
                targets.push(next as i64);
            }
        }
        Targets { len, rows, targets }
    }
}

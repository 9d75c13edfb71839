//! The MiniLM-L6 port and tokenizer against references (tests/reference/minilm_reference.py →
//! tests/fixtures/minilm_reference.json): Hugging Face `tokenizers` for token ids, an independent
//! NumPy float64 BERT for sentence embeddings.

mod common;

use burn::tensor::{Bool, Device, Int, Tensor, TensorData};
use burn_finetune::model::Unfreeze;
use burn_finetune::model::minilm::MiniLmWeights;
use serde_json::Value;

fn reference() -> Value {
    serde_json::from_str(&std::fs::read_to_string(common::repo().join("tests/fixtures/minilm_reference.json")).unwrap()).unwrap()
}

fn ids_of(v: &Value) -> Vec<u32> {
    v.as_array().unwrap().iter().map(|x| x.as_u64().unwrap() as u32).collect()
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
    dot / (norm(a) * norm(b))
}

/// L2-normalised mean-pooled embeddings of `texts`, padded into one batch.
fn embed(weights: &MiniLmWeights, ids: &[Vec<u32>], device: &Device) -> Vec<Vec<f32>> {
    let trunk = weights.trunk(Unfreeze::Head, device);
    let len = ids.iter().map(Vec::len).max().unwrap();
    let mut flat = vec![0i64; ids.len() * len];
    let mut pad = vec![true; ids.len() * len];
    for (b, seq) in ids.iter().enumerate() {
        for (t, &id) in seq.iter().enumerate() {
            flat[b * len + t] = id as i64;
            pad[b * len + t] = false;
        }
    }
    let ids_t = Tensor::<2, Int>::from_data(TensorData::new(flat, [ids.len(), len]), device);
    let mask = Tensor::<2, Bool>::from_data(TensorData::new(pad, [ids.len(), len]), device);
    let pooled: Vec<f32> = trunk.forward(ids_t, mask).into_data().try_to_vec().unwrap();
    pooled
        .chunks_exact(384)
        .map(|v| {
            let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
            v.iter().map(|x| x / n).collect()
        })
        .collect()
}

#[test]
fn token_ids_match_the_reference_tokenizer() {
    let (_, tokenizer) = common::minilm();
    for case in reference()["tokens"].as_array().unwrap() {
        let text = case["text"].as_str().unwrap();
        let max_length = case["max_length"].as_u64().unwrap() as usize;
        let got = tokenizer.encode(text, max_length).unwrap();
        assert_eq!(got.ids, ids_of(&case["ids"]), "token ids of {text:?}");
    }
    let long = "word ".repeat(20_000) + &"x".repeat(100_000);
    let e = tokenizer.encode(&long, 128).unwrap();
    assert!(e.truncated && e.ids.len() == 128 && e.ids[0] == 101 && e.ids[127] == 102);
    assert!(!tokenizer.encode("short", 128).unwrap().truncated);
}

#[test]
fn sentence_embeddings_match_the_reference() {
    let device = Device::flex();
    let (weights, tokenizer) = common::minilm();
    let reference = reference();
    let cases = reference["embeddings"].as_array().unwrap();
    let ids: Vec<Vec<u32>> = cases.iter().map(|c| ids_of(&c["ids"])).collect();
    for (c, seq) in cases.iter().zip(&ids) {
        assert_eq!(&tokenizer.encode(c["text"].as_str().unwrap(), 128).unwrap().ids, seq);
    }
    // One padded batch (exercises the attention mask) and each sentence alone must agree.
    let batched = embed(&weights, &ids, &device);
    for (i, c) in cases.iter().enumerate() {
        let want: Vec<f32> = c["embedding"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap() as f32).collect();
        let alone = &embed(&weights, &ids[i..=i], &device)[0];
        let (cos_batch, cos_alone) = (cosine(&batched[i], &want), cosine(alone, &want));
        println!("{:?}: cosine {cos_batch:.7} (batched), {cos_alone:.7} (alone)", c["text"].as_str().unwrap());
        assert!(cos_batch >= 0.9999 && cos_alone >= 0.9999, "embedding {i} differs: {cos_batch} / {cos_alone}");
    }
    let cosines = reference["cosines"].as_array().unwrap();
    for i in 0..cases.len() {
        for j in 0..cases.len() {
            let want = cosines[i][j].as_f64().unwrap() as f32;
            let got = cosine(&batched[i], &batched[j]);
            assert!((got - want).abs() < 1e-3, "cosine({i},{j}) = {got}, reference {want}");
        }
    }
    let (paraphrase, unrelated) = (cosine(&batched[0], &batched[1]), cosine(&batched[0], &batched[2]));
    println!("paraphrase cosine {paraphrase:.4}, unrelated {unrelated:.4}");
    assert!(paraphrase > 0.6 && unrelated.abs() < 0.2);
}

/// Another model's tokenizer (Whisper's: 50 363 tokens) on MiniLM's 30 522-row embedding is
/// refused when the task is made (its ids would index past the embedding); a max length that
/// would underflow the cut is refused by the tokenizer itself, not a panic.
#[test]
fn a_tokenizer_that_does_not_fit_the_embedding_is_refused() {
    let (weights, tokenizer) = common::minilm();
    assert_eq!(tokenizer.vocab_size(), 30_522);
    let whisper = burn_finetune::data::TextTokenizer::from_bytes(&std::fs::read(common::repo().join("assets/whisper-tiny-en/tokenizer.json")).unwrap()).unwrap();
    let e = burn_finetune::task::TextTask::new(weights, whisper).err().unwrap().to_string();
    assert!(e.contains("the tokenizer has 50363 tokens but the model's embedding 30522 rows"), "{e}");
    for bad in [0, 1, 7, 513] {
        let e = tokenizer.encode("a text", bad).unwrap_err();
        assert!(e.contains("between 8 and 512"), "{bad}: {e}");
    }
}

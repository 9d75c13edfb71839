//! Word error rate: word-level edit distance (substitutions, insertions, deletions) over the
//! reference's word count, after lower-casing and removing punctuation ("Call-Forward." and
//! "call forward" are the same two words; "I'm" is "im").

/// The words of `text` as WER compares them.
pub fn words(text: &str) -> Vec<String> {
    text.chars()
        .filter(|c| *c != '\'' && *c != '’')
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .collect::<String>()
        .to_lowercase()
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

/// Word edits needed to turn `hypothesis` into `reference`.
pub fn word_edits(reference: &[String], hypothesis: &[String]) -> usize {
    let mut row: Vec<usize> = (0..=hypothesis.len()).collect();
    for (i, r) in reference.iter().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, h) in hypothesis.iter().enumerate() {
            let substitute = diagonal + usize::from(r != h);
            diagonal = row[j + 1];
            row[j + 1] = substitute.min(row[j] + 1).min(row[j + 1] + 1);
        }
    }
    row[hypothesis.len()]
}

/// Corpus WER accumulated over pairs (edits summed over reference words summed).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct WordErrors {
    pub edits: usize,
    pub words: usize,
}

impl WordErrors {
    pub fn add(&mut self, reference: &str, hypothesis: &str) {
        let (r, h) = (words(reference), words(hypothesis));
        self.edits += word_edits(&r, &h);
        self.words += r.len();
    }

    /// The rate (0 with no reference words).
    pub fn rate(&self) -> f32 {
        if self.words == 0 { 0.0 } else { self.edits as f32 / self.words as f32 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn punctuation_and_case_do_not_count() {
        assert_eq!(words("Call-Forward on No Answer."), ["call", "forward", "on", "no", "answer"]);
        let mut e = WordErrors::default();
        e.add("Press 1 to call this number.", "press 1, to call this number");
        assert_eq!(e, WordErrors { edits: 0, words: 6 });
    }

    #[test]
    fn substitutions_insertions_and_deletions_count_once_each() {
        let mut e = WordErrors::default();
        e.add("press one to call", "press 1 to call now"); // one substitution, one insertion
        e.add("the pound key", "pound key"); // one deletion
        assert_eq!(e, WordErrors { edits: 3, words: 7 });
        assert!((e.rate() - 3.0 / 7.0).abs() < 1e-6);
        assert_eq!(WordErrors::default().rate(), 0.0);
    }
}

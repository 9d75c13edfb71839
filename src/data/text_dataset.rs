//! From a [`Table`] to labelled texts: which column holds the text and which the label (guessed
//! from the header, changeable by the user), with every unusable row counted or listed.

use serde::Serialize;

use super::table::{SkippedRow, Table};

/// Header names (lower case) that mean "the text".
const TEXT_NAMES: &[&str] = &[
    "text", "sentence", "review", "content", "body", "comment", "message", "document", "tweet",
    "snippet", "utterance", "query", "question", "description", "review_text", "sentence1", "input",
];
/// Header names (lower case) that mean "the label".
const LABEL_NAMES: &[&str] = &[
    "label", "labels", "class", "category", "sentiment", "target", "polarity", "intent", "tag",
    "y", "output", "topic",
];

/// The guessed columns and, when a guess fails, why.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ColumnGuess {
    pub text: Option<usize>,
    pub label: Option<usize>,
    /// A message for the user when the header looks wrong or a column could not be found.
    pub problem: Option<String>,
}

/// Labelled texts ready to tokenize.
#[derive(Clone, Debug, Default)]
pub struct TextDataset {
    pub texts: Vec<String>,
    /// Index into `classes` per text.
    pub labels: Vec<usize>,
    /// Class names, sorted.
    pub classes: Vec<String>,
    /// Rows whose text is empty or only whitespace (skipped).
    pub empty_texts: usize,
    /// Rows skipped while parsing and here (missing text or label), with line numbers.
    pub skipped: Vec<SkippedRow>,
}

impl TextDataset {
    /// Keeps the first `n` texts of each class (file order); 0 keeps everything.
    pub fn limit_per_class(&mut self, n: usize) {
        if n == 0 {
            return;
        }
        let mut seen = vec![0; self.classes.len()];
        let keep: Vec<bool> = self.labels.iter().map(|&l| { seen[l] += 1; seen[l] <= n }).collect();
        let (mut k1, mut k2) = (keep.iter(), keep.iter());
        self.texts.retain(|_| *k1.next().unwrap());
        self.labels.retain(|_| *k2.next().unwrap());
    }

    /// Texts per class.
    pub fn counts(&self) -> Vec<usize> {
        super::class_counts(&self.labels, self.classes.len())
    }
}

fn find(columns: &[String], names: &[&str]) -> Option<usize> {
    let lower: Vec<String> = columns.iter().map(|c| c.trim().to_lowercase()).collect();
    names.iter().find_map(|n| lower.iter().position(|c| c == n))
}

/// A header cell that reads like data: a sentence or a long value.
fn looks_like_data(cell: &str) -> bool {
    cell.chars().count() > 40 || cell.split_whitespace().count() >= 4
}

/// Guesses the text and label columns from the header names, falling back to the data: the text
/// column has the longest values, the label column the fewest distinct ones.
pub fn guess_columns(table: &Table) -> ColumnGuess {
    let columns = &table.columns;
    if let Some(cell) = columns.iter().find(|c| looks_like_data(c)) {
        return ColumnGuess {
            problem: Some(format!(
                "The first line looks like data, not a header ('{}'): add a header line naming the \
                 columns, e.g. text,label.",
                cell.chars().take(60).collect::<String>()
            )),
            ..Default::default()
        };
    }
    let sample = &table.rows[..table.rows.len().min(2000)];
    let mean_len = |c: usize| {
        let total: usize = sample.iter().filter_map(|r| r.field(c)).map(|f| f.chars().count()).sum();
        total as f64 / sample.len().max(1) as f64
    };
    let distinct = |c: usize| {
        let mut values: Vec<&str> = sample.iter().filter_map(|r| r.field(c)).collect();
        values.sort_unstable();
        values.dedup();
        values.len()
    };
    let text = find(columns, TEXT_NAMES).or_else(|| {
        (0..columns.len()).filter(|&c| mean_len(c) >= 15.0).max_by(|&a, &b| mean_len(a).total_cmp(&mean_len(b)))
    });
    let label = find(columns, LABEL_NAMES).filter(|&l| Some(l) != text).or_else(|| {
        (0..columns.len())
            .filter(|&c| Some(c) != text && distinct(c) >= 2 && distinct(c) <= 100.min(sample.len() / 2 + 1))
            .min_by_key(|&c| distinct(c))
    });
    let problem = match (text, label) {
        (None, _) => Some(format!(
            "No text column found among {}: name it 'text' (or sentence, review, …) or choose it \
             (CLI: --text-column).",
            quote_list(columns)
        )),
        (_, None) => Some(format!(
            "No label column found among {}: name it 'label' (or class, category, …) or choose it \
             (CLI: --label-column).",
            quote_list(columns)
        )),
        _ => None,
    };
    ColumnGuess { text, label, problem }
}

fn quote_list(columns: &[String]) -> String {
    let names: Vec<String> = columns.iter().map(|c| format!("'{c}'")).collect();
    names.join(", ")
}

/// The labelled texts of `table` with the text in column `text` and the label in `label`.
/// Errors when the columns are not usable or fewer than two classes remain.
pub fn text_dataset(table: &Table, text: usize, label: usize) -> Result<TextDataset, String> {
    let n = table.columns.len();
    if text >= n || label >= n {
        return Err(format!("column {} does not exist: the file has {n} columns", text.max(label) + 1));
    }
    if text == label {
        return Err("the text and the label must be different columns".into());
    }
    let (text_name, label_name) = (&table.columns[text], &table.columns[label]);
    let mut out = TextDataset { skipped: table.skipped.clone(), ..Default::default() };
    let mut raw_labels: Vec<&str> = Vec::new();
    for row in &table.rows {
        let (t, l) = (row.field(text), row.field(label).map(str::trim));
        match (t, l) {
            (None, _) => out.skipped.push(SkippedRow { line: row.line, reason: format!("has no '{text_name}' field") }),
            (_, None) | (_, Some("")) => {
                out.skipped.push(SkippedRow { line: row.line, reason: format!("has no '{label_name}' value") })
            }
            (Some(t), _) if t.trim().is_empty() => out.empty_texts += 1,
            (Some(t), Some(l)) => {
                out.texts.push(t.to_string());
                raw_labels.push(l);
            }
        }
    }
    out.skipped.sort_by_key(|s| s.line);
    let mut names = raw_labels.clone();
    names.sort_unstable();
    names.dedup();
    if out.texts.is_empty() {
        return Err(format!("No usable rows: every row lacks a '{text_name}' text or a '{label_name}' label."));
    }
    if names.len() < 2 {
        return Err(format!(
            "The label column '{label_name}' has a single class ('{}'): fine-tuning needs at least 2.",
            names[0]
        ));
    }
    if names.len() > super::MAX_CLASSES {
        return Err(format!(
            "The label column '{label_name}' has {} different values: at most {} classes can be fine-tuned. Is it the label column?",
            names.len(),
            super::MAX_CLASSES
        ));
    }
    out.labels = raw_labels.iter().map(|l| names.binary_search(l).unwrap()).collect();
    out.classes = names.into_iter().map(String::from).collect();
    Ok(out)
}

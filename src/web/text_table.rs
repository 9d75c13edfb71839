//! `TextTable`: a CSV/TSV/JSON Lines file streamed in chunk by chunk, then turned into labelled
//! texts once the text and label columns are chosen.

use serde::Serialize;
use wasm_bindgen::prelude::*;

use super::{js_err, to_js};
use crate::data::{ColumnGuess, SkippedRow, Table, TableFormat, TableReader, TextDataset, guess_columns, text_dataset};

/// Skipped rows listed in full up to this many (the total is always given).
const LISTED: usize = 200;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TableSummary<'a> {
    format: TableFormat,
    columns: &'a [String],
    rows: usize,
    guess: ColumnGuess,
    skipped: &'a [SkippedRow],
    skipped_total: usize,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DatasetSummary<'a> {
    classes: &'a [String],
    counts: Vec<usize>,
    examples: usize,
    empty_texts: usize,
    skipped: &'a [SkippedRow],
    skipped_total: usize,
}

#[wasm_bindgen]
pub struct TextTable {
    reader: Option<TableReader>,
    table: Table,
    pub(crate) dataset: TextDataset,
}

#[wasm_bindgen]
impl TextTable {
    /// Starts reading a file: the format comes from its name, else from its first bytes.
    #[wasm_bindgen(constructor)]
    pub fn new(file_name: &str, first_chunk: &[u8]) -> TextTable {
        let format = TableFormat::from_name(file_name).unwrap_or_else(|| TableFormat::sniff(first_chunk));
        let mut reader = TableReader::new(format);
        reader.push(first_chunk);
        TextTable { reader: Some(reader), table: Table::default(), dataset: TextDataset::default() }
    }

    /// Texts and labels given directly (the npm package's `addExamples`): a finished two-column
    /// table (text = column 0, label = column 1); call `chooseColumns(0, 1, 0)` next.
    #[wasm_bindgen(js_name = fromExamples)]
    pub fn from_examples(texts: Vec<String>, labels: Vec<String>) -> Result<TextTable, JsValue> {
        if texts.len() != labels.len() {
            return Err(js_err(format!("{} texts but {} labels", texts.len(), labels.len())));
        }
        let table = Table::from_pairs(texts, labels);
        Ok(TextTable { reader: None, table, dataset: TextDataset::default() })
    }

    pub fn push(&mut self, chunk: &[u8]) -> Result<(), JsValue> {
        self.reader.as_mut().ok_or_else(|| js_err("the file was already read to its end"))?.push(chunk);
        Ok(())
    }

    #[wasm_bindgen(js_name = rowsRead)]
    pub fn rows_read(&self) -> usize {
        self.reader.as_ref().map_or(self.table.rows.len(), TableReader::rows_read)
    }

    /// Ends the file: `{format, columns, rows, guess: {text, label, problem}, skipped, skippedTotal}`.
    pub fn finish(&mut self) -> Result<JsValue, JsValue> {
        let reader = self.reader.take().ok_or_else(|| js_err("the file was already read to its end"))?;
        let format = reader.format();
        self.table = reader.finish().map_err(js_err)?;
        to_js(&TableSummary {
            format,
            columns: &self.table.columns,
            rows: self.table.rows.len(),
            guess: guess_columns(&self.table),
            skipped: &self.table.skipped[..self.table.skipped.len().min(LISTED)],
            skipped_total: self.table.skipped.len(),
        })
    }

    /// Builds the labelled texts from columns `text` and `label`, keeping at most `limit_per_class`
    /// texts per class (0: all): `{classes, counts, examples, emptyTexts, skipped, skippedTotal}`.
    #[wasm_bindgen(js_name = chooseColumns)]
    pub fn choose_columns(&mut self, text: usize, label: usize, limit_per_class: usize) -> Result<JsValue, JsValue> {
        self.dataset = TextDataset::default();
        let mut set = text_dataset(&self.table, text, label).map_err(js_err)?;
        set.limit_per_class(limit_per_class);
        self.dataset = set;
        let d = &self.dataset;
        to_js(&DatasetSummary {
            classes: &d.classes,
            counts: d.counts(),
            examples: d.texts.len(),
            empty_texts: d.empty_texts,
            skipped: &d.skipped[..d.skipped.len().min(LISTED)],
            skipped_total: d.skipped.len(),
        })
    }

    /// Class names of the chosen columns.
    pub fn classes(&self) -> Vec<String> {
        self.dataset.classes.clone()
    }

    /// Number of labelled texts of the chosen columns.
    pub fn examples(&self) -> usize {
        self.dataset.texts.len()
    }
}

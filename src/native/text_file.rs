//! A text data set on disk: a CSV, TSV or JSON Lines file, with the text and label columns named
//! by the user or guessed from the header.

use std::path::Path;

use crate::data::{Table, TableFormat, TextDataset, guess_columns, read_table, text_dataset};
use crate::error::Error;

/// Reads `path` (format from the extension, else sniffed) into a table.
pub fn read_text_file(path: &Path) -> Result<Table, Error> {
    let bytes = std::fs::read(path).map_err(|e| Error::Data(format!("cannot read {}: {e}", path.display())))?;
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let format = TableFormat::from_name(&name).unwrap_or_else(|| TableFormat::sniff(&bytes[..bytes.len().min(4096)]));
    read_table(&bytes, format).map_err(Error::Data)
}

/// The labelled texts of `table`, with columns named by the user (`Some`) or guessed.
pub fn dataset_from(table: &Table, text: Option<&str>, label: Option<&str>) -> Result<TextDataset, Error> {
    let guess = guess_columns(table);
    let pick = |name: Option<&str>, guessed: Option<usize>| match name {
        Some(n) => table.columns.iter().position(|c| c == n).map(Some).ok_or_else(|| {
            Error::Data(format!("no column named '{n}'; the columns are: {}", table.columns.join(", ")))
        }),
        None => Ok(guessed),
    };
    let (Some(text), Some(label)) = (pick(text, guess.text)?, pick(label, guess.label)?) else {
        return Err(Error::Data(guess.problem.unwrap_or_else(|| "cannot tell the text and label columns apart".into())));
    };
    text_dataset(table, text, label).map_err(Error::Data)
}

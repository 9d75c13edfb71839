//! A table of text rows read from CSV, TSV or JSON Lines, pushed in chunks (the browser worker
//! streams a file through it, so a 50 MB file never has to be one buffer).
//!
//! CSV/TSV go through `csv-core` (the csv crate's push parser): quoted fields with delimiters and
//! newlines, CRLF, a UTF-8 byte-order mark. The first record is the header. Rows that cannot be
//! used (wrong number of fields, bytes that are not UTF-8, a JSON line that is not an object) are
//! skipped and listed with their line numbers; nothing else is dropped.

use csv_core::{ReadRecordResult, Reader, ReaderBuilder};
use serde::Serialize;

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// The most columns a table has: a header with more is refused, a JSON line naming a key beyond
/// them is skipped (a file with a new key per line once grew every earlier row by one field per
/// line: 0.8 MB asked for tens of GB).
pub const MAX_COLUMNS: usize = 256;

/// How the bytes are laid out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TableFormat {
    Csv,
    Tsv,
    JsonLines,
}

impl TableFormat {
    /// From the file name's extension; `None` when it says nothing (then [`TableFormat::sniff`]).
    pub fn from_name(name: &str) -> Option<Self> {
        let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase())?;
        match ext.as_str() {
            "csv" => Some(Self::Csv),
            "tsv" | "tab" => Some(Self::Tsv),
            "jsonl" | "ndjson" => Some(Self::JsonLines),
            _ => None,
        }
    }

    /// From the first bytes: a `{` starts JSON Lines; a tab in the first line means TSV.
    pub fn sniff(head: &[u8]) -> Self {
        let head = head.strip_prefix(BOM).unwrap_or(head);
        let first_line = head.split(|&b| b == b'\n').next().unwrap_or(&[]);
        match head.iter().find(|b| !b.is_ascii_whitespace()) {
            Some(b'{') => Self::JsonLines,
            _ if first_line.contains(&b'\t') => Self::Tsv,
            _ => Self::Csv,
        }
    }
}

/// One data row; `fields[i]` belongs to `columns[i]` (`None`, or past the end: absent in that
/// JSON object — a row stops at the last column it names).
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub line: u64,
    pub fields: Vec<Option<String>>,
}

impl Row {
    /// The field of `column`, if the row has one.
    pub fn field(&self, column: usize) -> Option<&str> {
        self.fields.get(column).and_then(|f| f.as_deref())
    }
}

/// A row left out, and why.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SkippedRow {
    pub line: u64,
    pub reason: String,
}

#[derive(Clone, Debug, Default)]
pub struct Table {
    pub columns: Vec<String>,
    pub rows: Vec<Row>,
    pub skipped: Vec<SkippedRow>,
}

impl Table {
    /// Texts and their labels given directly (no file): columns `text` and `label`, the row number
    /// (from 1) standing in for the line.
    pub fn from_pairs(texts: Vec<String>, labels: Vec<String>) -> Table {
        let rows = texts
            .into_iter()
            .zip(labels)
            .enumerate()
            .map(|(i, (t, l))| Row { line: i as u64 + 1, fields: vec![Some(t), Some(l)] })
            .collect();
        Table { columns: vec!["text".into(), "label".into()], rows, skipped: Vec::new() }
    }
}

/// Builds a [`Table`] from chunks of bytes.
pub struct TableReader {
    format: TableFormat,
    table: Table,
    started: bool,
    /// Bytes held back: a possibly split BOM at the start, or a partial JSON line.
    pending: Vec<u8>,
    csv: Reader,
    out: Vec<u8>,
    ends: Vec<usize>,
    nout: usize,
    nend: usize,
    record_line: u64,
    /// The last record ended with `\r`: its `\n` (not yet consumed) belongs to the terminator.
    cr_pending: bool,
    has_header: bool,
    json_line: u64,
    bytes: u64,
    /// Why the file cannot be a table, once known (`finish` returns it).
    error: Option<String>,
}

impl TableReader {
    pub fn new(format: TableFormat) -> Self {
        let delimiter = if format == TableFormat::Tsv { b'\t' } else { b',' };
        Self {
            format,
            table: Table::default(),
            started: false,
            pending: Vec::new(),
            csv: ReaderBuilder::new().delimiter(delimiter).build(),
            out: vec![0; 4096],
            ends: vec![0; 64],
            nout: 0,
            nend: 0,
            record_line: 1,
            cr_pending: false,
            has_header: false,
            json_line: 0,
            bytes: 0,
            error: None,
        }
    }

    pub fn format(&self) -> TableFormat {
        self.format
    }

    /// Bytes pushed so far.
    pub fn bytes_read(&self) -> u64 {
        self.bytes
    }

    /// Data rows read so far.
    pub fn rows_read(&self) -> usize {
        self.table.rows.len()
    }

    /// Feeds the next chunk of the file.
    pub fn push(&mut self, chunk: &[u8]) {
        self.bytes += chunk.len() as u64;
        if !self.started {
            self.pending.extend_from_slice(chunk);
            // More than a BOM: csv-core reads an input left empty after it as the end.
            if self.pending.len() <= BOM.len() {
                return;
            }
            self.start();
        } else {
            self.feed(chunk);
        }
    }

    /// Feeds the bytes held until the file's first three were in, without one UTF-8 BOM: JSON
    /// Lines here; csv-core drops it itself when its first read holds it whole (which the holding
    /// ensures). Dropping it here too dropped a second one when the first read held both — only
    /// when the file came in one piece (found by the `table` fuzz target).
    fn start(&mut self) {
        self.started = true;
        let held = std::mem::take(&mut self.pending);
        match self.format {
            TableFormat::JsonLines => self.feed(held.strip_prefix(BOM).unwrap_or(&held)),
            _ => self.feed(&held),
        }
    }

    /// Ends the input and returns the table.
    pub fn finish(mut self) -> Result<Table, String> {
        if !self.started {
            self.start();
        }
        match self.format {
            TableFormat::JsonLines => {
                let rest = std::mem::take(&mut self.pending);
                self.json_record(&rest);
            }
            _ => self.csv_feed(&[]),
        }
        if let Some(error) = self.error {
            return Err(error);
        }
        if self.table.columns.is_empty() {
            return Err("The file is empty: expected a header line (e.g. text,label) and one row per example.".into());
        }
        Ok(self.table)
    }

    fn feed(&mut self, bytes: &[u8]) {
        match self.format {
            TableFormat::JsonLines => self.json_feed(bytes),
            _ if !bytes.is_empty() => self.csv_feed(bytes),
            _ => {}
        }
    }

    /// Parses CSV/TSV; an empty `input` means end of file.
    fn csv_feed(&mut self, mut input: &[u8]) {
        let at_end = input.is_empty();
        loop {
            if self.cr_pending && !input.is_empty() {
                // csv-core counts lines by `\n`; a CRLF's `\n` is read with the next record.
                self.record_line += u64::from(input[0] == b'\n');
                self.cr_pending = false;
            }
            let (result, nin, nout, nend) =
                self.csv.read_record(input, &mut self.out[self.nout..], &mut self.ends[self.nend..]);
            let last_byte = nin.checked_sub(1).map(|i| input[i]);
            input = &input[nin..];
            self.nout += nout;
            self.nend += nend;
            match result {
                ReadRecordResult::InputEmpty if !at_end => return,
                ReadRecordResult::InputEmpty => {}
                ReadRecordResult::OutputFull => self.out.resize(self.out.len() * 2, 0),
                ReadRecordResult::OutputEndsFull => self.ends.resize(self.ends.len() * 2, 0),
                ReadRecordResult::Record => {
                    self.csv_record();
                    self.nout = 0;
                    self.nend = 0;
                    self.record_line = self.csv.line();
                    self.cr_pending = last_byte == Some(b'\r');
                }
                ReadRecordResult::End => return,
            }
        }
    }

    fn csv_record(&mut self) {
        let line = self.record_line;
        let mut fields = Vec::with_capacity(self.nend);
        let mut start = 0;
        for &end in &self.ends[..self.nend] {
            match std::str::from_utf8(&self.out[start..end]) {
                Ok(s) => fields.push(s.to_string()),
                Err(e) => {
                    let byte = self.out[start + e.valid_up_to()];
                    let reason = format!("not valid UTF-8 (byte 0x{byte:02X}); save the file as UTF-8");
                    if self.has_header {
                        self.table.skipped.push(SkippedRow { line, reason });
                        return;
                    }
                    // A header that is not UTF-8: keep it readable, the columns are still usable.
                    fields.push(String::from_utf8_lossy(&self.out[start..end]).into_owned());
                }
            }
            start = end;
        }
        if !self.has_header {
            self.has_header = true;
            if fields.len() > MAX_COLUMNS {
                self.error = Some(format!(
                    "The header has {} columns; at most {MAX_COLUMNS} are read. Is this a table of texts and labels (and the right delimiter)?",
                    fields.len()
                ));
                return;
            }
            self.table.columns = fields.into_iter().map(|f| f.trim().to_string()).collect();
            return;
        }
        if self.error.is_some() {
            return;
        }
        let expected = self.table.columns.len();
        if fields.len() != expected {
            let hint = if fields.len() > expected { ": quote fields that contain the delimiter" } else { "" };
            self.table.skipped.push(SkippedRow {
                line,
                reason: format!("has {} field(s), the header has {expected}{hint}", fields.len()),
            });
            return;
        }
        self.table.rows.push(Row { line, fields: fields.into_iter().map(Some).collect() });
    }

    /// Whole lines are parsed as they arrive; a line's start is held until its end comes. Only
    /// the new bytes are searched for it (a long line over many chunks is read once, not once
    /// per chunk).
    fn json_feed(&mut self, bytes: &[u8]) {
        let Some(in_chunk) = bytes.iter().rposition(|&b| b == b'\n') else {
            self.pending.extend_from_slice(bytes);
            return;
        };
        let last_newline = self.pending.len() + in_chunk;
        self.pending.extend_from_slice(bytes);
        let rest = self.pending.split_off(last_newline + 1);
        let complete = std::mem::replace(&mut self.pending, rest);
        for line in complete[..last_newline].split(|&b| b == b'\n') {
            self.json_record(line);
        }
    }

    fn json_record(&mut self, raw: &[u8]) {
        self.json_line += 1;
        let line = self.json_line;
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        if raw.iter().all(u8::is_ascii_whitespace) {
            return;
        }
        let skip = |table: &mut Table, reason: String| table.skipped.push(SkippedRow { line, reason });
        if let Err(e) = std::str::from_utf8(raw) {
            let byte = raw[e.valid_up_to()];
            return skip(&mut self.table, format!("not valid UTF-8 (byte 0x{byte:02X}); save the file as UTF-8"));
        }
        let object = match serde_json::from_slice::<serde_json::Value>(raw) {
            Ok(serde_json::Value::Object(map)) => map,
            Ok(_) => return skip(&mut self.table, "is not a JSON object ({\"text\": ..., \"label\": ...})".into()),
            Err(e) => return skip(&mut self.table, format!("is not valid JSON ({e})")),
        };
        let mut fields = Vec::new();
        for (key, value) in object {
            let index = match self.table.columns.iter().position(|c| *c == key) {
                Some(i) => i,
                None if self.table.columns.len() >= MAX_COLUMNS => {
                    let reason = format!("names a key beyond the first {MAX_COLUMNS} of the file ('{}')", key.escape_debug());
                    return skip(&mut self.table, reason);
                }
                None => {
                    self.table.columns.push(key);
                    self.table.columns.len() - 1
                }
            };
            if fields.len() <= index {
                fields.resize(index + 1, None);
            }
            fields[index] = match value {
                serde_json::Value::Null => None,
                serde_json::Value::String(s) => Some(s),
                other => Some(other.to_string()),
            };
        }
        self.table.rows.push(Row { line, fields });
    }
}

/// Parses a whole file at once (CLI and tests).
pub fn read_table(bytes: &[u8], format: TableFormat) -> Result<Table, String> {
    let mut reader = TableReader::new(format);
    reader.push(bytes);
    reader.finish()
}

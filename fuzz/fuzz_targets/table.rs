//! The table parser (CSV, TSV, JSON Lines) fed in arbitrary chunkings: never a panic, and the
//! same table (columns, rows, skipped rows) as when the bytes come in one piece; then the column
//! guess and the labelled texts built from it.
#![no_main]

use burn_finetune::data::table::{TableFormat, TableReader, read_table};
use burn_finetune::data::text_dataset::{guess_columns, text_dataset};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&control, bytes)) = data.split_first() else { return };
    let format = [TableFormat::Csv, TableFormat::Tsv, TableFormat::JsonLines][control as usize % 3];
    let whole = read_table(bytes, format);
    let mut reader = TableReader::new(format);
    let (mut rest, mut size) = (bytes, (control as usize >> 2) + 1);
    while !rest.is_empty() {
        let n = size.min(rest.len());
        reader.push(&rest[..n]);
        rest = &rest[n..];
        size = size * 7 % 61 + 1;
    }
    let chunked = reader.finish();
    match (&whole, &chunked) {
        (Ok(a), Ok(b)) => {
            assert_eq!(a.columns, b.columns);
            assert_eq!(a.skipped, b.skipped);
            assert_eq!(a.rows.len(), b.rows.len());
            for (x, y) in a.rows.iter().zip(&b.rows) {
                assert_eq!((x.line, &x.fields), (y.line, &y.fields));
            }
        }
        (Err(a), Err(b)) => assert_eq!(a, b),
        _ => panic!("whole: {whole:?}\nchunked: {chunked:?}"),
    }
    if let Ok(table) = whole {
        let guess = guess_columns(&table);
        if let (Some(text), Some(label)) = (guess.text, guess.label) {
            let _ = text_dataset(&table, text, label);
        }
    }
});

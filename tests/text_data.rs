//! Reading texts and labels from CSV, TSV and JSON Lines: the edge cases users' files have, and
//! the messages for files that cannot be used.

use burn_finetune::data::{Table, TableFormat, TableReader, guess_columns, read_table, text_dataset};

fn csv(text: &str) -> Table {
    read_table(text.as_bytes(), TableFormat::Csv).unwrap()
}

fn dataset(table: &Table) -> burn_finetune::data::TextDataset {
    let g = guess_columns(table);
    assert_eq!(g.problem, None);
    text_dataset(table, g.text.unwrap(), g.label.unwrap()).unwrap()
}

#[test]
fn quoted_fields_bom_and_crlf() {
    let t = csv("\u{feff}id,text,label\r\n1,\"Great, really \"\"great\"\"\r\nfilm\",pos\r\n2,Dull,neg\r\n3,\"Fine\",pos");
    assert_eq!(t.columns, ["id", "text", "label"]);
    let d = dataset(&t);
    assert_eq!(d.texts, ["Great, really \"great\"\r\nfilm", "Dull", "Fine"]);
    assert_eq!(d.classes, ["neg", "pos"]);
    assert_eq!(d.labels, [1, 0, 1]);
    assert!(d.skipped.is_empty());
    let lines: Vec<u64> = t.rows.iter().map(|r| r.line).collect();
    assert_eq!(lines, [2, 4, 5], "line numbers with CRLF and a quoted line break");
    // The same with a chunk boundary between each CR and LF.
    let src = "text,label\r\na,x\r\nonly\r\nb,y\r\n";
    let mut r = TableReader::new(TableFormat::Csv);
    for piece in src.split_inclusive('\r') {
        r.push(piece.as_bytes());
    }
    let t = r.finish().unwrap();
    assert_eq!(t.rows.iter().map(|r| r.line).collect::<Vec<_>>(), [2, 4]);
    assert_eq!(t.skipped[0].line, 3);
}

#[test]
fn any_chunking_gives_the_same_table() {
    let text = "\u{feff}text,label\n\"a, b\nc\",x\n\"d\",y\nplain,x\n";
    let whole = csv(text);
    for size in 1..8 {
        let mut r = TableReader::new(TableFormat::Csv);
        text.as_bytes().chunks(size).for_each(|c| r.push(c));
        let t = r.finish().unwrap();
        assert_eq!((t.columns.clone(), t.rows.clone()), (whole.columns.clone(), whole.rows.clone()), "chunks of {size}");
    }
    assert_eq!(whole.rows[0].fields[0].as_deref(), Some("a, b\nc"));
    assert_eq!(whole.rows[1].line, 4, "line numbers count the quoted newline");
    // Found by the `table` fuzz target: a second BOM was dropped too when the file came in one
    // piece (the browser reads in chunks, the CLI at once). One BOM goes, whatever the chunks.
    for format in [TableFormat::Csv, TableFormat::JsonLines] {
        let text = match format {
            TableFormat::JsonLines => "\u{feff}\u{feff}{\"text\": \"a\", \"label\": \"x\"}\n",
            _ => "\u{feff}\u{feff}text,label\na,x\n",
        };
        let parts = |t: Result<_, String>| t.map(|t: burn_finetune::data::table::Table| (t.columns, t.rows, t.skipped));
        let whole = parts(read_table(text.as_bytes(), format));
        for size in 1..8 {
            let mut r = TableReader::new(format);
            text.as_bytes().chunks(size).for_each(|c| r.push(c));
            assert_eq!(parts(r.finish()), whole, "{format:?}, chunks of {size}");
        }
    }
    let t = read_table("\u{feff}\u{feff}text,label\na,x\n".as_bytes(), TableFormat::Csv).unwrap();
    assert_eq!(t.columns, ["\u{feff}text", "label"], "only the first BOM is the file's");
}

#[test]
fn tsv_and_format_detection() {
    assert_eq!(TableFormat::from_name("reviews.TSV"), Some(TableFormat::Tsv));
    assert_eq!(TableFormat::from_name("data.jsonl"), Some(TableFormat::JsonLines));
    assert_eq!(TableFormat::from_name("notes"), None);
    assert_eq!(TableFormat::sniff(b"\xEF\xBB\xBFsentence\tlabel\n"), TableFormat::Tsv);
    assert_eq!(TableFormat::sniff(b"  {\"text\": 1}"), TableFormat::JsonLines);
    let t = read_table(b"sentence\tsentiment\nit, was \"good\"\t1\nbad\t0\n", TableFormat::Tsv).unwrap();
    let d = dataset(&t);
    assert_eq!(d.texts, ["it, was \"good\"", "bad"]);
    assert_eq!(d.classes, ["0", "1"]);
}

#[test]
fn json_lines_with_mixed_types_and_bad_lines() {
    let src = "{\"text\": \"good\", \"label\": 1}\r\n\n{\"label\": \"neg\", \"text\": \"bad\", \"extra\": [1]}\nnot json\n[1,2]\n{\"text\": \"no label\"}\n{\"text\": \"last\", \"label\": true}";
    let t = read_table(src.as_bytes(), TableFormat::JsonLines).unwrap();
    assert_eq!(t.columns, ["label", "text", "extra"]);
    let d = text_dataset(&t, 1, 0).unwrap();
    assert_eq!(d.texts, ["good", "bad", "last"]);
    assert_eq!(d.classes, ["1", "neg", "true"]);
    let lines: Vec<u64> = d.skipped.iter().map(|s| s.line).collect();
    assert_eq!(lines, [4, 5, 6], "{:?}", d.skipped);
    assert!(d.skipped[0].reason.contains("not valid JSON"));
    assert!(d.skipped[1].reason.contains("not a JSON object"));
    assert!(d.skipped[2].reason.contains("no 'label' value"));
}

#[test]
fn empty_texts_are_counted_and_missing_fields_listed() {
    let t = csv("text,label\nok,a\n   ,b\n,a\nonly one field\ntoo,many,fields\nfine,b\nno label,\n");
    let d = dataset(&t);
    assert_eq!(d.texts, ["ok", "fine"]);
    assert_eq!(d.empty_texts, 2);
    let listed: Vec<(u64, &str)> = d.skipped.iter().map(|s| (s.line, s.reason.as_str())).collect();
    assert_eq!(listed.len(), 3, "{listed:?}");
    assert_eq!(listed[0].0, 5);
    assert!(listed[0].1.contains("has 1 field(s), the header has 2"));
    assert_eq!(listed[1].0, 6);
    assert!(listed[1].1.contains("quote fields"));
    assert_eq!(listed[2], (8, "has no 'label' value"));
}

#[test]
fn non_utf8_rows_are_reported_with_their_line() {
    let mut bytes = b"text,label\ngood,pos\ncaf".to_vec();
    bytes.extend([0xE9, b',', b'n', b'e', b'g', b'\n']);
    bytes.extend(b"bad,neg\n");
    let t = read_table(&bytes, TableFormat::Csv).unwrap();
    let d = dataset(&t);
    assert_eq!(d.texts, ["good", "bad"]);
    assert_eq!(d.skipped.len(), 1);
    assert_eq!(d.skipped[0].line, 3);
    assert!(d.skipped[0].reason.contains("not valid UTF-8 (byte 0xE9)"), "{}", d.skipped[0].reason);
}

#[test]
fn unusable_files_get_specific_messages() {
    // No header: the first line is a review.
    let g = guess_columns(&csv("This movie was a delight from start to finish,positive\nAwful,negative\n"));
    assert!(g.problem.unwrap().contains("looks like data, not a header"));
    // No text column by name or by content.
    let g = guess_columns(&csv("id,label\n1,a\n2,b\n3,a\n"));
    assert!(g.text.is_none() && g.problem.unwrap().contains("No text column"));
    // Unnamed columns are still found from their content.
    let t = csv("a,b\nthis one is a much longer piece of text,x\nand another long piece of text here,y\n");
    let g = guess_columns(&t);
    assert_eq!((g.text, g.label, g.problem), (Some(0), Some(1), None));
    // A single class.
    let e = text_dataset(&csv("text,label\na,pos\nb,pos\n"), 0, 1).unwrap_err();
    assert!(e.contains("single class ('pos')"), "{e}");
    // Empty file, header only.
    assert!(read_table(b"", TableFormat::Csv).unwrap_err().contains("empty"));
    let e = text_dataset(&csv("text,label\n"), 0, 1).unwrap_err();
    assert!(e.contains("No usable rows"), "{e}");
    assert!(text_dataset(&csv("text,label\na,b\n"), 0, 0).unwrap_err().contains("different columns"));
    // 20 000 labels × 2 rows (1.5 MB): refused in one pass, before anything is sized by classes.
    let many: String = (0..40_000).map(|i| format!("some text {i},label{}\n", i / 2)).collect();
    let e = text_dataset(&csv(&format!("text,label\n{many}")), 0, 1).unwrap_err();
    assert!(e.contains("'label' has 20000 different values: at most 1000 classes"), "{e}");
}

#[test]
fn a_very_long_text_is_kept_whole_in_the_table() {
    let long = "word ".repeat(20_000);
    let t = csv(&format!("text,label\n\"{long}\",a\nshort,b\n"));
    let d = dataset(&t);
    assert_eq!(d.texts[0].len(), 100_000);
}

#[test]
fn limit_per_class_keeps_the_first_texts_of_each_class() {
    let t = csv("text,label\na,x\nb,y\nc,x\nd,x\ne,y\n");
    let mut d = dataset(&t);
    d.limit_per_class(2);
    assert_eq!(d.texts, ["a", "b", "c", "e"]);
    assert_eq!(d.counts(), [2, 2]);
    d.limit_per_class(0);
    assert_eq!(d.texts.len(), 4);
}

#[test]
fn texts_given_directly_become_a_two_column_table() {
    let texts = ["great film", "  ", "dull", "fine", "awful"].map(String::from).to_vec();
    let labels = ["pos", "pos", "neg", "", "neg"].map(String::from).to_vec();
    let table = Table::from_pairs(texts, labels);
    assert_eq!(table.columns, ["text", "label"]);
    let set = text_dataset(&table, 0, 1).unwrap();
    assert_eq!(set.classes, ["neg", "pos"]);
    assert_eq!(set.texts, ["great film", "dull", "awful"]);
    assert_eq!(set.labels, [1, 0, 0]);
    assert_eq!(set.empty_texts, 1);
    // The row number (from 1) stands in for the line.
    assert_eq!(set.skipped.len(), 1);
    assert_eq!(set.skipped[0].line, 4);
    assert!(set.skipped[0].reason.contains("'label'"), "{}", set.skipped[0].reason);
}

/// Files that would grow without bound: a new JSON key on every line (each once added a field to
/// every earlier row), a header of thousands of columns, one long JSON line in small chunks.
#[test]
fn tables_stay_within_their_column_bound() {
    let lines: String = (0..20_000).map(|i| format!("{{\"text\": \"t{i}\", \"label\": \"{}\", \"k{i}\": 1}}\n", i % 2)).collect();
    let t = read_table(lines.as_bytes(), TableFormat::JsonLines).unwrap();
    assert_eq!(t.columns.len(), 256);
    let stored: usize = t.rows.iter().map(|r| r.fields.len()).sum();
    assert!(stored <= t.rows.len() * 256, "{stored} fields stored");
    assert_eq!(t.rows.len(), 254, "the lines whose keys fit");
    assert_eq!(t.skipped.len(), 20_000 - 254);
    assert_eq!(t.skipped[0].line, 255);
    assert!(t.skipped[0].reason.contains("names a key beyond the first 256 of the file ('k254')"), "{}", t.skipped[0].reason);
    let column = |name: &str| t.columns.iter().position(|c| c == name).unwrap();
    let d = text_dataset(&t, column("text"), column("label")).unwrap();
    assert_eq!((d.texts.len(), d.classes.len()), (254, 2), "rows shorter than the header read as absent fields");

    let header: Vec<String> = (0..5000).map(|i| format!("c{i}")).collect();
    let e = read_table(format!("{}\na,b\n", header.join(",")).as_bytes(), TableFormat::Csv).unwrap_err();
    assert!(e.contains("The header has 5000 columns; at most 256 are read"), "{e}");

    // One 4 MB line in 16-byte chunks: read once, whole.
    let long = "word ".repeat(800_000);
    let src = format!("{{\"text\": \"{long}\", \"label\": \"a\"}}\n{{\"text\": \"x\", \"label\": \"b\"}}\n");
    let mut r = TableReader::new(TableFormat::JsonLines);
    src.as_bytes().chunks(16).for_each(|c| r.push(c));
    let t = r.finish().unwrap();
    assert_eq!(t.rows.len(), 2);
    let text = t.columns.iter().position(|c| c == "text").unwrap();
    assert_eq!(t.rows[0].field(text).map(str::len), Some(4_000_000));
}

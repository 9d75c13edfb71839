//! Subtitles (WebVTT or SRT) of a long recording, cut into training segments: consecutive cues
//! are joined while the segment stays within 30 s (Whisper's window), so each segment starts and
//! ends at a cue boundary. Malformed cues (no times, end before start), cues that overlap the one
//! before and cues longer than 30 s are skipped and listed; the rest are kept.

use serde::Serialize;

/// The longest segment, in seconds.
pub const MAX_SEGMENT_SECONDS: f64 = 30.0;

/// One timed line (or block) of text.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Cue {
    pub start: f64,
    pub end: f64,
    pub text: String,
}

/// A cue that was not used, and why.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SkippedCue {
    /// The line of the file where the cue starts (1-based).
    pub line: usize,
    pub reason: String,
}

/// What a subtitle file gave.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Subtitles {
    pub cues: Vec<Cue>,
    pub skipped: Vec<SkippedCue>,
}

/// `hh:mm:ss.mmm`, `mm:ss.mmm` (WebVTT) or `hh:mm:ss,mmm` (SRT), in seconds.
fn timestamp(s: &str) -> Option<f64> {
    let s = s.trim().replace(',', ".");
    let parts: Vec<&str> = s.split(':').collect();
    let (h, m, sec) = match parts.as_slice() {
        [h, m, sec] => (h.parse::<u32>().ok()?, m.parse::<u32>().ok()?, *sec),
        [m, sec] => (0, m.parse::<u32>().ok()?, *sec),
        _ => return None,
    };
    let sec: f64 = sec.parse().ok()?;
    (m < 60 && (0.0..60.0).contains(&sec)).then(|| h as f64 * 3600.0 + m as f64 * 60.0 + sec)
}

/// Removes WebVTT/SRT markup (`<i>`, `<v Speaker>`, `{\an8}`) from cue text.
fn plain(text: &str) -> String {
    let mut out = String::new();
    let mut depth = (0, 0);
    for c in text.chars() {
        match c {
            '<' => depth.0 += 1,
            '>' if depth.0 > 0 => depth.0 -= 1,
            '{' => depth.1 += 1,
            '}' if depth.1 > 0 => depth.1 -= 1,
            _ if depth == (0, 0) => out.push(c),
            _ => {}
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Parses a WebVTT or SRT file (told apart by their content).
pub fn parse(text: &str) -> Result<Subtitles, String> {
    let text = text.trim_start_matches('\u{feff}');
    let lines: Vec<&str> = text.lines().collect();
    let is_vtt = lines.first().is_some_and(|l| l.trim_start().starts_with("WEBVTT"));
    if !is_vtt && !lines.iter().any(|l| l.contains("-->")) {
        return Err("this is not a subtitle file: no WEBVTT header and no '-->' cue times".into());
    }
    let mut subtitles = Subtitles::default();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i].trim();
        if !line.contains("-->") {
            // Numbers (SRT), cue ids, headers, NOTE/STYLE blocks: skip to the next line.
            if line.starts_with("NOTE") || line.starts_with("STYLE") || line.starts_with("REGION") {
                while i < lines.len() && !lines[i].trim().is_empty() {
                    i += 1;
                }
            }
            i += 1;
            continue;
        }
        let at = i + 1;
        let (from, to) = line.split_once("-->").expect("checked above");
        // WebVTT settings ("align:start") follow the end time.
        let to = to.split_whitespace().next().unwrap_or("");
        let mut body = Vec::new();
        i += 1;
        while i < lines.len() && !lines[i].trim().is_empty() && !lines[i].contains("-->") {
            body.push(lines[i]);
            i += 1;
        }
        let cue_text = plain(&body.join(" "));
        match (timestamp(from), timestamp(to)) {
            (Some(start), Some(end)) if end > start => {
                if cue_text.is_empty() {
                    subtitles.skipped.push(SkippedCue { line: at, reason: "the cue has no text".into() });
                } else if end - start > MAX_SEGMENT_SECONDS {
                    subtitles.skipped.push(SkippedCue { line: at, reason: format!("the cue lasts {:.1} s, over Whisper's 30 s", end - start) });
                } else if let Some(last) = subtitles.cues.last().filter(|c| start < c.end - 1e-3) {
                    subtitles.skipped.push(SkippedCue {
                        line: at,
                        reason: format!("the cue starts at {start:.2} s, before the previous one ends ({:.2} s)", last.end),
                    });
                } else {
                    subtitles.cues.push(Cue { start, end, text: cue_text });
                }
            }
            (Some(_), Some(_)) => subtitles.skipped.push(SkippedCue { line: at, reason: "the cue ends before it starts".into() }),
            _ => subtitles.skipped.push(SkippedCue { line: at, reason: format!("unreadable cue times '{line}'") }),
        }
    }
    if subtitles.cues.is_empty() && subtitles.skipped.is_empty() {
        return Err("the subtitle file has no cues".into());
    }
    Ok(subtitles)
}

/// Consecutive cues joined into segments of at most [`MAX_SEGMENT_SECONDS`], each from its first
/// cue's start to its last cue's end.
pub fn segments(cues: &[Cue]) -> Vec<Cue> {
    let mut out: Vec<Cue> = Vec::new();
    for cue in cues {
        match out.last_mut() {
            Some(seg) if cue.end - seg.start <= MAX_SEGMENT_SECONDS => {
                seg.end = cue.end;
                seg.text.push(' ');
                seg.text.push_str(&cue.text);
            }
            _ => out.push(cue.clone()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const VTT: &str = "WEBVTT\n\nNOTE a comment\nspanning lines\n\n1\n00:00:00.500 --> 00:00:02.000 align:start\n<v Ann>Hello <i>there</i>.</v>\n\n00:02.000 --> 00:04.250\nPress one\nto continue.\n\n00:00:03.000 --> 00:00:05.000\nOverlaps.\n\n00:00:06.000 --> 00:00:05.000\nBackwards.\n\nxx --> yy\nBroken.\n\n00:00:10.000 --> 00:00:50.000\nToo long.\n";

    #[test]
    fn webvtt_cues_with_markup_settings_and_bad_cues_listed() {
        let s = parse(VTT).unwrap();
        assert_eq!(s.cues, vec![
            Cue { start: 0.5, end: 2.0, text: "Hello there.".into() },
            Cue { start: 2.0, end: 4.25, text: "Press one to continue.".into() },
        ]);
        let reasons: Vec<&str> = s.skipped.iter().map(|c| c.reason.as_str()).collect();
        assert_eq!(s.skipped.len(), 4, "{reasons:?}");
        assert!(reasons[0].contains("before the previous one ends"));
        assert!(reasons[1].contains("ends before it starts"));
        assert!(reasons[2].contains("unreadable"));
        assert!(reasons[3].contains("over Whisper's 30 s"));
    }

    #[test]
    fn srt_times_with_commas() {
        let s = parse("1\n00:00:01,000 --> 00:00:03,500\nOne line\n\n2\n00:01:00,000 --> 00:01:02,000\nTwo\n").unwrap();
        assert_eq!(s.cues.len(), 2);
        assert_eq!((s.cues[1].start, s.cues[1].end), (60.0, 62.0));
        assert!(parse("just some text\nwithout cues").unwrap_err().contains("not a subtitle file"));
    }

    #[test]
    fn segments_join_cues_up_to_thirty_seconds() {
        let cue = |start: f64, end: f64, t: &str| Cue { start, end, text: t.into() };
        let segs = segments(&[cue(0.0, 10.0, "a"), cue(10.0, 25.0, "b"), cue(26.0, 31.0, "c"), cue(31.0, 40.0, "d")]);
        assert_eq!(segs, vec![cue(0.0, 25.0, "a b"), cue(26.0, 40.0, "c d")]);
    }
}

//! GFM tables' header and delimiter rows (GFM section 4.10).

use super::Align;

/// The cells of a row, split at each `|` that no backslash escapes, with
/// a leading and a trailing `|` left out.
#[cfg_attr(cite_stream_size, optimize(size))]
pub(super) fn cells(row: &str) -> Vec<&str> {
    let row = row.trim_matches([' ', '\t']);
    let mut cells = Vec::new();
    let (mut start, mut escaped) = (0, false);
    for (at, b) in row.bytes().enumerate() {
        match b {
            b'\\' if !escaped => escaped = true,
            b'|' if !escaped => {
                cells.push(&row[start..at]);
                start = at + 1;
            }
            _ => escaped = false,
        }
    }
    cells.push(&row[start..]);
    if row.starts_with('|') {
        cells.remove(0);
    }
    if cells.len() > 1 && cells.last().is_some_and(|cell| cell.is_empty()) && row.ends_with('|') {
        cells.pop();
    }
    cells
}

/// Whether `c` can be part of a delimiter row.
#[cfg_attr(cite_stream_size, optimize(size))]
pub(super) fn delimiter_char(c: u8) -> bool {
    matches!(c, b'|' | b'-' | b':' | b' ' | b'\t')
}

/// The alignments of a delimiter row (`| :--- | ---: |`), if it is one.
#[cfg_attr(cite_stream_size, optimize(size))]
pub(super) fn delimiter(row: &str) -> Option<Vec<Option<Align>>> {
    if !row.bytes().all(delimiter_char) || !row.contains('-') {
        return None;
    }
    // One cell without a pipe (`---`) is a thematic break, not a table.
    if !row.contains('|') {
        return None;
    }
    cells(row)
        .into_iter()
        .map(|cell| {
            let cell = cell.trim_matches([' ', '\t']);
            let left = cell.starts_with(':');
            let right = cell.ends_with(':') && cell.len() > 1;
            let dashes = cell.trim_start_matches(':').trim_end_matches(':');
            if dashes.is_empty() || !dashes.bytes().all(|b| b == b'-') {
                return None;
            }
            Some(match (left, right) {
                (true, true) => Some(Align::Center),
                (true, false) => Some(Align::Left),
                (false, true) => Some(Align::Right),
                (false, false) => None,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_split_at_unescaped_pipes() {
        assert_eq!(cells("| a | b |"), [" a ", " b "]);
        assert_eq!(cells("a | b"), ["a ", " b"]);
        assert_eq!(cells(r"| a \| b |"), [r" a \| b "]);
        assert_eq!(cells("| a || c |"), [" a ", "", " c "]);
        assert_eq!(cells("|"), [""]);
    }

    #[test]
    fn delimiter_rows_give_alignments() {
        assert_eq!(
            delimiter("| :-- | :-: | --: | --- |"),
            Some(vec![
                Some(Align::Left),
                Some(Align::Center),
                Some(Align::Right),
                None
            ])
        );
        assert_eq!(delimiter("|---|"), Some(vec![None]));
        assert_eq!(delimiter("---"), None);
        assert_eq!(delimiter("| -- | x |"), None);
        assert_eq!(delimiter("| : |"), None);
    }
}

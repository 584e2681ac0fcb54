//! What may leave the team as a figure or a spreadsheet: counts below
//! [`SUPPRESS_BELOW`] shown as `<5`, and CSV fields that no spreadsheet takes
//! for a formula. Shared by the aggregate report, the annual report and the
//! public results.
//!
//! Invariant: every count that leaves the team goes through [`shown`], every
//! CSV field through [`csv_field`].

/// Counts below this are suppressed.
pub const SUPPRESS_BELOW: u64 = 5;

/// A count as it may be published.
pub fn shown(count: u64) -> String {
    if count < SUPPRESS_BELOW {
        "<5".to_owned()
    } else {
        count.to_string()
    }
}

/// Characters a spreadsheet may take to start a formula: the ASCII ones and
/// their full-width forms, which some spreadsheets fold to ASCII.
const FORMULA_STARTS: &[char] = &[
    '=', '+', '-', '@', '\t', '\r', '\u{FF1D}', '\u{FF0B}', '\u{FF0D}', '\u{FF20}',
];
/// Characters a spreadsheet may split a line at: the comma of this file, the
/// semicolon of a Dutch (or German) Excel, tab, pipe, and line breaks.
const SEPARATORS: &[char] = &[',', ';', '\t', '|', '\n', '\r'];

/// One CSV field, safe for a spreadsheet however it splits the line (OWASP
/// "CSV injection"): a formula start at the beginning of the field, or just
/// after any separator in it, gets a `'` before it, so no cell it may become
/// starts a formula; a field holding a separator or quote is quoted. A lone
/// `-` (no domain) stays as it is.
pub fn csv_field(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    let mut at_start = true;
    for c in s.chars() {
        if at_start && FORMULA_STARTS.contains(&c) && s != "-" {
            out.push('\'');
        }
        out.push(c);
        at_start = SEPARATORS.contains(&c);
    }
    if out.contains(SEPARATORS) || out.contains('"') {
        format!("\"{}\"", out.replace('"', "\"\""))
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_count_below_five_is_never_shown() {
        assert_eq!(shown(0), "<5");
        assert_eq!(shown(4), "<5");
        assert_eq!(shown(5), "5");
    }

    #[test]
    fn a_semicolon_spreadsheet_finds_no_formula_in_any_cell() {
        assert_eq!(csv_field("x;=1+1;"), "\"x;'=1+1;\"");
        assert_eq!(csv_field("\u{FF1D}1+1"), "'\u{FF1D}1+1");
        assert_eq!(csv_field("a|@SUM(A1)"), "\"a|'@SUM(A1)\"");
        assert_eq!(csv_field("a\t-2"), "\"a\t'-2\"");
        assert_eq!(csv_field("pensioen-aow"), "pensioen-aow");
        assert_eq!(csv_field("-"), "-");
        // Split the way Dutch Excel splits it, on `;`, quotes ignored: every
        // piece that starts a formula carries the defusing quote.
        for field in ["x;=1+1;", "x;\u{FF0B}1;", "\"q\";@x", "a,b;-c"] {
            let line = format!("x,{}", csv_field(field));
            for piece in line.as_str().split([';', ',']) {
                let bare = piece.trim_start_matches('"');
                assert!(
                    !bare.starts_with(FORMULA_STARTS) || bare == "-",
                    "{field:?} gives the cell {piece:?}"
                );
            }
        }
    }
}

//! The personal-data guard: looks for data that points at one citizen before a
//! signal is sealed, so the sender can take it out first.
//!
//! It finds a BSN (nine digits passing the 11-proef, or an older eight-digit
//! one next to a word that names it), an IBAN (mod 97), an
//! e-mail address, a Dutch phone number, a postcode with a house number and a
//! date of birth (a full date next to a word such as "geboren" or "born").
//!
//! It reads what a person reads: the text is scanned as a normalised copy
//! (NFKC, so full-width and other compatibility digits become plain ones;
//! format characters such as zero-width spaces and bidirectional controls,
//! and the line and paragraph separators, taken out), so `1234\u{200b}56782`
//! is found as the BSN it shows. The sender's text itself is kept as typed.
//!
//! Invariant: the guard reports only *what kind* of data it found and in
//! *which field*, never the value itself; the normalised copy and the few
//! digits it gathers sit in buffers that are wiped, and it logs nothing.

use unicode_normalization::UnicodeNormalization;
use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};
use zeroize::Zeroizing;

use super::answers::Answers;
use super::questions::{self, Kind as QuestionKind};

/// A kind of personal data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// A citizen service number (burgerservicenummer).
    Bsn,
    /// A bank account number.
    Iban,
    /// An e-mail address.
    Email,
    /// A Dutch phone number.
    Phone,
    /// A postcode with a house number: an address.
    Address,
    /// A date of birth.
    BirthDate,
}

impl Kind {
    /// The key of this kind's name in the texts (`guard.kind.<key>`).
    pub fn key(self) -> &'static str {
        match self {
            Kind::Bsn => "bsn",
            Kind::Iban => "iban",
            Kind::Email => "email",
            Kind::Phone => "phone",
            Kind::Address => "address",
            Kind::BirthDate => "birth_date",
        }
    }
}

/// One finding: which kind of data, in which field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Finding {
    /// The question's field name.
    pub field: &'static str,
    /// What was found.
    pub kind: Kind,
}

/// Scans every text answer; findings in form order, each (field, kind) once.
pub fn scan(answers: &Answers) -> Vec<Finding> {
    let mut out = Vec::new();
    for q in questions::all() {
        if !matches!(q.kind, QuestionKind::Text | QuestionKind::Textarea) {
            continue;
        }
        let field: &'static str = q.name.as_str();
        for kind in kinds_in(answers.get(field)) {
            out.push(Finding { field, kind });
        }
    }
    out
}

/// The kinds of personal data in `text`, sorted, each once.
pub fn kinds_in(text: &str) -> Vec<Kind> {
    let readable = readable(text);
    let b = readable.as_bytes();
    let mut kinds = Vec::new();
    let ibans = iban_spans(b);
    if !ibans.is_empty() {
        kinds.push(Kind::Iban);
    }
    numbers(b, &ibans, &mut kinds);
    if has_email(b) {
        kinds.push(Kind::Email);
    }
    if has_address(b) {
        kinds.push(Kind::Address);
    }
    if has_birth_date(b) {
        kinds.push(Kind::BirthDate);
    }
    kinds.sort();
    kinds.dedup();
    kinds
}

/// `text` as a person reads it: NFKC, without format characters (`Cf`:
/// zero-width spaces and joiners, bidirectional controls, soft hyphens) and
/// without line and paragraph separators. A wiped copy; when it must grow,
/// the old buffer is wiped too.
fn readable(text: &str) -> Zeroizing<String> {
    // NFKC seldom makes a text longer; four times the length is room enough
    // for the usual case, and a longer result is grown by hand, wiped.
    let mut out = Zeroizing::new(String::with_capacity(text.len().saturating_mul(4)));
    for c in text.nfkc() {
        if c.general_category() == GeneralCategory::Format
            || matches!(c, '\u{2028}' | '\u{2029}')
            || invisible(c)
        {
            continue;
        }
        if out.len() + c.len_utf8() > out.capacity() {
            let mut bigger = Zeroizing::new(String::with_capacity(out.capacity() * 2 + 4));
            bigger.push_str(&out);
            out = bigger;
        }
        out.push(c);
    }
    out
}

/// Characters that show nothing and are not `Cf`: Unicode's
/// Default_Ignorable_Code_Point outside the format category (the combining
/// grapheme joiner, Hangul fillers, variation selectors, Mongolian free
/// variation selectors, reserved ignorables). Placed between two digits they
/// would otherwise split a number the reader sees as one.
fn invisible(c: char) -> bool {
    matches!(
        c,
        '\u{034F}'
            | '\u{115F}'..='\u{1160}'
            | '\u{17B4}'..='\u{17B5}'
            | '\u{180B}'..='\u{180F}'
            | '\u{2065}'
            | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FFA0}'
            | '\u{FFF0}'..='\u{FFF8}'
            | '\u{1BCA0}'..='\u{1BCA3}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0000}'..='\u{E0FFF}'
    )
}

fn at(b: &[u8], i: usize) -> u8 {
    b.get(i).copied().unwrap_or(b' ')
}

fn before(b: &[u8], i: usize) -> u8 {
    i.checked_sub(1).map_or(b' ', |j| at(b, j))
}

/// A digit run `[start, end)` starting at `i`, if any.
fn digits_at(b: &[u8], i: usize) -> usize {
    let mut end = i;
    while at(b, end).is_ascii_digit() && end < b.len() {
        end += 1;
    }
    end
}

// ---- BSN and phone numbers: runs of digits, possibly grouped ----

/// Looks at every run of digit groups (`123 456 782`, `06-1234 5678`,
/// `+31 (0)6 …`) for a BSN or a phone number.
/// Digits inside an IBAN (`ibans`) are part of the account number, not a phone number.
fn numbers(b: &[u8], ibans: &[(usize, usize)], kinds: &mut Vec<Kind>) {
    // Maximal digit runs, as (start, end).
    let mut groups = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if at(b, i).is_ascii_digit() {
            let end = digits_at(b, i);
            groups.push((i, end));
            i = end;
        } else {
            i += 1;
        }
    }
    // (start, end) of each BSN and each phone number found.
    let (mut bsns, mut phones) = (Vec::new(), Vec::new());
    for (n, &(start, _)) in groups.iter().enumerate() {
        let lead = before(b, start);
        if lead.is_ascii_alphabetic() || ibans.iter().any(|(s, e)| (*s..*e).contains(&start)) {
            continue;
        }
        let plus = lead == b'+';
        let mut digits: Zeroizing<[u8; 16]> = Zeroizing::new([0; 16]);
        let mut len = 0;
        let mut prev_end = start;
        for &(s, e) in groups.iter().skip(n) {
            if s != start && !joinable(b, prev_end, s) {
                break;
            }
            if len + (e - s) > digits.len() {
                break;
            }
            if let (Some(dst), Some(src)) = (digits.get_mut(len..len + (e - s)), b.get(s..e)) {
                dst.copy_from_slice(src);
            }
            len += e - s;
            prev_end = e;
            if at(b, e).is_ascii_alphabetic() {
                break;
            }
            let got = digits.get(..len).unwrap_or_default();
            if is_bsn(got) || (is_short_bsn(got) && names_a_bsn(b, start)) {
                bsns.push((start, e));
            }
            if is_dutch_phone(got, plus) {
                phones.push((start, e));
            }
        }
    }
    // Nine digits inside a phone number are part of that number.
    if bsns
        .iter()
        .any(|(s, e)| !phones.iter().any(|(ps, pe)| ps <= s && e <= pe))
    {
        kinds.push(Kind::Bsn);
    }
    if !phones.is_empty() {
        kinds.push(Kind::Phone);
    }
}

/// Whether two digit groups may belong to one number: at most three
/// separators (space, dash, dot, brackets) between them.
fn joinable(b: &[u8], end: usize, next: usize) -> bool {
    let gap = b.get(end..next).unwrap_or_default();
    (1..=3).contains(&gap.len()) && gap.iter().all(|c| b" -.()".contains(c))
}

/// Eight digits that pass the 11-proef with the leading zero they stand for:
/// the older BSNs, carried over from sofinummers. Eight-digit numbers of
/// other kinds are common (dossiers, dates), so only [`names_a_bsn`] makes
/// one count.
fn is_short_bsn(digits: &[u8]) -> bool {
    let mut nine: Zeroizing<[u8; 9]> = Zeroizing::new([b'0'; 9]);
    match (digits.len() == 8, nine.get_mut(1..)) {
        (true, Some(rest)) => {
            rest.copy_from_slice(digits);
            is_bsn(nine.as_slice())
        }
        _ => false,
    }
}

const BSN_WORDS: &[&str] = &["bsn", "burgerservicenummer", "sofinummer", "sofi-nummer"];

/// Whether a word that names a BSN stands shortly before `start`.
fn names_a_bsn(b: &[u8], start: usize) -> bool {
    let window = b.get(start.saturating_sub(30)..start).unwrap_or_default();
    BSN_WORDS
        .iter()
        .any(|w| contains_ignore_case(window, w.as_bytes()))
}

/// Nine digits passing the 11-proef: 9·d1 + 8·d2 + … + 2·d8 − 1·d9 ≡ 0 (mod 11).
pub fn is_bsn(digits: &[u8]) -> bool {
    if digits.len() != 9 || digits.iter().all(|d| *d == b'0') {
        return false;
    }
    let mut sum: i32 = 0;
    for (i, d) in digits.iter().enumerate() {
        let value = i32::from(d.wrapping_sub(b'0'));
        let weight = if i == 8 { -1 } else { 9 - i as i32 };
        sum += weight * value;
    }
    sum % 11 == 0
}

/// A Dutch phone number: ten digits starting with 0 and a non-zero area or
/// mobile digit, or the same written internationally (+31 / 0031, with the
/// leading 0 left out or put in brackets).
pub fn is_dutch_phone(digits: &[u8], plus: bool) -> bool {
    let national = if plus {
        match digits.strip_prefix(b"31") {
            Some(rest) => rest.strip_prefix(b"0").unwrap_or(rest),
            None => return false,
        }
    } else if let Some(rest) = digits.strip_prefix(b"0031") {
        rest.strip_prefix(b"0").unwrap_or(rest)
    } else if let Some(rest) = digits.strip_prefix(b"0") {
        rest
    } else {
        return false;
    };
    national.len() == 9 && national.first().is_some_and(|d| (b'1'..=b'9').contains(d))
}

// ---- IBAN ----

/// Two letters, two check digits and 11 to 30 letters or digits, written in
/// one piece or in groups of four, passing the mod-97 check. Returns where
/// each one stands.
fn iban_spans(b: &[u8]) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut i = 0;
    while i + 4 <= b.len() {
        let starts = at(b, i).is_ascii_alphabetic()
            && at(b, i + 1).is_ascii_alphabetic()
            && at(b, i + 2).is_ascii_digit()
            && at(b, i + 3).is_ascii_digit()
            && !before(b, i).is_ascii_alphanumeric();
        if let Some(end) = starts.then(|| iban_from(b, i)).flatten() {
            spans.push((i, end));
            i = end;
        } else {
            i += 1;
        }
    }
    spans
}

/// The end of the IBAN starting at `start`, if one does.
fn iban_from(b: &[u8], start: usize) -> Option<usize> {
    let mut compact: Zeroizing<Vec<u8>> = Zeroizing::new(Vec::with_capacity(40));
    let mut i = start;
    loop {
        let token_start = i;
        while at(b, i).is_ascii_alphanumeric() && i < b.len() {
            i += 1;
        }
        let token = b.get(token_start..i).unwrap_or_default();
        if compact.len() + token.len() > 34 {
            return None;
        }
        compact.extend(token.iter().map(u8::to_ascii_uppercase));
        if compact.len() >= 15 && mod97_is_one(&compact) {
            return Some(i);
        }
        // Groups of four go on after one space; a shorter group ends the number.
        if token.len() == 4 && at(b, i) == b' ' && at(b, i + 1).is_ascii_alphanumeric() {
            i += 1;
        } else {
            return None;
        }
    }
}

/// ISO 13616: move the first four characters to the end, letters become
/// 10..35, and the number must leave 1 after division by 97.
pub fn mod97_is_one(iban: &[u8]) -> bool {
    let (head, tail) = iban.split_at(iban.len().min(4));
    let mut rem: u32 = 0;
    for c in tail.iter().chain(head) {
        match c {
            b'0'..=b'9' => rem = (rem * 10 + u32::from(c - b'0')) % 97,
            b'A'..=b'Z' => rem = (rem * 100 + u32::from(c - b'A') + 10) % 97,
            _ => return false,
        }
    }
    rem == 1
}

// ---- e-mail ----

fn is_local(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"._%+-".contains(&c)
}

/// Something `@` a domain with at least one dot and a top-level part of two or
/// more letters.
fn has_email(b: &[u8]) -> bool {
    for (at_pos, _) in b.iter().enumerate().filter(|(_, c)| **c == b'@') {
        let mut s = at_pos;
        while s > 0 && is_local(at(b, s - 1)) {
            s -= 1;
        }
        if s == at_pos {
            continue;
        }
        let mut e = at_pos + 1;
        while e < b.len()
            && (at(b, e).is_ascii_alphanumeric() || at(b, e) == b'-' || at(b, e) == b'.')
        {
            e += 1;
        }
        let domain = b.get(at_pos + 1..e).unwrap_or_default();
        let domain = domain.strip_suffix(b".").unwrap_or(domain);
        let labels: Vec<&[u8]> = domain.split(|c| *c == b'.').collect();
        let tld_ok = labels
            .last()
            .is_some_and(|t| t.len() >= 2 && t.iter().all(u8::is_ascii_alphabetic));
        if labels.len() >= 2 && labels.iter().all(|l| !l.is_empty()) && tld_ok {
            return true;
        }
    }
    false
}

// ---- postcode with house number ----

/// A postcode (`1234 AB` in capitals, or `1234ab`) right after or right before a house number:
/// `1234 AB 12`, `Kerkstraat 12a, 1234 AB`. A postcode alone names an area, not
/// a home, and passes.
fn has_address(b: &[u8]) -> bool {
    let mut i = 0;
    while i + 6 <= b.len() {
        if let Some(end) = postcode_at(b, i) {
            if house_number_after(b, end) || house_number_before(b, i) {
                return true;
            }
        }
        i += 1;
    }
    false
}

fn postcode_at(b: &[u8], i: usize) -> Option<usize> {
    if before(b, i).is_ascii_alphanumeric() || !(b'1'..=b'9').contains(&at(b, i)) {
        return None;
    }
    if digits_at(b, i) != i + 4 {
        return None;
    }
    let mut j = i + 4;
    let spaced = at(b, j) == b' ';
    if spaced {
        j += 1;
    }
    // `1234 AB` needs capitals, or "in 2023 en 2024" would be an address;
    // written as one word (`1234ab`) any case will do.
    let letter = |c: u8| {
        if spaced {
            c.is_ascii_uppercase()
        } else {
            c.is_ascii_alphabetic()
        }
    };
    let letters = letter(at(b, j)) && letter(at(b, j + 1));
    (letters && !at(b, j + 2).is_ascii_alphanumeric()).then_some(j + 2)
}

fn house_number_after(b: &[u8], end: usize) -> bool {
    let mut j = end;
    while j < end + 3 && (at(b, j) == b' ' || at(b, j) == b',') {
        j += 1;
    }
    j > end && (b'1'..=b'9').contains(&at(b, j)) && (1..=5).contains(&(digits_at(b, j) - j))
}

fn house_number_before(b: &[u8], start: usize) -> bool {
    let mut j = start;
    while j + 3 > start && j > 0 && (before(b, j) == b' ' || before(b, j) == b',') {
        j -= 1;
    }
    if j == start {
        return false;
    }
    // An addition such as the `a` in `12a`.
    if before(b, j).is_ascii_alphabetic() && j >= 2 && before(b, j - 1).is_ascii_digit() {
        j -= 1;
    }
    let end = j;
    while j > 0 && before(b, j).is_ascii_digit() {
        j -= 1;
    }
    (1..=5).contains(&(end - j)) && !before(b, j).is_ascii_alphanumeric()
}

// ---- date of birth ----

const BIRTH_WORDS: &[&str] = &[
    "geboren",
    "geb.",
    "geboortedatum",
    "born",
    "birth",
    "dob",
    "d.o.b",
];

const MONTHS: &[&str] = &[
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
    "january",
    "february",
    "march",
    "may",
    "june",
    "july",
    "august",
    "october",
];

/// A full date (`12-03-1980`, `12/3/1980`, `1980-03-12`, `12 maart 1980`) with
/// a word such as "geboren" or "born" shortly before it. A date without such a
/// word is more often the day a rule changed, and passes.
fn has_birth_date(b: &[u8]) -> bool {
    let mut i = 0;
    while i < b.len() {
        if at(b, i).is_ascii_digit() && !before(b, i).is_ascii_alphanumeric() && is_date_at(b, i) {
            let from = i.saturating_sub(40);
            let window = b.get(from..i).unwrap_or_default();
            if BIRTH_WORDS
                .iter()
                .any(|w| contains_ignore_case(window, w.as_bytes()))
            {
                return true;
            }
        }
        i += 1;
    }
    false
}

fn contains_ignore_case(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle))
}

fn number(b: &[u8], i: usize, min: usize, max: usize) -> Option<(u32, usize)> {
    let end = digits_at(b, i);
    let len = end - i;
    if !(min..=max).contains(&len) {
        return None;
    }
    let mut v = 0u32;
    for c in b.get(i..end).unwrap_or_default() {
        v = v * 10 + u32::from(c - b'0');
    }
    Some((v, end))
}

fn is_date_at(b: &[u8], i: usize) -> bool {
    let valid = |day: u32, month: u32, year: u32| {
        (1..=31).contains(&day) && (1..=12).contains(&month) && (1900..=2100).contains(&year)
    };
    let end_ok = |e: usize| !at(b, e).is_ascii_alphanumeric();
    // 1980-03-12
    if let Some((year, e)) = number(b, i, 4, 4) {
        let sep = at(b, e);
        if sep == b'-' {
            if let Some((month, e2)) = number(b, e + 1, 2, 2) {
                if at(b, e2) == sep {
                    if let Some((day, e3)) = number(b, e2 + 1, 2, 2) {
                        return valid(day, month, year) && end_ok(e3);
                    }
                }
            }
        }
        return false;
    }
    let Some((day, e)) = number(b, i, 1, 2) else {
        return false;
    };
    let sep = at(b, e);
    // 12-03-1980, 12/3/1980, 12.03.1980
    if b"-/.".contains(&sep) {
        if let Some((month, e2)) = number(b, e + 1, 1, 2) {
            if at(b, e2) == sep {
                if let Some((year, e3)) = number(b, e2 + 1, 4, 4) {
                    return valid(day, month, year) && end_ok(e3);
                }
            }
        }
        return false;
    }
    // 12 maart 1980
    if sep == b' ' {
        let rest = b.get(e + 1..).unwrap_or_default();
        for name in MONTHS {
            let n = name.len();
            let matches = rest
                .get(..n)
                .is_some_and(|w| w.eq_ignore_ascii_case(name.as_bytes()));
            if matches && at(rest, n) == b' ' {
                if let Some((year, e3)) = number(b, e + 1 + n + 1, 4, 4) {
                    return valid(day, 1, year) && end_ok(e3);
                }
            }
        }
    }
    false
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn finds(text: &str) -> Vec<Kind> {
        kinds_in(text)
    }

    #[test]
    fn a_bsn_passing_the_11_proef_is_found_in_any_usual_writing() {
        // 9·1+8·1+7·1+6·2+5·2+4·2+3·3+2·3 − 1·3 = 66 = 6·11
        for text in [
            "BSN 111222333 klopt niet",
            "bsn: 111.222.333",
            "nummer 111 222 333.",
            "(123456782)",
        ] {
            assert_eq!(finds(text), vec![Kind::Bsn], "{text}");
        }
    }

    #[test]
    fn an_eight_digit_bsn_is_found_only_next_to_a_word_that_names_it() {
        // 9·0+8·1+7·1+6·2+5·2+4·2+3·3+2·3 − 1·5 = 55 = 5·11, so 11222335 is one.
        for text in [
            "BSN 11222335 klopt niet",
            "zijn burgerservicenummer: 1122 2335.",
            "oud sofinummer 11.222.335",
        ] {
            assert_eq!(finds(text), vec![Kind::Bsn], "{text}");
        }
        assert!(finds("dossier 11222335 loopt nog").is_empty());
        assert!(finds("BSN 11222334 is een tikfout").is_empty());
    }

    #[test]
    fn nine_digits_failing_the_11_proef_pass_through() {
        assert!(finds("zaaknummer 111222334 loopt nog").is_empty());
        assert!(finds("123456781").is_empty());
        assert!(finds("000000000").is_empty());
        assert!(finds("1112223330 is tien cijfers").is_empty());
        assert!(finds("dossier AB111222333").is_empty());
    }

    #[test]
    fn an_iban_with_a_right_check_is_found_and_a_wrong_one_passes() {
        assert_eq!(finds("rekening NL91ABNA0417164300"), vec![Kind::Iban]);
        assert_eq!(finds("rekening nl91 abna 0417 1643 00."), vec![Kind::Iban]);
        assert_eq!(finds("GB82 WEST 1234 5698 7654 32"), vec![Kind::Iban]);
        assert!(finds("rekening NL92ABNA0417164300").is_empty());
        assert!(finds("NL91 ABNA 0417").is_empty());
    }

    #[test]
    fn an_email_address_is_found_and_lookalikes_pass() {
        assert_eq!(finds("mail j.jansen@gemeente.nl graag"), vec![Kind::Email]);
        assert_eq!(finds("<a.b+c@x-y.example.org>."), vec![Kind::Email]);
        assert!(finds("via @gemeente.nl").is_empty());
        assert!(finds("jan@localhost").is_empty());
        assert!(finds("a@b.c en 3@4").is_empty());
    }

    #[test]
    fn dutch_phone_numbers_are_found_in_national_and_international_form() {
        for text in [
            "bel 0612345678",
            "06-12345678",
            "06 1234 5678",
            "020-1234567",
            "(010) 123 45 67",
            "+31 6 12345678",
            "+31 (0)20 123 4567",
            "0031612345678",
        ] {
            assert_eq!(finds(text), vec![Kind::Phone], "{text}");
        }
    }

    #[test]
    fn numbers_that_only_look_like_phone_numbers_pass() {
        assert!(finds("061234567").is_empty(), "nine digits");
        assert!(finds("06123456789").is_empty(), "eleven digits");
        assert!(finds("0012345678").is_empty(), "no area digit");
        assert!(finds("+32 6 12345678").is_empty(), "not Dutch");
        assert!(finds("tussen 2020 en 2024").is_empty());
    }

    #[test]
    fn a_postcode_with_house_number_is_found_and_a_postcode_alone_passes() {
        assert_eq!(finds("woont op 1234 AB 12"), vec![Kind::Address]);
        assert_eq!(finds("1234AB, 5"), vec![Kind::Address]);
        assert_eq!(finds("op 1234ab 5"), vec![Kind::Address]);
        assert_eq!(
            finds("Kerkstraat 12a, 1234 AB Utrecht"),
            vec![Kind::Address]
        );
        assert!(finds("in postcodegebied 1234 AB").is_empty());
        assert!(finds("in 2023 en 2024 steeg het").is_empty());
        assert!(finds("0123 AB 12").is_empty());
    }

    #[test]
    fn a_date_of_birth_is_found_and_other_dates_pass() {
        assert_eq!(finds("geboren op 12-03-1980"), vec![Kind::BirthDate]);
        assert_eq!(finds("geb. 1/2/1975"), vec![Kind::BirthDate]);
        assert_eq!(finds("date of birth: 1980-03-12"), vec![Kind::BirthDate]);
        assert_eq!(finds("Geboren 3 maart 1961"), vec![Kind::BirthDate]);
        assert!(finds("sinds 01-07-2024 geldt de regel").is_empty());
        assert!(finds("geboren in 1980").is_empty());
        assert!(finds("geboren op 32-03-1980").is_empty());
    }

    #[test]
    fn findings_name_the_field_and_the_kind_but_never_the_value() {
        let d = crate::signal::answers::decode(
            b"situation=bsn+111222333&rule=art.+3&solution=mail+a%40b.nl",
        )
        .unwrap();
        let found = scan(&d.answers);
        assert_eq!(
            found,
            vec![
                Finding {
                    field: "situation",
                    kind: Kind::Bsn
                },
                Finding {
                    field: "solution",
                    kind: Kind::Email
                },
            ]
        );
        assert!(!format!("{found:?}").contains("111222333"));
    }

    #[test]
    fn format_characters_and_full_width_digits_do_not_hide_personal_data() {
        assert_eq!(finds("BSN 1234\u{200b}56782"), vec![Kind::Bsn]);
        assert_eq!(finds("nummer 123456782"), vec![Kind::Bsn], "the control");
        assert_eq!(finds("burger １２３４５６７８２ wacht"), vec![Kind::Bsn]);
        assert_eq!(
            finds("rekening NL91ABNA04171\u{200b}64300"),
            vec![Kind::Iban]
        );
        assert_eq!(finds("mail jan\u{200b}@voorbeeld.nl"), vec![Kind::Email]);
        assert_eq!(finds("bel 06\u{2060}12345678"), vec![Kind::Phone]);
        assert_eq!(finds("1234\u{202e}56782 en verder"), vec![Kind::Bsn]);
        assert_eq!(finds("1234\u{00ad}56782"), vec![Kind::Bsn], "a soft hyphen");
        assert_eq!(
            finds("1234\u{2028}56782"),
            vec![Kind::Bsn],
            "a line separator"
        );
        for hidden in [
            '\u{034f}',
            '\u{fe0f}',
            '\u{3164}',
            '\u{ffa0}',
            '\u{180b}',
            '\u{e0041}',
        ] {
            assert_eq!(
                finds(&format!("BSN 1234{hidden}56782")),
                vec![Kind::Bsn],
                "U+{:04X} between the digits",
                u32::from(hidden)
            );
        }
    }

    #[test]
    fn plain_prose_about_a_rule_passes() {
        assert!(
            finds(
                "Sinds 2023 krijgen 1.200 huishoudens per maand een boete van € 150 \
                 omdat artikel 3:4 Awb niet wordt toegepast. Zie ook Kamerstuk 36 200."
            )
            .is_empty()
        );
    }

    #[test]
    fn a_long_hostile_text_is_scanned_quickly() {
        let mut text = String::new();
        for chunk in [
            "1 ",
            "NL12 ",
            "a@",
            "@b.",
            "1234 AB ",
            "geboren 1-1-",
            "+31 ",
        ] {
            text.push_str(&chunk.repeat(64 * 1024 / chunk.len() / 7));
        }
        let started = std::time::Instant::now();
        let _ = kinds_in(&text);
        assert!(
            started.elapsed() < std::time::Duration::from_secs(1),
            "{:?}",
            started.elapsed()
        );
    }
}

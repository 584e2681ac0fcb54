//! What an examiner who copies the data folder reads: the raw pages of a
//! SQLite file, walked b-tree by b-tree, each entry with its physical place
//! (page, then offset in the page), and the frames of a WAL. Only the schema
//! (which b-tree is which) is read through SQLite, from a copy, in immutable
//! mode; everything else comes from the bytes.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::HashMap;
use std::path::Path;

/// A value that identifies an entry: a rowid, or a text key (WITHOUT ROWID).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Key {
    Rowid(i64),
    Text(String),
}

/// One entry of a b-tree where it physically lies.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Page number (from 1).
    pub page: u32,
    /// Offset of the cell in its page.
    pub offset: u16,
    /// The row it stands for.
    pub key: Key,
}

/// One b-tree of the file.
#[derive(Debug, Clone)]
pub struct Tree {
    /// Its name in the schema (table or index).
    pub name: String,
    /// The table it belongs to.
    pub table: String,
    /// Its entries, in key order as the tree holds them.
    pub entries: Vec<Entry>,
}

/// Every b-tree of the database file `db` (a copy is read for the schema).
pub fn trees(db: &Path) -> Vec<Tree> {
    let bytes = std::fs::read(db).unwrap();
    assert!(
        bytes.len() >= 100 && &bytes[..16] == b"SQLite format 3\0",
        "{db:?}"
    );
    let page_size = match u16::from_be_bytes([bytes[16], bytes[17]]) {
        1 => 65536,
        n => usize::from(n),
    };
    let schema = schema(db);
    schema
        .into_iter()
        .filter(|s| s.root > 0)
        .map(|s| {
            let mut entries = Vec::new();
            let key_kind = s.key_kind;
            walk(&bytes, page_size, s.root, key_kind, &mut entries, 0);
            Tree {
                name: s.name,
                table: s.table,
                entries,
            }
        })
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyKind {
    /// A rowid table: the cell's integer key.
    TableRowid,
    /// An index of a rowid table: the record's last column.
    IndexLast,
    /// A WITHOUT ROWID table: the record's first column.
    IndexFirst,
}

struct SchemaRow {
    name: String,
    table: String,
    root: u32,
    key_kind: KeyKind,
}

fn schema(db: &Path) -> Vec<SchemaRow> {
    let copy = tempfile::tempdir().unwrap();
    let path = copy.path().join("copy.db");
    std::fs::copy(db, &path).unwrap();
    let conn = rusqlite::Connection::open_with_flags(
        format!("file:{}?immutable=1", path.display()),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_URI,
    )
    .unwrap();
    let rows: Vec<(String, String, String, u32, String)> = conn
        .prepare(
            "SELECT type, name, tbl_name, rootpage, coalesce(sql, '') FROM sqlite_master
             WHERE rootpage > 0",
        )
        .unwrap()
        .query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let without_rowid: Vec<String> = rows
        .iter()
        .filter(|r| r.0 == "table" && r.4.to_uppercase().contains("WITHOUT ROWID"))
        .map(|r| r.1.clone())
        .collect();
    rows.into_iter()
        .map(|(kind, name, table, root, _)| {
            let key_kind = match (kind.as_str(), without_rowid.contains(&table)) {
                ("table", false) => KeyKind::TableRowid,
                ("table", true) => KeyKind::IndexFirst,
                // An index of a WITHOUT ROWID table ends with the primary
                // key; of a rowid table, with the rowid.
                _ => KeyKind::IndexLast,
            };
            SchemaRow {
                name,
                table,
                root,
                key_kind,
            }
        })
        .collect()
}

fn walk(
    bytes: &[u8],
    page_size: usize,
    page: u32,
    kind: KeyKind,
    out: &mut Vec<Entry>,
    depth: u32,
) {
    assert!(
        depth < 32,
        "a b-tree deeper than 32 levels: the walk is wrong"
    );
    let base = (page as usize - 1) * page_size;
    let data = &bytes[base..base + page_size];
    let header = if page == 1 { 100 } else { 0 };
    let flag = data[header];
    let cells = usize::from(u16::from_be_bytes([data[header + 3], data[header + 4]]));
    let interior = flag == 0x02 || flag == 0x05;
    let pointers = header + if interior { 12 } else { 8 };
    let mut children = Vec::new();
    for i in 0..cells {
        let at = pointers + 2 * i;
        let offset = u16::from_be_bytes([data[at], data[at + 1]]);
        let mut p = usize::from(offset);
        if interior {
            children.push(u32::from_be_bytes(data[p..p + 4].try_into().unwrap()));
            p += 4;
        }
        let key = match (flag, kind) {
            // Interior table cells hold only a separator key, not a row.
            (0x05, _) => None,
            (0x0d, _) => {
                let (_, n) = varint(&data[p..]);
                let (rowid, _) = varint(&data[p + n..]);
                Some(Key::Rowid(rowid as i64))
            }
            (0x02 | 0x0a, k) => {
                let (_, n) = varint(&data[p..]);
                record_key(&data[p + n..], k)
            }
            _ => panic!("page {page} has an unknown type {flag:#x}"),
        };
        if let Some(key) = key {
            out.push(Entry { page, offset, key });
        }
    }
    if interior {
        children.push(u32::from_be_bytes(
            data[header + 8..header + 12].try_into().unwrap(),
        ));
        for child in children {
            walk(bytes, page_size, child, kind, out, depth + 1);
        }
    }
}

/// The identifying column of a record (the local part of its payload).
fn record_key(payload: &[u8], kind: KeyKind) -> Option<Key> {
    let (header_len, mut h) = varint(payload);
    let mut types = Vec::new();
    while h < header_len as usize {
        let (t, n) = varint(&payload[h..]);
        types.push(t);
        h += n;
    }
    let wanted = match kind {
        KeyKind::IndexFirst => 0,
        _ => types.len().checked_sub(1)?,
    };
    let mut at = header_len as usize;
    for (i, t) in types.iter().enumerate() {
        let size = serial_size(*t);
        if i == wanted {
            let value = payload.get(at..at + size)?;
            return Some(match t {
                1..=6 => Key::Rowid(int_of(value)),
                8 => Key::Rowid(0),
                9 => Key::Rowid(1),
                t if *t >= 13 && t % 2 == 1 => {
                    Key::Text(String::from_utf8_lossy(value).into_owned())
                }
                _ => return None,
            });
        }
        at += size;
    }
    None
}

fn serial_size(t: u64) -> usize {
    match t {
        0 | 8 | 9 => 0,
        1 => 1,
        2 => 2,
        3 => 3,
        4 => 4,
        5 => 6,
        6 | 7 => 8,
        t if t >= 12 => ((t - 12) / 2) as usize,
        _ => 0,
    }
}

fn int_of(bytes: &[u8]) -> i64 {
    let mut v: i64 = if bytes.first().is_some_and(|b| b & 0x80 != 0) {
        -1
    } else {
        0
    };
    for b in bytes {
        v = (v << 8) | i64::from(*b);
    }
    v
}

/// SQLite's varint: (value, bytes used).
fn varint(b: &[u8]) -> (u64, usize) {
    let mut v: u64 = 0;
    for (i, byte) in b.iter().enumerate().take(9) {
        if i == 8 {
            return ((v << 8) | u64::from(*byte), 9);
        }
        v = (v << 7) | u64::from(byte & 0x7f);
        if byte & 0x80 == 0 {
            return (v, i + 1);
        }
    }
    (v, b.len().min(9))
}

/// Spearman's rank correlation between arrival rank and physical place, over
/// the entries whose key has an arrival rank; `None` if fewer than `min`.
pub fn spearman(tree: &Tree, arrival: &HashMap<Key, usize>, min: usize) -> Option<f64> {
    let mut pairs: Vec<(usize, (u32, u16))> = tree
        .entries
        .iter()
        .filter_map(|e| arrival.get(&e.key).map(|a| (*a, (e.page, e.offset))))
        .collect();
    if pairs.len() < min {
        return None;
    }
    let n = pairs.len();
    let mut by_arrival: Vec<usize> = (0..n).collect();
    by_arrival.sort_by_key(|i| pairs[*i].0);
    let mut arrival_rank = vec![0f64; n];
    for (rank, i) in by_arrival.iter().enumerate() {
        arrival_rank[*i] = rank as f64;
    }
    let mut by_place: Vec<usize> = (0..n).collect();
    by_place.sort_by_key(|i| pairs[*i].1);
    let mut place_rank = vec![0f64; n];
    for (rank, i) in by_place.iter().enumerate() {
        place_rank[*i] = rank as f64;
    }
    pairs.clear();
    let d2: f64 = (0..n)
        .map(|i| (arrival_rank[i] - place_rank[i]).powi(2))
        .sum();
    let n = n as f64;
    Some(1.0 - 6.0 * d2 / (n * (n * n - 1.0)))
}

/// Within pages: over every pair of entries that share a page, how much the
/// order of their offsets follows the order of their arrival (Kendall's tau
/// over those pairs, from -1 to 1); `None` if fewer than `min` pairs.
pub fn within_pages(tree: &Tree, arrival: &HashMap<Key, usize>, min: usize) -> Option<f64> {
    let mut by_page: HashMap<u32, Vec<(usize, u16)>> = HashMap::new();
    for e in &tree.entries {
        if let Some(a) = arrival.get(&e.key) {
            by_page.entry(e.page).or_default().push((*a, e.offset));
        }
    }
    let (mut agree, mut total) = (0i64, 0i64);
    for cells in by_page.values() {
        for (i, x) in cells.iter().enumerate() {
            for y in &cells[i + 1..] {
                let same = (x.0 < y.0) == (x.1 < y.1);
                agree += if same { 1 } else { -1 };
                total += 1;
            }
        }
    }
    (total >= min as i64).then(|| agree as f64 / total as f64)
}

/// How far [`within_pages`] strays by chance for this tree: its standard
/// deviation over `rounds` random orders of the same entries (the ranks
/// shuffled among them, with a fixed seed so a run can be repeated). With
/// few cells to a page, few pairs are compared and chance alone can reach
/// a bound that many pairs never would; this says how far.
pub fn within_pages_by_chance(tree: &Tree, arrival: &HashMap<Key, usize>, rounds: usize) -> f64 {
    let keys: Vec<&Key> = tree
        .entries
        .iter()
        .map(|e| &e.key)
        .filter(|k| arrival.contains_key(*k))
        .collect();
    let mut ranks: Vec<usize> = keys
        .iter()
        .filter_map(|k| arrival.get(*k).copied())
        .collect();
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut seen = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        for i in (1..ranks.len()).rev() {
            let j = (next() % (i as u64 + 1)) as usize;
            ranks.swap(i, j);
        }
        let shuffled: HashMap<Key, usize> = keys
            .iter()
            .zip(&ranks)
            .map(|(k, r)| ((*k).clone(), *r))
            .collect();
        if let Some(w) = within_pages(tree, &shuffled, 1) {
            seen.push(w);
        }
    }
    let n = seen.len().max(1) as f64;
    let mean = seen.iter().sum::<f64>() / n;
    (seen.iter().map(|w| (w - mean).powi(2)).sum::<f64>() / n).sqrt()
}

/// The WAL's generations: `(frames with the header's salt, frames of an
/// earlier generation)`. An empty or missing WAL has none of either.
pub fn wal_frames(wal: &Path) -> (usize, usize) {
    let Ok(bytes) = std::fs::read(wal) else {
        return (0, 0);
    };
    if bytes.len() < 32 {
        return (0, 0);
    }
    let page_size = u32::from_be_bytes(bytes[8..12].try_into().unwrap()) as usize;
    let salt = &bytes[16..24];
    let (mut current, mut older) = (0, 0);
    let mut at = 32;
    while at + 24 + page_size <= bytes.len() {
        if &bytes[at + 8..at + 16] == salt {
            current += 1;
        } else {
            older += 1;
        }
        at += 24 + page_size;
    }
    (current, older)
}

/// The WAL read as a diary: for every key found in a b-tree page of a
/// frame, the index of the first frame that holds it (group commits append
/// their pages in the order they commit, so this is the order of arrival).
pub fn wal_first_seen(wal: &Path) -> HashMap<Key, usize> {
    let mut seen = HashMap::new();
    let Ok(bytes) = std::fs::read(wal) else {
        return seen;
    };
    if bytes.len() < 32 {
        return seen;
    }
    let page_size = u32::from_be_bytes(bytes[8..12].try_into().unwrap()) as usize;
    let mut at = 32;
    let mut frame = 0;
    while at + 24 + page_size <= bytes.len() {
        let page_no = u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap());
        let data = &bytes[at + 24..at + 24 + page_size];
        for key in page_keys(data, page_no == 1) {
            seen.entry(key).or_insert(frame);
        }
        at += 24 + page_size;
        frame += 1;
    }
    seen
}

/// Every key a lone b-tree page holds: rowids of table leaf cells, and the
/// first and last column of index cells (whichever identifies the row).
fn page_keys(data: &[u8], first_page: bool) -> Vec<Key> {
    let header = if first_page { 100 } else { 0 };
    let flag = data[header];
    if ![0x02, 0x0a, 0x0d].contains(&flag) {
        return Vec::new();
    }
    let cells = usize::from(u16::from_be_bytes([data[header + 3], data[header + 4]]));
    let pointers = header + if flag == 0x02 { 12 } else { 8 };
    let mut keys = Vec::new();
    for i in 0..cells {
        let at = pointers + 2 * i;
        let Some(ptr) = data.get(at..at + 2) else {
            break;
        };
        let mut p = usize::from(u16::from_be_bytes([ptr[0], ptr[1]]));
        if p >= data.len() {
            continue;
        }
        if flag == 0x02 {
            p += 4;
        }
        let (_, n) = varint(&data[p..]);
        if flag == 0x0d {
            let (rowid, _) = varint(&data[p + n..]);
            keys.push(Key::Rowid(rowid as i64));
        } else {
            for kind in [KeyKind::IndexFirst, KeyKind::IndexLast] {
                if let Some(k) = record_key(&data[p + n..], kind) {
                    keys.push(k);
                }
            }
        }
    }
    keys
}

/// Spearman's correlation between two rankings over the keys they share.
pub fn rank_correlation(a: &HashMap<Key, usize>, b: &HashMap<Key, usize>) -> Option<(f64, usize)> {
    let mut pairs: Vec<(usize, usize)> = a
        .iter()
        .filter_map(|(k, x)| b.get(k).map(|y| (*x, *y)))
        .collect();
    let n = pairs.len();
    if n < 3 {
        return None;
    }
    let rank = |values: Vec<usize>| -> Vec<f64> {
        let mut order: Vec<usize> = (0..values.len()).collect();
        order.sort_by_key(|i| values[*i]);
        let mut r = vec![0f64; values.len()];
        for (pos, i) in order.iter().enumerate() {
            r[*i] = pos as f64;
        }
        r
    };
    let ra = rank(pairs.iter().map(|p| p.0).collect());
    let rb = rank(pairs.iter().map(|p| p.1).collect());
    pairs.clear();
    let d2: f64 = ra.iter().zip(&rb).map(|(x, y)| (x - y).powi(2)).sum();
    let nf = n as f64;
    Some((1.0 - 6.0 * d2 / (nf * (nf * nf - 1.0)), n))
}

/// The sharpest reading of the pages: in each page, walk the cells from the
/// lowest offset up (the newest cells sit lowest, carved from the top of the
/// free area) and count neighbours whose arrival runs backwards. Returns the
/// z-score of that count against a random order (about 0 when nothing orders
/// the cells; large when fresh cells lie in the order they came), `None` if
/// fewer than `min` neighbour pairs.
pub fn neighbours_z(tree: &Tree, arrival: &HashMap<Key, usize>, min: usize) -> Option<f64> {
    let mut by_page: HashMap<u32, Vec<(u16, usize)>> = HashMap::new();
    for e in &tree.entries {
        if let Some(a) = arrival.get(&e.key) {
            by_page.entry(e.page).or_default().push((e.offset, *a));
        }
    }
    let (mut backwards, mut total) = (0f64, 0f64);
    for cells in by_page.values_mut() {
        cells.sort_unstable();
        for pair in cells.windows(2) {
            total += 1.0;
            if pair[0].1 > pair[1].1 {
                backwards += 1.0;
            }
        }
    }
    (total >= min as f64).then(|| (backwards - total / 2.0) / (total / 4.0).sqrt())
}

/// For every b-tree that holds at least 100 of `rowids` (in the order they
/// arrived): its name, the Spearman correlation between arrival and place,
/// Kendall's tau within pages (with 200 pairs or more) and the z-score of
/// neighbouring cells (with 50 neighbours or more).
pub fn order_correlations(
    db: &Path,
    rowids: &[i64],
) -> Vec<(String, f64, Option<f64>, Option<f64>)> {
    let ranks: HashMap<Key, usize> = rowids
        .iter()
        .enumerate()
        .map(|(rank, rowid)| (Key::Rowid(*rowid), rank))
        .collect();
    trees(db)
        .iter()
        .filter_map(|t| {
            spearman(t, &ranks, rowids.len().min(100)).map(|rho| {
                (
                    t.name.clone(),
                    rho,
                    within_pages(t, &ranks, 200),
                    neighbours_z(t, &ranks, 50),
                )
            })
        })
        .collect()
}

//! A forensic reader of a SQLite file's raw pages: for each b-tree, where
//! each row's cell physically sits (page, then offset in the page), read from
//! the bytes as an examiner would, without SQLite's help.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::collections::HashMap;
use std::path::Path;

/// The physical position of one cell: page number, then offset in the page.
pub type Position = (u32, u16);

fn varint(bytes: &[u8]) -> (i64, usize) {
    let mut value: u64 = 0;
    for (i, &b) in bytes.iter().take(9).enumerate() {
        if i == 8 {
            return (((value << 8) | u64::from(b)) as i64, 9);
        }
        value = (value << 7) | u64::from(b & 0x7f);
        if b & 0x80 == 0 {
            return (value as i64, i + 1);
        }
    }
    unreachable!()
}

/// The last value of a record, read as an integer (an index entry's rowid).
fn last_integer(record: &[u8]) -> i64 {
    let (header_len, mut at) = varint(record);
    let mut types = Vec::new();
    while at < header_len as usize {
        let (t, n) = varint(&record[at..]);
        types.push(t);
        at += n;
    }
    let mut body = header_len as usize;
    let size = |t: i64| -> usize {
        match t {
            0 | 8 | 9 => 0,
            1 => 1,
            2 => 2,
            3 => 3,
            4 => 4,
            5 => 6,
            6 | 7 => 8,
            t if t >= 12 => ((t - 12) / 2) as usize,
            _ => panic!("reserved serial type {t}"),
        }
    };
    for &t in &types[..types.len() - 1] {
        body += size(t);
    }
    let t = *types.last().unwrap();
    let bytes = &record[body..body + size(t)];
    match t {
        8 => 0,
        9 => 1,
        1..=6 => {
            let mut v: i64 = if bytes[0] & 0x80 != 0 { -1 } else { 0 };
            for b in bytes {
                v = (v << 8) | i64::from(*b);
            }
            v
        }
        _ => panic!("the last column of an index entry is not a rowid (type {t})"),
    }
}

/// The raw file, split into pages.
pub struct File {
    bytes: Vec<u8>,
    page_size: usize,
}

impl File {
    pub fn read(path: &Path) -> Self {
        let bytes = std::fs::read(path).unwrap();
        assert!(bytes.starts_with(b"SQLite format 3\0"), "not a SQLite file");
        let raw = u16::from_be_bytes([bytes[16], bytes[17]]) as usize;
        let page_size = if raw == 1 { 65536 } else { raw };
        Self { bytes, page_size }
    }

    fn page(&self, number: u32) -> &[u8] {
        let start = (number as usize - 1) * self.page_size;
        &self.bytes[start..start + self.page_size]
    }

    /// The positions of every cell in the b-tree at `root`, keyed by the rowid
    /// it stands for (its own for a table, the entry's last column for an
    /// index on a rowid table).
    pub fn positions(&self, root: u32) -> HashMap<i64, Position> {
        let mut out = HashMap::new();
        self.walk(root, &mut out);
        out
    }

    fn walk(&self, number: u32, out: &mut HashMap<i64, Position>) {
        let page = self.page(number);
        let head = if number == 1 { 100 } else { 0 };
        let kind = page[head];
        let cells = u16::from_be_bytes([page[head + 3], page[head + 4]]) as usize;
        let interior = kind == 0x02 || kind == 0x05;
        let pointers = head + if interior { 12 } else { 8 };
        let usable = self.page_size - self.bytes[20] as usize;
        for i in 0..cells {
            let at = pointers + 2 * i;
            let offset = u16::from_be_bytes([page[at], page[at + 1]]);
            let cell = &page[offset as usize..];
            match kind {
                0x0d => {
                    let (_, n) = varint(cell);
                    let (rowid, _) = varint(&cell[n..]);
                    out.insert(rowid, (number, offset));
                }
                0x05 => {
                    let child = u32::from_be_bytes([cell[0], cell[1], cell[2], cell[3]]);
                    self.walk(child, out);
                }
                0x0a | 0x02 => {
                    let skip = if kind == 0x02 { 4 } else { 0 };
                    if kind == 0x02 {
                        let child = u32::from_be_bytes([cell[0], cell[1], cell[2], cell[3]]);
                        self.walk(child, out);
                    }
                    let (len, n) = varint(&cell[skip..]);
                    let len = len as usize;
                    assert!(len <= usable - 35, "an index entry that overflows");
                    let record = &cell[skip + n..skip + n + len];
                    out.insert(last_integer(record), (number, offset));
                }
                other => panic!("page {number} has an unknown b-tree kind {other:#x}"),
            }
        }
        if interior {
            let right = u32::from_be_bytes([
                page[head + 8],
                page[head + 9],
                page[head + 10],
                page[head + 11],
            ]);
            self.walk(right, out);
        }
    }
}

/// Spearman's rank correlation between two sequences of distinct keys.
pub fn spearman<A: PartialOrd + Copy, B: PartialOrd + Copy>(pairs: &[(A, B)]) -> f64 {
    fn ranks<T: PartialOrd + Copy>(values: &[T]) -> Vec<f64> {
        let mut order: Vec<usize> = (0..values.len()).collect();
        order.sort_by(|&a, &b| values[a].partial_cmp(&values[b]).unwrap());
        let mut rank = vec![0.0; values.len()];
        for (r, &i) in order.iter().enumerate() {
            rank[i] = r as f64;
        }
        rank
    }
    let a = ranks(&pairs.iter().map(|p| p.0).collect::<Vec<_>>());
    let b = ranks(&pairs.iter().map(|p| p.1).collect::<Vec<_>>());
    let n = pairs.len() as f64;
    let d2: f64 = a.iter().zip(&b).map(|(x, y)| (x - y) * (x - y)).sum();
    1.0 - 6.0 * d2 / (n * (n * n - 1.0))
}

/// For every b-tree of the `signals` table (the table and each index): the
/// Spearman correlation between the order in which `arrivals` (rowids, in
/// arrival order) arrived and where their cells sit in the file (page, then
/// offset), and the same within pages.
pub fn order_correlations(path: &Path, arrivals: &[i64]) -> Vec<(String, f64, f64)> {
    let conn =
        rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    let trees: Vec<(String, u32)> = conn
        .prepare(
            "SELECT name, rootpage FROM sqlite_master
             WHERE tbl_name = 'signals' AND rootpage > 0",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    drop(conn);
    let file = File::read(path);
    let mut out = Vec::new();
    for (name, root) in trees {
        let positions = file.positions(root);
        let pairs: Vec<(usize, Position)> = arrivals
            .iter()
            .enumerate()
            .filter_map(|(rank, rowid)| positions.get(rowid).map(|p| (rank, *p)))
            .collect();
        if pairs.len() < arrivals.len() / 2 {
            // A partial index that holds few of them (e.g. by domain) says little.
            continue;
        }
        let within = within_page_correlation(&positions, arrivals);
        out.push((name, spearman(&pairs), within));
    }
    out
}

/// Within each page of at least five of them, the Spearman correlation
/// between arrival and cell offset (SQLite carves new cells from the top of a
/// page's content area, so a page that was only appended to tells the order
/// exactly); the mean over pages, weighted by their number of cells.
pub fn within_page_correlation(positions: &HashMap<i64, Position>, arrivals: &[i64]) -> f64 {
    let mut by_page: HashMap<u32, Vec<(usize, u16)>> = HashMap::new();
    for (rank, rowid) in arrivals.iter().enumerate() {
        if let Some((page, offset)) = positions.get(rowid) {
            by_page.entry(*page).or_default().push((rank, *offset));
        }
    }
    let (mut sum, mut count) = (0.0, 0usize);
    for cells in by_page.values().filter(|c| c.len() >= 5) {
        sum += spearman(cells) * cells.len() as f64;
        count += cells.len();
    }
    if count == 0 { 0.0 } else { sum / count as f64 }
}

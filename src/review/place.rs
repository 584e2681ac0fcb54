//! Where a signal's page was opened from: the queue's filter and order and
//! the signal's position in it, carried in the page's address and forms, so
//! "previous", "next" and "save and next" walk the same list and "back to the
//! queue" returns to it.
//!
//! Invariant: the place is read back through the queue's own parser, so it
//! holds only values the queue accepts; it names no signal content.

use super::queue::{parse_filter, query_of, sender_choices};
use super::session::Reviewer;
use super::{ReviewError, ReviewState};
use crate::store::queue::{PER_PAGE, QueueFilter};

/// A place in the queue.
#[derive(Debug, Clone)]
pub struct Place {
    /// The queue's filter and order (page 1).
    pub filter: QueueFilter,
    /// The position in it, from 0.
    pub pos: u64,
}

/// The signals before and after one, with their positions.
#[derive(Debug, Default)]
pub struct Neighbours {
    /// The one before.
    pub prev: Option<(String, u64)>,
    /// The one after.
    pub next: Option<(String, u64)>,
}

impl Place {
    /// Reads `from` and `pos` (from a query string or a form).
    pub fn read(from: &str, pos: &str, reviewer: &str) -> Option<Self> {
        let pos: u64 = pos.trim().parse().ok()?;
        (pos < 10_000_000).then_some(())?;
        let filter = parse_filter(Some(from), reviewer).filter;
        Some(Self { filter, pos })
    }

    /// The queue's query (page 1), as `from` carries it.
    pub fn from(&self) -> String {
        query_of(&self.filter, 1)
    }

    /// `from=…&pos=…` for the signal at `pos` in this queue.
    pub fn query_at(&self, pos: u64) -> String {
        let mut q = form_urlencoded::Serializer::new(String::new());
        q.append_pair("from", &self.from());
        q.append_pair("pos", &pos.to_string());
        q.finish()
    }

    /// The queue's page that holds this position.
    pub fn queue_href(&self) -> String {
        let page = u32::try_from(self.pos / u64::from(PER_PAGE) + 1).unwrap_or(1);
        format!("/?{}", query_of(&self.filter, page))
    }

    /// The signals before and after `id` in this queue, as it is now: if
    /// `id` has left the list (a triage moved it out of the filter), the one
    /// now at its position comes next.
    pub async fn neighbours(
        &self,
        state: &ReviewState,
        reviewer: &Reviewer,
        id: &str,
    ) -> Result<Neighbours, ReviewError> {
        let mut filter = self.filter.clone();
        sender_choices(state, reviewer, &mut filter).await?;
        let start = self.pos.saturating_sub(1);
        let window = state.store.queue_ids(filter, start, 3).await?;
        let at = |k: usize, n: &Vec<String>| n.get(k).map(|i| (i.clone(), start + k as u64));
        let mine = usize::try_from(self.pos - start).unwrap_or(0);
        Ok(match window.iter().position(|w| w == id) {
            Some(k) => Neighbours {
                prev: k.checked_sub(1).and_then(|p| at(p, &window)),
                next: at(k + 1, &window),
            },
            None => Neighbours {
                prev: mine.checked_sub(1).and_then(|p| at(p, &window)),
                next: at(mine, &window),
            },
        })
    }
}

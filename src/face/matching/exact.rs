//! The reference search: every encoding of every user, compared with the query.
//!
//! All encodings sit in one contiguous `Vec<f32>`, 128 per row, so the scan streams memory
//! front to back and the distance loop vectorises; at 100k encodings that is 51 MB read per
//! search (docs/benchmarks.md has the timings). [`super::EncodingIndex`] is what the app uses;
//! this stays as the yardstick its tests and benches compare it with.

use std::hash::Hash;

use super::{Match, Nearest, Roster};
use crate::face::encoding::{ENCODING_LEN, Encoding};

/// Users and their encodings (one or more each), searched by brute force.
#[derive(Debug, Clone)]
pub struct ExactIndex<Id> {
    /// `ENCODING_LEN` numbers per row, rows back to back.
    rows: Vec<f32>,
    /// For each row, the slot of the user it belongs to.
    row_user: Vec<u32>,
    roster: Roster<Id>,
}

impl<Id> Default for ExactIndex<Id> {
    fn default() -> Self {
        Self {
            rows: Vec::new(),
            row_user: Vec::new(),
            roster: Roster::default(),
        }
    }
}

impl<Id: Clone + Eq + Hash> ExactIndex<Id> {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds encodings for `id`; a user already present keeps the old ones too.
    pub fn add(&mut self, id: Id, encodings: &[Encoding]) {
        if encodings.is_empty() {
            return;
        }
        let (slot, _) = self.roster.enrol(id);
        self.rows.reserve(encodings.len() * ENCODING_LEN);
        for encoding in encodings {
            self.rows.extend_from_slice(&encoding.0);
            self.row_user.push(slot);
        }
    }

    /// Removes a user and all their encodings; `false` when the id was not there.
    pub fn remove(&mut self, id: &Id) -> bool {
        let Some((slot, moved)) = self.roster.remove(id) else {
            return false;
        };
        // Compact the rows in place, keeping their order.
        let mut kept = 0;
        for row in 0..self.row_user.len() {
            if self.row_user[row] != slot {
                if kept != row {
                    self.rows
                        .copy_within(row * ENCODING_LEN..(row + 1) * ENCODING_LEN, kept * ENCODING_LEN);
                    self.row_user[kept] = self.row_user[row];
                }
                kept += 1;
            }
        }
        self.rows.truncate(kept * ENCODING_LEN);
        self.row_user.truncate(kept);
        if let Some(last) = moved {
            for owner in self.row_user.iter_mut().filter(|owner| **owner == last) {
                *owner = slot;
            }
        }
        true
    }

    /// Number of users.
    pub fn len(&self) -> usize {
        self.roster.len()
    }

    pub fn is_empty(&self) -> bool {
        self.roster.len() == 0
    }

    /// Number of encodings, all users together.
    pub fn encoding_count(&self) -> usize {
        self.row_user.len()
    }

    pub fn contains(&self, id: &Id) -> bool {
        self.roster.contains(id)
    }

    /// The user with the closest encoding, and the distance to the closest other user.
    /// `None` when the index is empty. Applies no threshold: see [`Match::within`].
    pub fn best_match(&self, query: &Encoding) -> Option<Match<Id>> {
        let mut nearest = Nearest::default();
        nearest.scan(&self.rows, &self.row_user, &query.0);
        nearest.into_match(&self.roster.users)
    }
}

//! 1:N search: which enrolled user is closest to a new encoding, and how close is the next one.
//!
//! Exact search by brute force. All encodings sit in one contiguous `Vec<f32>`, 128 per row, so
//! the scan streams memory front to back and the distance loop vectorises; at 100k encodings
//! that is 51 MB read per search (docs/benchmarks.md has the timings).

use std::collections::HashMap;
use std::hash::Hash;

use super::encoding::{ENCODING_LEN, Encoding, squared_distance};

/// The closest user to a query.
#[derive(Debug, Clone, PartialEq)]
pub struct Match<Id> {
    pub id: Id,
    /// Distance to this user's closest encoding.
    pub distance: f32,
    /// Distance to the closest encoding of any *other* user; `None` with a single user.
    /// A small gap to `distance` means the face is ambiguous between two people.
    pub runner_up: Option<f32>,
    /// Who the runner-up is.
    pub runner_up_id: Option<Id>,
}

impl<Id> Match<Id> {
    /// Whether the best user is close enough to count as the same person.
    pub fn within(&self, threshold: f32) -> bool {
        self.distance <= threshold
    }
}

/// Users and their encodings (one or more each), searchable by distance.
#[derive(Debug, Clone)]
pub struct EncodingIndex<Id> {
    /// `ENCODING_LEN` numbers per row, rows back to back.
    rows: Vec<f32>,
    /// For each row, the slot of the user it belongs to.
    row_user: Vec<u32>,
    /// Slot → user id.
    users: Vec<Id>,
    /// User id → slot.
    slots: HashMap<Id, u32>,
}

impl<Id> Default for EncodingIndex<Id> {
    fn default() -> Self {
        Self {
            rows: Vec::new(),
            row_user: Vec::new(),
            users: Vec::new(),
            slots: HashMap::new(),
        }
    }
}

impl<Id: Clone + Eq + Hash> EncodingIndex<Id> {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds encodings for `id`; a user already present keeps the old ones too.
    pub fn add(&mut self, id: Id, encodings: &[Encoding]) {
        if encodings.is_empty() {
            return;
        }
        let slot = match self.slots.get(&id) {
            Some(&slot) => slot,
            None => {
                let slot = slot_number(self.users.len());
                self.users.push(id.clone());
                self.slots.insert(id, slot);
                slot
            }
        };
        self.rows.reserve(encodings.len() * ENCODING_LEN);
        for encoding in encodings {
            self.rows.extend_from_slice(&encoding.0);
            self.row_user.push(slot);
        }
    }

    /// Removes a user and all their encodings; `false` when the id was not there.
    pub fn remove(&mut self, id: &Id) -> bool {
        let Some(slot) = self.slots.remove(id) else {
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
        // The last user moves into the freed slot.
        let last = slot_number(self.users.len() - 1);
        self.users.swap_remove(slot as usize);
        if slot != last {
            for owner in self.row_user.iter_mut().filter(|owner| **owner == last) {
                *owner = slot;
            }
            self.slots.insert(self.users[slot as usize].clone(), slot);
        }
        true
    }

    /// Number of users.
    pub fn len(&self) -> usize {
        self.users.len()
    }

    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }

    /// Number of encodings, all users together.
    pub fn encoding_count(&self) -> usize {
        self.row_user.len()
    }

    pub fn contains(&self, id: &Id) -> bool {
        self.slots.contains_key(id)
    }

    /// The user with the closest encoding, and the distance to the closest other user.
    /// `None` when the index is empty. Applies no threshold: see [`Match::within`].
    pub fn best_match(&self, query: &Encoding) -> Option<Match<Id>> {
        // Invariants over the rows seen so far: `best` is the minimum over `best_user`'s rows,
        // `runner_up` the minimum over every other user's rows (squared distances).
        let mut best = f32::INFINITY;
        let mut best_user = u32::MAX;
        let mut runner_up = f32::INFINITY;
        let mut runner_up_user = u32::MAX;
        for (row, &user) in self.rows.chunks_exact(ENCODING_LEN).zip(&self.row_user) {
            let Ok(row) = <&[f32; ENCODING_LEN]>::try_from(row) else {
                continue;
            };
            let distance = squared_distance(row, &query.0);
            if distance >= runner_up {
                continue; // the common case: neither the best nor the runner-up
            }
            if user == best_user {
                best = best.min(distance);
            } else if distance < best {
                runner_up = best;
                runner_up_user = best_user;
                best = distance;
                best_user = user;
            } else {
                runner_up = distance;
                runner_up_user = user;
            }
        }
        let id = self.users.get(best_user as usize)?.clone();
        Some(Match {
            id,
            distance: best.sqrt(),
            runner_up: runner_up.is_finite().then(|| runner_up.sqrt()),
            runner_up_id: self.users.get(runner_up_user as usize).cloned(),
        })
    }
}

/// Slots are `u32` to keep `row_user` small; four billion users is beyond this design anyway.
fn slot_number(index: usize) -> u32 {
    u32::try_from(index).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(x: f32) -> Encoding {
        Encoding::at(x)
    }

    #[test]
    fn empty_index_has_no_match() {
        let index = EncodingIndex::<u32>::new();
        assert!(index.best_match(&at(0.0)).is_none());
        assert!(index.is_empty());
    }

    #[test]
    fn best_and_runner_up_are_different_users() {
        let mut index = EncodingIndex::new();
        index.add("ann", &[at(1.0), at(0.1)]);
        index.add("bob", &[at(0.5)]);
        index.add("cid", &[at(3.0)]);
        assert_eq!((index.len(), index.encoding_count()), (3, 4));
        let found = index.best_match(&at(0.0)).expect("a match");
        assert_eq!(found.id, "ann");
        assert!((found.distance - 0.1).abs() < 1e-6);
        // ann's second encoding (1.0) is not a runner-up: bob (0.5) is.
        assert!((found.runner_up.expect("runner-up") - 0.5).abs() < 1e-6);
        assert!(found.within(0.6));
        assert!(!found.within(0.05));
    }

    #[test]
    fn runner_up_when_the_best_user_is_found_late() {
        let mut index = EncodingIndex::new();
        index.add(1, &[at(0.9)]);
        index.add(2, &[at(0.7)]);
        index.add(3, &[at(0.2), at(0.25)]);
        let found = index.best_match(&at(0.0)).expect("a match");
        assert_eq!(found.id, 3);
        assert!((found.runner_up.expect("runner-up") - 0.7).abs() < 1e-6);
    }

    #[test]
    fn single_user_has_no_runner_up() {
        let mut index = EncodingIndex::new();
        index.add(7, &[at(0.3), at(0.4)]);
        let found = index.best_match(&at(0.0)).expect("a match");
        assert_eq!((found.id, found.runner_up), (7, None));
    }

    #[test]
    fn add_extends_and_remove_compacts() {
        let mut index = EncodingIndex::new();
        index.add("a", &[at(1.0)]);
        index.add("b", &[at(2.0)]);
        index.add("c", &[at(3.0)]);
        index.add("a", &[at(1.5)]);
        assert_eq!((index.len(), index.encoding_count()), (3, 4));
        assert!(index.remove(&"a"));
        assert!(!index.remove(&"a"));
        assert_eq!((index.len(), index.encoding_count()), (2, 2));
        assert!(!index.contains(&"a"));
        // "c" moved into a's slot: it must still be found under its own id.
        assert_eq!(index.best_match(&at(2.9)).expect("match").id, "c");
        assert_eq!(index.best_match(&at(1.0)).expect("match").id, "b");
        assert!(index.remove(&"c"));
        assert!(index.remove(&"b"));
        assert!(index.best_match(&at(0.0)).is_none());
    }

    #[test]
    fn agrees_with_a_naive_search() {
        // Deterministic pseudo-random encodings, several per user.
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 40) as f32 / (1u64 << 24) as f32 - 0.5
        };
        let mut index = EncodingIndex::new();
        let mut all = Vec::new();
        for user in 0..50u32 {
            let encodings: Vec<Encoding> = (0..1 + user % 3)
                .map(|_| Encoding(std::array::from_fn(|_| next() * 0.2)))
                .collect();
            index.add(user, &encodings);
            all.extend(encodings.into_iter().map(|e| (user, e)));
        }
        for _ in 0..20 {
            let query = Encoding(std::array::from_fn(|_| next() * 0.2));
            let found = index.best_match(&query).expect("a match");
            let (best_user, best) = all
                .iter()
                .map(|(user, e)| (*user, e.distance(&query)))
                .min_by(|a, b| a.1.total_cmp(&b.1))
                .expect("non-empty");
            let runner_up = all
                .iter()
                .filter(|(user, _)| *user != best_user)
                .map(|(_, e)| e.distance(&query))
                .min_by(f32::total_cmp);
            assert_eq!(found.id, best_user);
            assert!((found.distance - best).abs() < 1e-5);
            assert!((found.runner_up.expect("runner-up") - runner_up.expect("others")).abs() < 1e-5);
        }
    }
}

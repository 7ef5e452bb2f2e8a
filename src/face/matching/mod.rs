//! 1:N search: which enrolled user is closest to a new encoding, and how close is the next one.
//!
//! [`EncodingIndex`] (`cells`) is what the gallery uses: exact up to 32k encodings, then an
//! index of cells that reads a few percent of the rows per search. [`ExactIndex`] (`exact`)
//! scans every row and is the reference the tests and benches hold the index to. `synthetic`
//! draws seeded galleries for both (docs/benchmarks.md, "Gallery at a million").

mod cells;
// The reference scan and the synthetic galleries serve tests and benches only: they are not in
// the shipped binary (feature `test-support`).
#[cfg(any(test, feature = "test-support"))]
mod exact;
#[cfg(any(test, feature = "test-support"))]
pub mod synthetic;

pub use cells::{CellParams, EncodingIndex};
#[cfg(any(test, feature = "test-support"))]
pub use exact::ExactIndex;

use std::collections::HashMap;
use std::hash::Hash;

use super::encoding::{ENCODING_LEN, squared_distance};

/// The closest user to a query.
#[derive(Debug, Clone, PartialEq)]
pub struct Match<Id> {
    pub id: Id,
    /// Distance to this user's closest encoding.
    pub(crate) distance: f32,
    /// Distance to the closest encoding of any *other* user; `None` with a single user.
    /// A small gap to `distance` means the face is ambiguous between two people.
    pub(crate) runner_up: Option<f32>,
    /// Who the runner-up is.
    pub(crate) runner_up_id: Option<Id>,
}

impl<Id> Match<Id> {
    /// Whether the best user is close enough to count as the same person.
    pub fn within(&self, threshold: f32) -> bool {
        self.distance <= threshold
    }
}

/// The best user and the runner-up over the rows scanned so far (squared distances).
/// Invariants: `best` is the minimum over `best_user`'s rows, `runner_up` the minimum over every
/// other user's rows.
#[derive(Debug, Clone, Copy)]
struct Nearest {
    best: f32,
    best_user: u32,
    runner_up: f32,
    runner_up_user: u32,
}

impl Default for Nearest {
    fn default() -> Self {
        Self {
            best: f32::INFINITY,
            best_user: u32::MAX,
            runner_up: f32::INFINITY,
            runner_up_user: u32::MAX,
        }
    }
}

impl Nearest {
    /// Folds in `rows` (`ENCODING_LEN` numbers each) owned by the slots in `owners`.
    fn scan(&mut self, rows: &[f32], owners: &[u32], query: &[f32; ENCODING_LEN]) {
        for_each_distance(rows, query, |row, distance| {
            if distance >= self.runner_up {
                return; // the common case: neither the best nor the runner-up
            }
            let user = owners.get(row).copied().unwrap_or(u32::MAX);
            if user == self.best_user {
                self.best = self.best.min(distance);
            } else if distance < self.best {
                self.runner_up = self.best;
                self.runner_up_user = self.best_user;
                self.best = distance;
                self.best_user = user;
            } else {
                self.runner_up = distance;
                self.runner_up_user = user;
            }
        });
    }

    fn into_match<Id: Clone>(self, users: &[Id]) -> Option<Match<Id>> {
        let id = users.get(self.best_user as usize)?.clone();
        Some(Match {
            id,
            distance: self.best.sqrt(),
            runner_up: self.runner_up.is_finite().then(|| self.runner_up.sqrt()),
            runner_up_id: users.get(self.runner_up_user as usize).cloned(),
        })
    }
}

/// Calls `f(i, squared distance)` for each row of `rows` (`ENCODING_LEN` numbers each), in order.
/// Compiled twice: for any x86-64, and with AVX2 when the CPU has it, which doubles the width of
/// the vectorised distance loop (the centroid step of an insert is bound by arithmetic, not by
/// memory).
#[inline]
fn for_each_distance(rows: &[f32], query: &[f32; ENCODING_LEN], f: impl FnMut(usize, f32)) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2, checked just above.
        return unsafe { for_each_distance_avx2(rows, query, f) };
    }
    for_each_distance_portable(rows, query, f)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn for_each_distance_avx2(rows: &[f32], query: &[f32; ENCODING_LEN], f: impl FnMut(usize, f32)) {
    for_each_distance_portable(rows, query, f)
}

#[inline(always)]
fn for_each_distance_portable(rows: &[f32], query: &[f32; ENCODING_LEN], mut f: impl FnMut(usize, f32)) {
    for (i, row) in rows.chunks_exact(ENCODING_LEN).enumerate() {
        if let Ok(row) = <&[f32; ENCODING_LEN]>::try_from(row) {
            f(i, squared_distance(row, query));
        }
    }
}

/// Who is enrolled: each user's id and the slot number their rows carry (`u32`, to keep the
/// per-row owner small). Slots stay dense: a removed user's slot goes to the last user.
#[derive(Debug, Clone)]
struct Roster<Id> {
    /// Slot → user id.
    users: Vec<Id>,
    /// User id → slot.
    slots: HashMap<Id, u32>,
}

impl<Id> Default for Roster<Id> {
    fn default() -> Self {
        Self {
            users: Vec::new(),
            slots: HashMap::new(),
        }
    }
}

impl<Id: Clone + Eq + Hash> Roster<Id> {
    /// The slot of `id`, given a new one if needed (then `true`).
    fn enrol(&mut self, id: Id) -> (u32, bool) {
        if let Some(&slot) = self.slots.get(&id) {
            return (slot, false);
        }
        let slot = slot_number(self.users.len());
        self.users.push(id.clone());
        self.slots.insert(id, slot);
        (slot, true)
    }

    /// Frees `id`'s slot: `(its slot, the slot of the user who moved into it)`, the second
    /// `None` when `id` was the last. The caller renumbers that user's rows.
    fn remove(&mut self, id: &Id) -> Option<(u32, Option<u32>)> {
        let slot = self.slots.remove(id)?;
        let last = slot_number(self.users.len() - 1);
        self.users.swap_remove(slot as usize);
        if slot == last {
            return Some((slot, None));
        }
        self.slots.insert(self.users[slot as usize].clone(), slot);
        Some((slot, Some(last)))
    }

    fn len(&self) -> usize {
        self.users.len()
    }

    fn contains(&self, id: &Id) -> bool {
        self.slots.contains_key(id)
    }
}

/// Slots are `u32` to keep the per-row owner small; four billion users is beyond this design.
fn slot_number(index: usize) -> u32 {
    u32::try_from(index).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::face::encoding::Encoding;

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

    use synthetic::{Decision, Model, Rng};

    /// A seeded synthetic gallery: `users` people with `per_user` photos each, and their centres.
    fn drawn(
        users: u32,
        per_user: usize,
        model: &Model,
        rng: &mut Rng,
    ) -> Vec<(u32, Vec<Encoding>, Encoding)> {
        (0..users)
            .map(|user| {
                let centre = model.person(rng);
                let photos = (0..per_user).map(|_| model.photo(&centre, rng)).collect();
                (user, photos, centre)
            })
            .collect()
    }

    fn assert_same(found: Option<Match<u32>>, reference: Option<Match<u32>>) {
        match (found, reference) {
            (None, None) => {}
            (Some(a), Some(b)) => {
                assert_eq!(a.id, b.id);
                assert!((a.distance - b.distance).abs() < 1e-5, "{a:?} vs {b:?}");
                match (a.runner_up, b.runner_up) {
                    (Some(x), Some(y)) => assert!((x - y).abs() < 1e-5, "{a:?} vs {b:?}"),
                    (x, y) => assert_eq!(x, y),
                }
            }
            (a, b) => panic!("{a:?} vs {b:?}"),
        }
    }

    #[test]
    fn small_gallery_is_exact_across_many_cells() {
        // Tiny cells so that the rows are split many times, yet below `exact_below` every cell
        // is scanned: the answers must be the exact scan's, runner-up included.
        let params = CellParams {
            max_cell_rows: 16,
            probe_cells: 1,
            exact_below: usize::MAX,
        };
        let model = Model::isotropic(0.8, 0.4);
        let mut rng = Rng::new(1);
        let (mut index, mut exact) = (EncodingIndex::with_params(params), ExactIndex::new());
        for (user, photos, _) in drawn(300, 3, &model, &mut rng) {
            index.add(user, &photos);
            exact.add(user, &photos);
        }
        assert!(index.cell_count() > 30, "{} cells", index.cell_count());
        assert_eq!(index.encoding_count(), 900);
        for _ in 0..50 {
            let query = model.photo(&model.person(&mut rng), &mut rng);
            assert_same(index.best_match(&query), exact.best_match(&query));
        }
    }

    #[test]
    fn inserts_and_deletes_keep_every_row_findable() {
        // Interleaved adds (new users and more photos of old ones) and removals, with cells small
        // enough to split and to empty out; after each step the index must hold exactly the
        // exact scan's rows and give its answers.
        let params = CellParams {
            max_cell_rows: 8,
            probe_cells: 1,
            exact_below: usize::MAX,
        };
        let model = Model::isotropic(0.8, 0.4);
        let mut rng = Rng::new(2);
        let (mut index, mut exact) = (EncodingIndex::with_params(params), ExactIndex::new());
        let mut present: Vec<u32> = Vec::new();
        let mut centres = std::collections::HashMap::new();
        for step in 0..600u32 {
            match rng.below(4) {
                0 | 1 => {
                    let centre = model.person(&mut rng);
                    let photos: Vec<Encoding> = (0..1 + rng.below(3))
                        .map(|_| model.photo(&centre, &mut rng))
                        .collect();
                    index.add(step, &photos);
                    exact.add(step, &photos);
                    centres.insert(step, centre);
                    present.push(step);
                }
                2 if !present.is_empty() => {
                    let user = present[rng.below(present.len())];
                    let photo = model.photo(&centres[&user], &mut rng);
                    index.add(user, std::slice::from_ref(&photo));
                    exact.add(user, &[photo]);
                }
                _ if !present.is_empty() => {
                    let user = present.swap_remove(rng.below(present.len()));
                    assert!(index.remove(&user));
                    assert!(exact.remove(&user));
                    assert!(!index.remove(&user));
                }
                _ => {}
            }
            assert_eq!(
                (index.len(), index.encoding_count()),
                (exact.len(), exact.encoding_count())
            );
            // A few users' own new photos must find them, whichever cell their rows sit in.
            for _ in 0..present.len().min(4) {
                let user = present[rng.below(present.len())];
                assert!(index.contains(&user));
                let photo = model.photo(&centres[&user], &mut rng);
                assert_same(index.best_match(&photo), exact.best_match(&photo));
            }
        }
        for user in &present {
            let photo = model.photo(&centres[user], &mut rng);
            assert_same(index.best_match(&photo), exact.best_match(&photo));
        }
        assert!(index.cell_count() > 1);
        for user in present.clone() {
            assert!(index.remove(&user));
        }
        assert!(index.is_empty());
        assert_eq!((index.encoding_count(), index.cell_count()), (0, 0));
        assert!(index.best_match(&at(0.0)).is_none());
    }

    /// Per query kind, how often the index makes the exact scan's decision (threshold 0.6,
    /// margin 0.05) about a gallery of 6,000 encodings in cells of at most 64.
    fn agreement(probe_cells: usize) -> (f64, f64) {
        let params = CellParams {
            max_cell_rows: 64,
            probe_cells,
            exact_below: 0,
        };
        let model = Model::isotropic(0.8, 0.4);
        let mut rng = Rng::new(3);
        let (mut index, mut exact) = (EncodingIndex::with_params(params), ExactIndex::new());
        let gallery = drawn(1200, 5, &model, &mut rng);
        for (user, photos, _) in &gallery {
            index.add(*user, photos);
            exact.add(*user, photos);
        }
        let decide = |found: Option<Match<u32>>| Decision::of(found.as_ref(), 0.6, 0.05);
        let (mut genuine, mut impostor) = (0, 0);
        const QUERIES: usize = 200;
        for _ in 0..QUERIES {
            let (_, _, centre) = &gallery[rng.below(gallery.len())];
            let query = model.photo(centre, &mut rng);
            genuine +=
                usize::from(decide(index.best_match(&query)).agrees_with(&decide(exact.best_match(&query))));
            let query = model.photo(&model.person(&mut rng), &mut rng);
            impostor +=
                usize::from(decide(index.best_match(&query)).agrees_with(&decide(exact.best_match(&query))));
        }
        (genuine as f64 / QUERIES as f64, impostor as f64 / QUERIES as f64)
    }

    #[test]
    fn index_path_makes_the_exact_decisions() {
        // A fifth of the cells probed, as at 100k encodings with the default parameters.
        let (genuine, impostor) = agreement(24);
        assert!(genuine >= 0.995, "genuine agreement {genuine}");
        assert!(impostor >= 0.95, "impostor agreement {impostor}");
    }

    #[test]
    fn agreement_check_catches_a_weak_index() {
        // The same check with a single cell probed must see disagreements, or the test above
        // proves nothing.
        let (genuine, impostor) = agreement(1);
        assert!(genuine < 0.995 || impostor < 0.95, "{genuine} {impostor}");
    }
}

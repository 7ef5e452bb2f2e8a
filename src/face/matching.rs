//! Face encodings and the exact 1:N search over them.

/// Length of a dlib face encoding.
pub const ENCODING_LEN: usize = 128;

/// A 128-number dlib face encoding. dlib computes it in `f32`, so `f32` is exact.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Encoding(pub [f32; ENCODING_LEN]);

impl Encoding {
    pub fn from_slice(values: &[f32]) -> Option<Self> {
        values.try_into().ok().map(Self)
    }

    pub fn from_f64(values: &[f64]) -> Option<Self> {
        if values.len() != ENCODING_LEN {
            return None;
        }
        let mut out = [0f32; ENCODING_LEN];
        for (o, v) in out.iter_mut().zip(values) {
            *o = *v as f32;
        }
        Some(Self(out))
    }

    pub fn as_slice(&self) -> &[f32] {
        &self.0
    }

    /// Euclidean distance; below ~0.6 dlib considers two encodings the same person.
    pub fn distance(&self, other: &Encoding) -> f32 {
        squared_distance(&self.0, &other.0).sqrt()
    }
}

/// Written with eight independent sums so the compiler vectorises it (a single running float sum
/// may not be reordered, and would not be).
#[inline]
fn squared_distance(a: &[f32; ENCODING_LEN], b: &[f32]) -> f32 {
    let mut sums = [0f32; 8];
    for (a, b) in a.chunks_exact(8).zip(b.chunks_exact(8)) {
        for k in 0..8 {
            let d = a[k] - b[k];
            sums[k] += d * d;
        }
    }
    sums.iter().sum()
}

/// The closest enrolled identity to a probe.
#[derive(Clone, Debug, PartialEq)]
pub struct Match<Id> {
    pub id: Id,
    pub distance: f32,
    /// Distance to the closest *other* identity, when there is one: a small margin between the
    /// two means the probe is ambiguous.
    pub runner_up: Option<f32>,
}

/// Every enrolled encoding, one contiguous row of 128 `f32` each, with the identity owning it.
/// Exact search: a linear scan, ~3 ms per 100k rows on one core.
#[derive(Clone, Debug)]
pub struct EncodingIndex<Id> {
    owners: Vec<Id>,
    rows: Vec<f32>,
}

impl<Id> Default for EncodingIndex<Id> {
    fn default() -> Self {
        Self {
            owners: Vec::new(),
            rows: Vec::new(),
        }
    }
}

impl<Id: Clone + PartialEq> EncodingIndex<Id> {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with_capacity(rows: usize) -> Self {
        Self {
            owners: Vec::with_capacity(rows),
            rows: Vec::with_capacity(rows * ENCODING_LEN),
        }
    }

    pub fn add(&mut self, id: Id, encodings: &[Encoding]) {
        for encoding in encodings {
            self.owners.push(id.clone());
            self.rows.extend_from_slice(&encoding.0);
        }
    }

    /// Removes every encoding of `id`. O(rows); registrations and deletions are rare next to logins.
    pub fn remove(&mut self, id: &Id) {
        let mut keep = 0;
        for row in 0..self.owners.len() {
            if self.owners[row] != *id {
                self.owners.swap(keep, row);
                self.rows
                    .copy_within(row * ENCODING_LEN..(row + 1) * ENCODING_LEN, keep * ENCODING_LEN);
                keep += 1;
            }
        }
        self.owners.truncate(keep);
        self.rows.truncate(keep * ENCODING_LEN);
    }

    /// Number of encodings (rows), not of identities.
    pub fn len(&self) -> usize {
        self.owners.len()
    }

    pub fn is_empty(&self) -> bool {
        self.owners.is_empty()
    }

    /// The closest identity and the distance to the runner-up identity, in one pass.
    pub fn best_match(&self, probe: &Encoding) -> Option<Match<Id>> {
        let mut best: Option<(usize, f32)> = None;
        let mut runner_up = f32::INFINITY;
        for (row, values) in self.rows.chunks_exact(ENCODING_LEN).enumerate() {
            let d = squared_distance(&probe.0, values);
            match best {
                None => best = Some((row, d)),
                Some((best_row, best_d)) => {
                    let same_owner = self.owners[row] == self.owners[best_row];
                    if d < best_d {
                        if !same_owner {
                            runner_up = best_d;
                        }
                        best = Some((row, d));
                    } else if !same_owner && d < runner_up {
                        runner_up = d;
                    }
                }
            }
        }
        best.map(|(row, d)| Match {
            id: self.owners[row].clone(),
            distance: d.sqrt(),
            runner_up: runner_up.is_finite().then(|| runner_up.sqrt()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoding(seed: u32) -> Encoding {
        // A deterministic pseudo-random unit-ish vector.
        let mut x = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
        let mut out = [0f32; ENCODING_LEN];
        for v in out.iter_mut() {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            *v = (x as f32 / u32::MAX as f32 - 0.5) * 0.2;
        }
        Encoding(out)
    }

    fn brute_force(index: &[(u32, Encoding)], probe: &Encoding) -> (u32, f32, Option<f32>) {
        let mut by_id: Vec<(u32, f32)> = Vec::new();
        for (id, e) in index {
            let d = probe.distance(e);
            match by_id.iter_mut().find(|(i, _)| i == id) {
                Some(entry) => entry.1 = entry.1.min(d),
                None => by_id.push((*id, d)),
            }
        }
        by_id.sort_by(|a, b| a.1.total_cmp(&b.1));
        (by_id[0].0, by_id[0].1, by_id.get(1).map(|x| x.1))
    }

    #[test]
    fn best_match_and_runner_up_agree_with_brute_force() {
        let enrolled: Vec<(u32, Encoding)> = (0..300).map(|i| (i % 97, encoding(i))).collect();
        let mut index = EncodingIndex::new();
        for (id, e) in &enrolled {
            index.add(*id, &[*e]);
        }
        for probe_seed in 1000..1020 {
            let probe = encoding(probe_seed);
            let m = index.best_match(&probe).expect("non-empty");
            let (id, d, runner) = brute_force(&enrolled, &probe);
            assert_eq!(m.id, id);
            assert!((m.distance - d).abs() < 1e-5);
            assert!((m.runner_up.expect("runner-up") - runner.expect("runner-up")).abs() < 1e-5);
        }
    }

    #[test]
    fn removing_an_identity_removes_all_its_rows() {
        let mut index = EncodingIndex::new();
        index.add("a", &[encoding(1), encoding(2)]);
        index.add("b", &[encoding(3)]);
        index.remove(&"a");
        assert_eq!(index.len(), 1);
        let m = index.best_match(&encoding(1)).expect("b is left");
        assert_eq!((m.id, m.runner_up), ("b", None));
        assert!(EncodingIndex::<u8>::new().best_match(&encoding(1)).is_none());
    }

    #[test]
    fn distance_is_euclidean() {
        let mut a = [0f32; ENCODING_LEN];
        a[0] = 3.0;
        a[127] = 4.0;
        assert_eq!(Encoding(a).distance(&Encoding([0.0; ENCODING_LEN])), 5.0);
    }
}

//! Error rates from distances: genuine pairs (two pictures of one person) and impostor pairs (two
//! people). A pair is a match when its distance is at most the threshold, so
//! FMR(t) = impostor pairs ≤ t / impostor pairs, FNMR(t) = genuine pairs > t / genuine pairs.

use serde::Serialize;

/// The distances of every pair of encodings, split by whether both belong to one person.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct PairDistances {
    pub(crate) genuine: Vec<f32>,
    pub(crate) impostor: Vec<f32>,
}

impl PairDistances {
    /// Every unordered pair of `(person, encoding)`.
    pub fn of<P: PartialEq>(samples: &[(P, crate::face::Encoding)]) -> Self {
        let mut pairs = Self::default();
        for (i, (person_a, a)) in samples.iter().enumerate() {
            for (person_b, b) in &samples[i + 1..] {
                let distance = a.distance(b);
                if person_a == person_b {
                    pairs.genuine.push(distance);
                } else {
                    pairs.impostor.push(distance);
                }
            }
        }
        pairs.genuine.sort_by(f32::total_cmp);
        pairs.impostor.sort_by(f32::total_cmp);
        pairs
    }

    /// FMR and FNMR at `threshold`.
    pub fn rates_at(&self, threshold: f32) -> Rates {
        let matched = |d: &f32| *d <= threshold;
        let false_matches = self.impostor.iter().filter(|d| matched(d)).count();
        let false_non_matches = self.genuine.iter().filter(|d| !matched(d)).count();
        Rates {
            threshold,
            fmr: ratio(false_matches, self.impostor.len()),
            fnmr: ratio(false_non_matches, self.genuine.len()),
            false_matches,
            false_non_matches,
        }
    }

    /// Rates at every threshold from `from` to `to` in `step`s.
    pub fn sweep(&self, from: f32, to: f32, step: f32) -> Vec<Rates> {
        let steps = ((to - from) / step).round() as usize;
        (0..=steps)
            .map(|i| self.rates_at(from + step * i as f32))
            .collect()
    }

    /// The largest threshold (of `sweep`) whose FMR is at most `target`, and its rates.
    pub fn threshold_for_fmr(sweep: &[Rates], target: f64) -> Option<Rates> {
        sweep.iter().rev().find(|r| r.fmr <= target).cloned()
    }
}

fn ratio(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

/// The error rates at one threshold.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rates {
    pub(crate) threshold: f32,
    pub(crate) fmr: f64,
    pub(crate) fnmr: f64,
    pub(crate) false_matches: usize,
    pub(crate) false_non_matches: usize,
}

/// Minimum, median and maximum of sorted distances.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Spread {
    pub(crate) pairs: usize,
    pub(crate) min: Option<f32>,
    pub(crate) median: Option<f32>,
    pub(crate) max: Option<f32>,
}

pub fn spread(sorted: &[f32]) -> Spread {
    Spread {
        pairs: sorted.len(),
        min: sorted.first().copied(),
        median: sorted.get(sorted.len() / 2).copied(),
        max: sorted.last().copied(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::face::Encoding;

    fn at(x: f32) -> Encoding {
        Encoding::at(x)
    }

    #[test]
    fn pairs_are_split_by_person_and_rates_follow_the_threshold() {
        // Ada at 0.0 and 0.2, Bob at 1.0: genuine 0.2; impostor 1.0 and 0.8.
        let samples = [("ada", at(0.0)), ("ada", at(0.2)), ("bob", at(1.0))];
        let pairs = PairDistances::of(&samples);
        assert_eq!(pairs.genuine.len(), 1);
        assert_eq!(pairs.impostor.len(), 2);
        let strict = pairs.rates_at(0.1);
        assert_eq!((strict.fmr, strict.fnmr), (0.0, 1.0));
        let loose = pairs.rates_at(0.9);
        assert_eq!((loose.fmr, loose.fnmr), (0.5, 0.0));
        let sweep = pairs.sweep(0.0, 1.0, 0.1);
        assert_eq!(sweep.len(), 11);
        let chosen = PairDistances::threshold_for_fmr(&sweep, 0.0).expect("a threshold");
        assert!(chosen.threshold < 0.8 && chosen.threshold >= 0.7, "{chosen:?}");
        assert_eq!(spread(&pairs.impostor).median, Some(1.0));
    }
}

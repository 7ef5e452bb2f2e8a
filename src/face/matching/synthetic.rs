//! Seeded synthetic galleries for the index's tests and benches: no real gallery of a million
//! faces exists here, so a few real people are padded with drawn ones.
//!
//! A synthetic person is a centre drawn from a Gaussian, one value per dimension
//! (`mean ± between`); each of their photos is that centre plus Gaussian noise (`± within`).
//! [`Model::fit`] takes the per-dimension shape of both spreads from real encodings and scales
//! them so that the median distance between two photos of one person, and of two people, equal
//! the real medians (docs/benchmarks.md, "Gallery at a million", says why and what it misses).

use super::ENCODING_LEN;
use crate::face::encoding::Encoding;

/// A small seeded generator (SplitMix64): reproducible galleries without a dependency.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in (0, 1].
    fn unit(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 1.0) / (1u64 << 53) as f64
    }

    /// Standard normal (Box-Muller).
    pub fn normal(&mut self) -> f64 {
        let (u, v) = (self.unit(), self.unit());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
}

/// How synthetic people and their photos are drawn.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    /// Mean of the people's centres, per dimension.
    pub mean: [f32; ENCODING_LEN],
    /// Standard deviation of the centres, per dimension.
    pub between: [f32; ENCODING_LEN],
    /// Standard deviation of one photo around its person's centre, per dimension.
    pub within: [f32; ENCODING_LEN],
}

impl Model {
    /// The same spread in every dimension, centred on zero: two photos of one person are
    /// `photo_gap` apart on average (in squared distance), two people `person_gap`.
    pub fn isotropic(person_gap: f32, photo_gap: f32) -> Self {
        let within = photo_gap / (2.0 * ENCODING_LEN as f32).sqrt();
        let total = person_gap / (2.0 * ENCODING_LEN as f32).sqrt();
        let between = (total * total - within * within).max(0.0).sqrt();
        Self {
            mean: [0.0; ENCODING_LEN],
            between: [between; ENCODING_LEN],
            within: [within; ENCODING_LEN],
        }
    }

    /// Fits a model to real encodings labelled by person: the per-dimension shape of the spread
    /// of the people's means and of each photo around its person's mean, scaled so that the
    /// expected distances equal the real median genuine and impostor distances. `None` without
    /// two people, one of them with two photos.
    pub fn fit(samples: &[(String, Encoding)]) -> Option<Self> {
        let mut people: Vec<&str> = samples.iter().map(|(p, _)| p.as_str()).collect();
        people.sort_unstable();
        people.dedup();
        let means: Vec<[f64; ENCODING_LEN]> = people
            .iter()
            .map(|person| {
                let photos: Vec<&Encoding> = samples
                    .iter()
                    .filter(|(p, _)| p == person)
                    .map(|(_, e)| e)
                    .collect();
                let mut mean = [0.0; ENCODING_LEN];
                for photo in &photos {
                    for (m, &v) in mean.iter_mut().zip(&photo.0) {
                        *m += f64::from(v) / photos.len() as f64;
                    }
                }
                mean
            })
            .collect();
        let mut mean = [0.0f64; ENCODING_LEN];
        for person in &means {
            for (m, v) in mean.iter_mut().zip(person) {
                *m += v / means.len() as f64;
            }
        }
        let mut between = [0.0f64; ENCODING_LEN];
        for person in &means {
            for d in 0..ENCODING_LEN {
                between[d] += (person[d] - mean[d]).powi(2);
            }
        }
        let mut within = [0.0f64; ENCODING_LEN];
        for (person, encoding) in samples {
            let index = people.iter().position(|p| p == person)?;
            for d in 0..ENCODING_LEN {
                within[d] += (f64::from(encoding.0[d]) - means[index][d]).powi(2);
            }
        }
        let (genuine, impostor) = median_distances(samples)?;
        let scale = |spread: &mut [f64; ENCODING_LEN], target_sq_sum: f64| {
            let sum: f64 = spread.iter().sum();
            let factor = if sum > 0.0 { target_sq_sum / sum } else { 0.0 };
            spread
                .iter()
                .map(|v| (v * factor).sqrt() as f32)
                .collect::<Vec<f32>>()
        };
        // E|x - y|² = 2 Σ within² for one person, 2 Σ (between² + within²) for two.
        let within_sq = f64::from(genuine).powi(2) / 2.0;
        let between_sq = (f64::from(impostor).powi(2) / 2.0 - within_sq).max(0.0);
        let to_array = |v: Vec<f32>| <[f32; ENCODING_LEN]>::try_from(v).ok();
        Some(Self {
            mean: mean.map(|m| m as f32),
            between: to_array(scale(&mut between, between_sq))?,
            within: to_array(scale(&mut within, within_sq))?,
        })
    }

    /// A new person's centre.
    pub fn person(&self, rng: &mut Rng) -> Encoding {
        Encoding(std::array::from_fn(|d| {
            self.mean[d] + self.between[d] * rng.normal() as f32
        }))
    }

    /// One photo of the person whose centre is `centre`.
    pub fn photo(&self, centre: &Encoding, rng: &mut Rng) -> Encoding {
        Encoding(std::array::from_fn(|d| {
            centre.0[d] + self.within[d] * rng.normal() as f32
        }))
    }
}

/// Median distance between two photos of one person, and of two people.
pub fn median_distances(samples: &[(String, Encoding)]) -> Option<(f32, f32)> {
    let (mut genuine, mut impostor) = (Vec::new(), Vec::new());
    for (i, (a, x)) in samples.iter().enumerate() {
        for (b, y) in &samples[i + 1..] {
            let distance = x.distance(y);
            if a == b {
                genuine.push(distance);
            } else {
                impostor.push(distance);
            }
        }
    }
    let median = |mut v: Vec<f32>| {
        v.sort_by(f32::total_cmp);
        v.get(v.len() / 2).copied()
    };
    Some((median(genuine)?, median(impostor)?))
}

/// What a login makes of a search result (as `accounts::identify` does): nobody within the
/// threshold, one person, or two people too close to tell apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision<Id> {
    Refuse,
    Accept(Id),
    Ambiguous { best: Id, contender: Id },
}

impl<Id: Clone + PartialEq> Decision<Id> {
    /// The same outcome about the same best person. The contender of an ambiguous face may
    /// differ: either way the second factor tells the candidates apart.
    pub fn agrees_with(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::Refuse, Self::Refuse) => true,
            (Self::Accept(a), Self::Accept(b)) => a == b,
            (Self::Ambiguous { best: a, .. }, Self::Ambiguous { best: b, .. }) => a == b,
            _ => false,
        }
    }

    /// Whether this accepts someone outright whom `reference` does not: the disagreement that
    /// could let a face in (a missed contender, or another person).
    pub fn less_cautious_than(&self, reference: &Self) -> bool {
        match self {
            Self::Accept(a) => !matches!(reference, Self::Accept(b) if a == b),
            _ => false,
        }
    }

    pub fn of(found: Option<&super::Match<Id>>, threshold: f32, margin: f32) -> Self {
        let Some(found) = found.filter(|m| m.within(threshold)) else {
            return Self::Refuse;
        };
        match (found.runner_up, &found.runner_up_id) {
            (Some(runner_up), Some(contender)) if runner_up - found.distance < margin => Self::Ambiguous {
                best: found.id.clone(),
                contender: contender.clone(),
            },
            _ => Self::Accept(found.id.clone()),
        }
    }
}

//! The 128-number face encoding and the distance between two of them.

/// Numbers in one encoding.
pub const ENCODING_LEN: usize = 128;

/// dlib's 128-d face descriptor. Two pictures of one person are usually closer than 0.6
/// (Euclidean), two people usually farther.
#[derive(Debug, Clone, PartialEq)]
pub struct Encoding(pub [f32; ENCODING_LEN]);

impl Encoding {
    /// For tests: an encoding that is `x` along the first axis, so distances are differences of `x`.
    #[cfg(test)]
    pub fn at(x: f32) -> Self {
        let mut values = [0.0; ENCODING_LEN];
        values[0] = x;
        Self(values)
    }

    /// `None` unless `values` holds exactly 128 finite numbers (e.g. read back from the database).
    pub fn from_slice(values: &[f32]) -> Option<Self> {
        let values: [f32; ENCODING_LEN] = values.try_into().ok()?;
        values.iter().all(|v| v.is_finite()).then_some(Self(values))
    }

    pub fn as_slice(&self) -> &[f32] {
        &self.0
    }

    /// Euclidean distance: below the match threshold (0.6 by default) means "same person".
    pub fn distance(&self, other: &Self) -> f32 {
        squared_distance(&self.0, &other.0).sqrt()
    }
}

/// Sum of squared differences. Sixteen independent partial sums let the compiler keep four SSE
/// registers busy (a single running sum would be a serial chain it may not reorder).
#[inline]
pub(crate) fn squared_distance(a: &[f32; ENCODING_LEN], b: &[f32; ENCODING_LEN]) -> f32 {
    const LANES: usize = 16;
    let mut sums = [0.0f32; LANES];
    for (a, b) in a.chunks_exact(LANES).zip(b.chunks_exact(LANES)) {
        for lane in 0..LANES {
            let d = a[lane] - b[lane];
            sums[lane] += d * d;
        }
    }
    sums.iter().sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance_is_euclidean() {
        let zero = Encoding([0.0; ENCODING_LEN]);
        let mut one = [0.0; ENCODING_LEN];
        one[3] = 3.0;
        one[100] = 4.0;
        assert_eq!(zero.distance(&Encoding(one)), 5.0);
        let all = Encoding([1.0; ENCODING_LEN]);
        assert!((zero.distance(&all) - 128f32.sqrt()).abs() < 1e-5);
    }

    #[test]
    fn from_slice_wants_128_finite_numbers() {
        assert!(Encoding::from_slice(&[0.1; 128]).is_some());
        assert!(Encoding::from_slice(&[0.1; 127]).is_none());
        let mut bad = [0.1; 128];
        bad[5] = f32::NAN;
        assert!(Encoding::from_slice(&bad).is_none());
    }
}

//! A small deterministic random number generator (SplitMix64).
//!
//! Simulated telemetry must be byte-for-byte the same for a seed on every machine and every
//! version of every dependency, because tests pin what the rules make of it. A generator
//! written here cannot change under us; the statistical quality SplitMix64 offers is far more
//! than picking page ids and think times needs.

#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// An independent stream for one purpose (one user, say), so adding a user does not shift
    /// every other user's activity.
    pub fn fork(&self, salt: u64) -> Rng {
        let mut r = Rng(self.0 ^ salt.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        r.next_u64();
        r
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in `[0, n)` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// Uniform in `[lo, hi]`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        debug_assert!(lo <= hi);
        lo + self.next_u64() % (hi - lo + 1)
    }

    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.next_u64() as usize % items.len()]
    }

    /// Exponentially distributed with the given mean (think times between clicks).
    pub fn exp(&mut self, mean: f64) -> f64 {
        -mean * (1.0 - self.unit()).ln()
    }

    /// A rank in `0..n` with Zipf-like popularity (exponent 1): a few pages get most views.
    pub fn zipf(&mut self, n: usize) -> usize {
        // Inverse of the continuous approximation of the harmonic CDF.
        let h = (n as f64).ln() + 0.577_215_664_9;
        let x = (self.unit() * h - 0.577_215_664_9).exp();
        (x.floor() as usize).min(n - 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sequence_is_fixed_for_a_seed() {
        let mut r = Rng::new(42);
        let first: Vec<u64> = (0..3).map(|_| r.next_u64()).collect();
        let mut again = Rng::new(42);
        assert_eq!(first, (0..3).map(|_| again.next_u64()).collect::<Vec<_>>());
        // SplitMix64's published first output for seed 0.
        assert_eq!(Rng::new(0).next_u64(), 0xE220_A839_7B1D_CDAF);
    }

    #[test]
    fn zipf_favours_low_ranks_and_stays_in_range() {
        let mut r = Rng::new(7);
        let mut counts = [0u32; 50];
        for _ in 0..20_000 {
            counts[r.zipf(50)] += 1;
        }
        assert!(
            counts[0] > counts[10] && counts[10] > counts[40],
            "{counts:?}"
        );
    }
}

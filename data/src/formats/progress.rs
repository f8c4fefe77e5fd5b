//! Throttled, monotonic progress reporting into the caller's callback.

/// Forwards fractions in `0..=1` to a callback, never backwards and at most every half percent.
pub(crate) struct Progress<'a> {
    callback: &'a mut dyn FnMut(f32),
    last: f32,
    /// Start of the sub-range that [`Progress::set`] maps `0` to.
    lo: f32,
    /// End of the sub-range that [`Progress::set`] maps `1` to.
    hi: f32,
}

impl<'a> Progress<'a> {
    /// Reports into `callback`; `set(f)` reports `f` until [`Progress::range`] narrows it.
    pub(crate) fn new(callback: &'a mut dyn FnMut(f32)) -> Self {
        Progress {
            callback,
            last: 0.0,
            lo: 0.0,
            hi: 1.0,
        }
    }

    /// Makes later `set(0..=1)` calls cover `lo..=hi` of the whole.
    pub(crate) fn range(&mut self, lo: f32, hi: f32) {
        self.lo = lo;
        self.hi = hi.max(lo);
    }

    /// Reports `fraction` (clamped to `0..=1`) of the current sub-range.
    pub(crate) fn set(&mut self, fraction: f64) {
        let f = if fraction.is_nan() {
            0.0
        } else {
            fraction.clamp(0.0, 1.0) as f32
        };
        let p = (self.lo + (self.hi - self.lo) * f).min(1.0);
        if p >= self.last + 0.005 || (p >= 1.0 && self.last < 1.0) {
            self.last = p;
            (self.callback)(p);
        }
    }

    /// Reports completion (`1.0`).
    pub(crate) fn finish(&mut self) {
        self.range(0.0, 1.0);
        self.set(1.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn monotonic_and_throttled() {
        let mut seen = Vec::new();
        let mut cb = |p: f32| seen.push(p);
        let mut p = Progress::new(&mut cb);
        p.range(0.0, 0.5);
        for i in 0..=1000 {
            p.set(f64::from(i) / 1000.0);
        }
        p.set(0.1);
        p.range(0.5, 1.0);
        p.set(0.5);
        p.finish();
        assert!(seen.windows(2).all(|w| w[0] < w[1]), "{seen:?}");
        assert!(seen.len() < 250);
        assert_eq!(seen.last(), Some(&1.0));
    }
}

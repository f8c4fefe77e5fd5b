//! Ridge regression with the penalty chosen per voxel by k-fold cross-validation.
//!
//! The stimuli are split into a training part (the first `1 − test_fraction`) and a held-out part
//! (the last `test_fraction`). On the training part, `folds` contiguous folds are held out in turn;
//! each fold costs one eigendecomposition of the centred `XᵀX` (`D × D`), after which predictions
//! for every penalty and voxel are matrix products: with `XᵀX = V Λ Vᵀ`,
//! `W(α) = V (Λ + α)⁻¹ Vᵀ Xᵀ Y`. Each voxel takes the penalty of least summed squared validation
//! error (the first on ties). The final weights are refitted on the whole training part with one
//! more eigendecomposition, the intercept is `ȳ − x̄ᵀW` (X and Y are centred), and R² and Pearson r
//! are measured on the held-out part.
//!
//! Cost: `folds + 1` eigendecompositions of `D × D` plus, per fold and penalty, one
//! `[S/folds, D]·[D, N]` product. The eigendecomposition is nalgebra's generic code, compiled at the
//! caller's optimisation level: with D = 512 it takes about 20 s in a dev build (a fit of 1,200
//! stimuli × 2,000 voxels took 168 s there, D = 128: 11 s), so real fits want a release build.

use std::sync::atomic::{AtomicBool, Ordering};

use nalgebra::{DMatrix, DVector, SymmetricEigen};

use super::EncoderError;
use super::metrics::{pearson, r2};

/// Options of [`fit_ridge`].
#[derive(Clone, Debug, PartialEq)]
pub struct RidgeConfig {
    /// Candidate penalties (all > 0).
    pub alphas: Vec<f64>,
    /// Cross-validation folds (≥ 2).
    pub folds: usize,
    /// Fraction of the stimuli, taken from the end, held out for R² and Pearson r (0 to skip).
    pub test_fraction: f64,
}

impl Default for RidgeConfig {
    /// 15 penalties from 10⁻² to 10⁵ (half decades), 5 folds, the last 20% held out.
    fn default() -> Self {
        RidgeConfig {
            alphas: log_space(-2.0, 5.0, 15),
            folds: 5,
            test_fraction: 0.2,
        }
    }
}

/// `count` values from `10^lo` to `10^hi`, evenly spaced in log (NumPy's `logspace`).
pub fn log_space(lo: f64, hi: f64, count: usize) -> Vec<f64> {
    match count {
        0 => Vec::new(),
        1 => vec![10f64.powf(lo)],
        _ => (0..count)
            .map(|i| 10f64.powf(lo + (hi - lo) * i as f64 / (count - 1) as f64))
            .collect(),
    }
}

/// A fitted ridge model and its held-out scores.
#[derive(Clone, Debug)]
pub struct RidgeFit {
    /// Weights `[N, D]`, row-major.
    pub weight: Vec<f32>,
    /// Intercepts `[N]`.
    pub bias: Vec<f32>,
    /// The chosen penalty of each voxel.
    pub alpha: Vec<f64>,
    /// Held-out R² per voxel (NaN without a held-out part or for constant responses).
    pub r2: Vec<f32>,
    /// Held-out Pearson r per voxel (NaN likewise).
    pub pearson: Vec<f32>,
    /// Stimuli used for fitting (the rest were held out).
    pub train_count: usize,
}

/// Fits `y ≈ x·Wᵀ + b` for features `x` `[S, D]` and responses `y` `[S, N]` (row-major).
///
/// `cancel` is read between folds; once set, the fit returns [`EncoderError::Cancelled`].
pub fn fit_ridge(
    x: &[f32],
    y: &[f32],
    dim: usize,
    voxels: usize,
    config: &RidgeConfig,
    cancel: &AtomicBool,
) -> Result<RidgeFit, EncoderError> {
    let invalid = |m: String| Err(EncoderError::Invalid(m));
    if dim == 0 || voxels == 0 || !x.len().is_multiple_of(dim) {
        return invalid(format!("{} feature values for dimension {dim}", x.len()));
    }
    let s = x.len() / dim;
    if y.len() != s * voxels {
        return invalid(format!("{} responses, expected {s} stimuli × {voxels} voxels", y.len()));
    }
    if config.alphas.is_empty() || config.alphas.iter().any(|&a| !(a > 0.0 && a.is_finite())) {
        return invalid(format!("penalties {:?} must be positive", config.alphas));
    }
    if !(0.0..1.0).contains(&config.test_fraction) {
        return invalid(format!("test fraction {} not in [0, 1)", config.test_fraction));
    }
    let n_test = (s as f64 * config.test_fraction).round() as usize;
    let n_train = s - n_test;
    if config.folds < 2 || n_train < 2 * config.folds || (n_test > 0 && n_test < 2) {
        return invalid(format!(
            "{s} stimuli are too few for {} folds and a held-out fraction of {}",
            config.folds, config.test_fraction
        ));
    }
    if x.iter().chain(y).any(|v| !v.is_finite()) {
        return invalid("features or responses have non-finite values".into());
    }
    let xm = DMatrix::from_row_iterator(s, dim, x.iter().map(|&v| f64::from(v)));
    let ym = DMatrix::from_row_iterator(s, voxels, y.iter().map(|&v| f64::from(v)));
    let x_train = xm.rows(0, n_train).into_owned();
    let y_train = ym.rows(0, n_train).into_owned();

    let mut errors = DMatrix::<f64>::zeros(config.alphas.len(), voxels);
    for fold in 0..config.folds {
        if cancel.load(Ordering::Relaxed) {
            return Err(EncoderError::Cancelled);
        }
        let (lo, hi) = (n_train * fold / config.folds, n_train * (fold + 1) / config.folds);
        let keep: Vec<usize> = (0..n_train).filter(|r| *r < lo || *r >= hi).collect();
        let solver = Solver::new(&x_train.select_rows(&keep), &y_train.select_rows(&keep));
        let x_val = x_train.rows(lo, hi - lo).into_owned();
        let y_val = y_train.rows(lo, hi - lo).into_owned();
        let z = solver.rotate(&x_val);
        let target = &y_val - DMatrix::from_fn(hi - lo, voxels, |_, c| solver.y_mean[c]);
        for (a, &alpha) in config.alphas.iter().enumerate() {
            let mut scaled = z.clone();
            for (c, mut col) in scaled.column_iter_mut().enumerate() {
                col *= 1.0 / (solver.lambda[c] + alpha);
            }
            let pred = scaled * &solver.q;
            let diff = pred - &target;
            for v in 0..voxels {
                errors[(a, v)] += diff.column(v).norm_squared();
            }
        }
    }
    let alpha: Vec<f64> = (0..voxels)
        .map(|v| {
            let col = errors.column(v);
            let best = (0..col.len()).fold(0, |best, a| if col[a] < col[best] { a } else { best });
            config.alphas[best]
        })
        .collect();

    if cancel.load(Ordering::Relaxed) {
        return Err(EncoderError::Cancelled);
    }
    let solver = Solver::new(&x_train, &y_train);
    let mut scaled = solver.q.clone();
    for (v, mut col) in scaled.column_iter_mut().enumerate() {
        col.component_mul_assign(&solver.lambda.map(|l| 1.0 / (l + alpha[v])));
    }
    let w = &solver.v * scaled; // [D, N]
    let bias = DVector::from_fn(voxels, |v, _| solver.y_mean[v] - solver.x_mean.dot(&w.column(v)));

    let (r2v, rv) = if n_test > 0 {
        let x_test = xm.rows(n_train, n_test);
        let pred = x_test * &w + DMatrix::from_fn(n_test, voxels, |_, c| bias[c]);
        let to_rows = |m: &DMatrix<f64>| -> Vec<f32> { m.transpose().iter().map(|&v| v as f32).collect() };
        let truth = to_rows(&ym.rows(n_train, n_test).into_owned());
        let pred = to_rows(&pred);
        (r2(&truth, &pred, voxels)?, pearson(&truth, &pred, voxels)?)
    } else {
        (vec![f32::NAN; voxels], vec![f32::NAN; voxels])
    };
    Ok(RidgeFit {
        // Column v of W [D, N] is voxel v's weight row: column-major order is the row-major [N, D].
        weight: w.iter().map(|&v| v as f32).collect(),
        bias: bias.iter().map(|&v| v as f32).collect(),
        alpha,
        r2: r2v,
        pearson: rv,
        train_count: n_train,
    })
}

/// The eigendecomposition of one training set's centred `XᵀX`, with `Q = Vᵀ Xcᵀ Yc`.
struct Solver {
    x_mean: DVector<f64>,
    y_mean: DVector<f64>,
    lambda: DVector<f64>,
    v: DMatrix<f64>,
    q: DMatrix<f64>,
}

impl Solver {
    fn new(x: &DMatrix<f64>, y: &DMatrix<f64>) -> Solver {
        let x_mean = x.row_mean().transpose();
        let y_mean = y.row_mean().transpose();
        let xc = DMatrix::from_fn(x.nrows(), x.ncols(), |r, c| x[(r, c)] - x_mean[c]);
        let yc = DMatrix::from_fn(y.nrows(), y.ncols(), |r, c| y[(r, c)] - y_mean[c]);
        // `transpose() *` rather than `tr_mul`: the product goes through matrixmultiply's blocked GEMM.
        let xt = xc.transpose();
        let eig = SymmetricEigen::new(&xt * &xc);
        let q = eig.eigenvectors.transpose() * (xt * yc);
        Solver {
            x_mean,
            y_mean,
            lambda: eig.eigenvalues,
            v: eig.eigenvectors,
            q,
        }
    }

    /// `(X − x̄) V`: other rows in the eigenbasis.
    fn rotate(&self, x: &DMatrix<f64>) -> DMatrix<f64> {
        let xc = DMatrix::from_fn(x.nrows(), x.ncols(), |r, c| x[(r, c)] - self.x_mean[c]);
        xc * &self.v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_space_matches_numpy() {
        let a = log_space(-3.0, 3.0, 13);
        assert_eq!(a.len(), 13);
        assert!((a[0] - 1e-3).abs() < 1e-15 && (a[6] - 1.0).abs() < 1e-12 && (a[12] - 1e3).abs() < 1e-9);
    }

    #[test]
    fn rejects_bad_input() {
        let never = AtomicBool::new(false);
        let config = RidgeConfig::default();
        assert!(fit_ridge(&[0.0; 10], &[0.0; 3], 2, 1, &config, &never).is_err());
        assert!(
            fit_ridge(&[0.0; 8], &[0.0; 4], 2, 1, &config, &never).is_err(),
            "too few stimuli"
        );
        let bad_alpha = RidgeConfig {
            alphas: vec![0.0],
            ..RidgeConfig::default()
        };
        assert!(fit_ridge(&[0.0; 200], &[0.0; 100], 2, 1, &bad_alpha, &never).is_err());
        let cancelled = AtomicBool::new(true);
        let x: Vec<f32> = (0..200).map(|i| (i as f32 * 0.37).sin()).collect();
        let r = fit_ridge(&x, &[1.0; 100], 2, 1, &config, &cancelled);
        assert!(matches!(r, Err(EncoderError::Cancelled)));
    }
}

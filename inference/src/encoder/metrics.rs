//! Per-voxel goodness of fit: the coefficient of determination R² and Pearson's r.
//!
//! Both take `[S, N]` row-major arrays (stimuli × voxels), compute in f64, and give NaN for a voxel
//! whose measured (or, for r, predicted) responses are constant.

use super::EncoderError;

/// `R² = 1 − Σ(y − ŷ)² / Σ(y − ȳ)²` per voxel (scikit-learn's `r2_score` per output).
pub fn r2(truth: &[f32], pred: &[f32], voxels: usize) -> Result<Vec<f32>, EncoderError> {
    let s = rows(truth, pred, voxels)?;
    let mean = column_means(truth, s, voxels);
    let mut ss_res = vec![0.0f64; voxels];
    let mut ss_tot = vec![0.0f64; voxels];
    for (t, p) in truth.chunks_exact(voxels).zip(pred.chunks_exact(voxels)) {
        for v in 0..voxels {
            ss_res[v] += (f64::from(t[v]) - f64::from(p[v])).powi(2);
            ss_tot[v] += (f64::from(t[v]) - mean[v]).powi(2);
        }
    }
    Ok((0..voxels)
        .map(|v| {
            if ss_tot[v] > 0.0 {
                (1.0 - ss_res[v] / ss_tot[v]) as f32
            } else {
                f32::NAN
            }
        })
        .collect())
}

/// Pearson's correlation between measured and predicted responses, per voxel.
pub fn pearson(truth: &[f32], pred: &[f32], voxels: usize) -> Result<Vec<f32>, EncoderError> {
    let s = rows(truth, pred, voxels)?;
    let mt = column_means(truth, s, voxels);
    let mp = column_means(pred, s, voxels);
    let mut cov = vec![0.0f64; voxels];
    let mut vt = vec![0.0f64; voxels];
    let mut vp = vec![0.0f64; voxels];
    for (t, p) in truth.chunks_exact(voxels).zip(pred.chunks_exact(voxels)) {
        for v in 0..voxels {
            let (a, b) = (f64::from(t[v]) - mt[v], f64::from(p[v]) - mp[v]);
            cov[v] += a * b;
            vt[v] += a * a;
            vp[v] += b * b;
        }
    }
    Ok((0..voxels)
        .map(|v| {
            let den = (vt[v] * vp[v]).sqrt();
            if den > 0.0 { (cov[v] / den) as f32 } else { f32::NAN }
        })
        .collect())
}

fn rows(truth: &[f32], pred: &[f32], voxels: usize) -> Result<usize, EncoderError> {
    if truth.len() != pred.len() || voxels == 0 || !truth.len().is_multiple_of(voxels) {
        return Err(EncoderError::Invalid(format!(
            "{} measured and {} predicted responses for {voxels} voxels",
            truth.len(),
            pred.len()
        )));
    }
    Ok(truth.len() / voxels)
}

fn column_means(values: &[f32], rows: usize, cols: usize) -> Vec<f64> {
    let mut mean = vec![0.0f64; cols];
    for row in values.chunks_exact(cols) {
        for (m, &x) in mean.iter_mut().zip(row) {
            *m += f64::from(x);
        }
    }
    mean.iter_mut().for_each(|m| *m /= rows.max(1) as f64);
    mean
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perfect_constant_and_anticorrelated() {
        // two voxels, three stimuli: voxel 0 predicted perfectly, voxel 1 constant
        let truth = [1.0, 5.0, 2.0, 5.0, 3.0, 5.0];
        let pred = [1.0, 4.0, 2.0, 4.0, 3.0, 4.0];
        let r2v = r2(&truth, &pred, 2).unwrap();
        assert!((r2v[0] - 1.0).abs() < 1e-7 && r2v[1].is_nan());
        let neg = [3.0, 0.0, 2.0, 0.0, 1.0, 0.0];
        let r = pearson(&truth, &neg, 2).unwrap();
        assert!(r2(&truth, &neg[..4], 2).is_err());
        assert!((r[0] + 1.0).abs() < 1e-7 && r[1].is_nan());
    }
}

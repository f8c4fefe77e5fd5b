use super::*;

fn one(sh_degree: u8, sh: Vec<[f32; 3]>) -> Splats {
    Splats {
        name: "t".into(),
        positions: vec![[1.0, 2.0, 3.0]],
        scales: vec![[1.0, 2.0, 3.0]],
        rotations: vec![[1.0, 0.0, 0.0, 0.0]],
        opacities: vec![0.5],
        sh_degree,
        sh,
    }
}

#[test]
fn sh_colour_by_hand() {
    // Degree 0: 0.5 + C0·DC whatever the direction.
    let dc = one(0, vec![[1.0, -1.0, 0.0]]);
    let c = dc.color(0, [0.3, -2.0, 1.0]);
    assert!((c[0] - (0.5 + SH_C0)).abs() < 1e-6 && (c[1] - (0.5 - SH_C0)).abs() < 1e-6 && c[2] == 0.5);
    // Degree 1 along +x: the basis is (−C1·y, C1·z, −C1·x) = (0, 0, −0.4886).
    let mut sh = vec![[0.0; 3]; 4];
    sh[3] = [1.0, 0.0, -1.0];
    let c = one(1, sh).color(0, [2.0, 0.0, 0.0]);
    assert!((c[0] - (0.5 - 0.488_602_5)).abs() < 1e-6, "{c:?}");
    assert!((c[2] - (0.5 + 0.488_602_5)).abs() < 1e-6, "{c:?}");
    // Degree 2 along (1, 1, 0)/√2: xy = 0.5, xx − yy = 0; coefficient 4 weighs C2₀·xy.
    let mut sh = vec![[0.0; 3]; 9];
    sh[4] = [0.2, 0.0, 0.0];
    let c = one(2, sh).color(0, [1.0, 1.0, 0.0]);
    assert!((c[0] - (0.5 + 1.092_548_4 * 0.5 * 0.2)).abs() < 1e-6, "{c:?}");
    // Degree 3 along +z: only z·(2zz − 3xx − 3yy) = 2 is non-zero, coefficient 12.
    let mut sh = vec![[0.0; 3]; 16];
    sh[12] = [0.1, 0.1, 0.1];
    let c = one(3, sh).color(0, [0.0, 0.0, 5.0]);
    assert!((c[1] - (0.5 + 0.373_176_33 * 2.0 * 0.1)).abs() < 1e-6, "{c:?}");
    // Clamped below at 0.
    let c = one(0, vec![[-10.0; 3]]).color(0, [1.0, 0.0, 0.0]);
    assert_eq!(c, [0.0; 3]);
}

#[test]
fn covariance_of_a_rotated_splat() {
    let mut s = one(0, vec![[0.0; 3]]);
    assert_eq!(s.covariance(0), [[1.0, 0.0, 0.0], [0.0, 4.0, 0.0], [0.0, 0.0, 9.0]]);
    // 90° about z: x and y swap.
    let h = std::f32::consts::FRAC_1_SQRT_2;
    s.rotations[0] = [h, 0.0, 0.0, h];
    let c = s.covariance(0);
    assert!((c[0][0] - 4.0).abs() < 1e-5 && (c[1][1] - 1.0).abs() < 1e-5 && (c[2][2] - 9.0).abs() < 1e-5);
    assert!(c[0][1].abs() < 1e-5);
}

#[test]
fn validation_names_what_is_wrong() {
    assert!(one(0, vec![[0.0; 3]]).validate().is_ok());
    assert!(
        one(1, vec![[0.0; 3]])
            .validate()
            .unwrap_err()
            .contains("SH coefficients")
    );
    let mut s = one(0, vec![[0.0; 3]]);
    s.scales[0][1] = f32::NAN;
    assert!(s.validate().unwrap_err().contains("splat 0"));
    s.opacities.push(1.0);
    assert!(s.validate().unwrap_err().contains("positions"));
    assert_eq!(
        one(0, vec![[0.0; 3]]).bounds(),
        Some(([1.0, 2.0, 3.0], [1.0, 2.0, 3.0]))
    );
}

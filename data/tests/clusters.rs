//! Cluster tables against nilearn's `get_clusters_table` (tests/data/generated/clusters.json, made
//! by make_clusters.py): the same clusters in the same order, with the same peaks, sub-peaks and
//! sizes, on smoothed noise (both sides, with and without a minimum size), flat clusters (one a
//! ring whose centre of mass lies outside it) and the demo's motor t-map.

mod common;

use common::{assets_dir, data_dir, f, json};
use cortexlens_data::clusters::{ClusterOptions, Peak, clusters};
use cortexlens_data::{Loaded, load_path};

fn close_mm(peak: &Peak, xyz: &serde_json::Value, what: &str) {
    let expected = common::fs(xyz);
    let got = [peak.mm.x, peak.mm.y, peak.mm.z];
    for a in 0..3 {
        assert!((got[a] - expected[a]).abs() < 1e-4, "{what}: {got:?} vs {expected:?}");
    }
}

#[test]
fn tables_match_nilearn() {
    let reference = json("generated/clusters.json");
    for case in reference["cases"].as_array().unwrap() {
        let file = case["file"].as_str().unwrap();
        let path = match file.strip_prefix("assets/") {
            Some(name) => assets_dir().join(name),
            None => data_dir().join(file),
        };
        let Loaded::Volume(volume) = load_path(&path, &mut |_| {}).unwrap() else {
            panic!("{file}: not a volume");
        };
        let options = ClusterOptions {
            two_sided: case["two_sided"].as_bool().unwrap(),
            min_size: case["cluster_threshold"].as_u64().unwrap() as usize,
            ..ClusterOptions::at(f(&case["threshold"]) as f32)
        };
        let table = clusters(&volume, 0, &options);
        let what = format!("{file} at {}", options.threshold);
        // nilearn's rows: a cluster ("3"), then its sub-peaks ("3a", "3b", …).
        let mut expected_clusters = Vec::new();
        for row in case["rows"].as_array().unwrap() {
            let id = row["id"].as_str().unwrap();
            if id.ends_with(|c: char| c.is_ascii_digit()) {
                expected_clusters.push((row, Vec::new()));
            } else {
                expected_clusters.last_mut().unwrap().1.push(row);
            }
        }
        assert_eq!(table.len(), expected_clusters.len(), "{what}: cluster count");
        for (n, (cluster, (row, subpeaks))) in table.iter().zip(&expected_clusters).enumerate() {
            let at = format!("{what}, cluster {}", n + 1);
            close_mm(&cluster.peak, &row["xyz"], &at);
            let peak = f(&row["peak"]) as f32;
            assert!(
                (cluster.peak.value - peak).abs() <= 1e-5 * peak.abs(),
                "{at}: peak {} vs {peak}",
                cluster.peak.value
            );
            assert_eq!(
                cluster.volume_mm3 as i64,
                row["size_mm3"].as_i64().unwrap(),
                "{at}: size"
            );
            assert_eq!(cluster.subpeaks.len(), subpeaks.len(), "{at}: sub-peaks");
            for (sub, expected) in cluster.subpeaks.iter().zip(subpeaks) {
                close_mm(sub, &expected["xyz"], &format!("{at}, sub-peak"));
                assert!((sub.value - f(&expected["peak"]) as f32).abs() <= 1e-5 * sub.value.abs());
            }
        }
    }
}

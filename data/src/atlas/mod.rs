//! Atlases: named regions looked up at a point in world millimetres, as FSLeyes' atlas panel and
//! FSL's `atlasquery` report them — the region of a label atlas, every region of a probabilistic
//! atlas with its probability there, highest first ("45% Precentral Gyrus, 12% Postcentral
//! Gyrus").
//!
//! An atlas comes from an FSL atlas descriptor ([`load_atlas`]: Harvard-Oxford, Juelich, … as
//! installed with FSL, or any atlas written in their format), from a labelled volume with a label
//! table ([`Atlas::from_label_volume`]) or from a 4D volume with one name per frame
//! ([`Atlas::from_probabilistic_volume`]).

mod fsl;
mod maps;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, OnceLock};

use glam::DVec3;

pub use self::fsl::{ATLAS_EXTENSIONS, FslAtlas, FslImages, is_atlas_path, load_atlas, read_fsl_atlas};
use self::maps::SparseFrames;
use crate::error::LoadError;
use crate::formats::{LabelNames, label_number};
use crate::volume::Volume;

/// What an atlas's values are.
#[derive(Clone, Debug, PartialEq)]
pub enum AtlasKind {
    /// One integer label per voxel.
    Label,
    /// One frame of a 4D image per region: the region's probability at each voxel.
    Probabilistic,
    /// One frame per region holding a statistic, shown in `units` with `precision` decimals where
    /// its magnitude reaches `lower` (FSL's statistic atlases).
    Statistic {
        /// The unit written after each value.
        units: String,
        /// Decimals shown.
        precision: usize,
        /// Smaller magnitudes are not reported.
        lower: f64,
    },
}

impl AtlasKind {
    /// `"label"`, `"probabilistic"` or `"statistic"`.
    pub fn name(&self) -> &'static str {
        match self {
            AtlasKind::Label => "label",
            AtlasKind::Probabilistic => "probabilistic",
            AtlasKind::Statistic { .. } => "statistic",
        }
    }
}

/// A region of an atlas.
#[derive(Clone, Debug, PartialEq)]
pub struct Region {
    /// Its name.
    pub name: String,
    /// Its value in the label image (a label atlas) or the summary image (FSL's `index + 1`).
    pub value: i64,
    /// Its frame of the 4D image (probabilistic and statistic atlases).
    pub frame: Option<usize>,
    /// The point the atlas gives for it (an FSL label's `x, y, z`), in world millimetres.
    pub reference: Option<DVec3>,
}

/// A region at a point, with its value there for a probabilistic atlas (in %) or a statistic one.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Hit {
    /// Index into [`Atlas::regions`].
    pub region: usize,
    /// The probability in % or the statistic; `None` for a label atlas.
    pub value: Option<f32>,
}

/// Regions with names and the images that place them.
#[derive(Debug)]
pub struct Atlas {
    /// The atlas's name (an FSL atlas's `<name>`, else the volume's file name).
    pub name: String,
    /// What its values are.
    pub kind: AtlasKind,
    /// Its regions, in the order the atlas lists them.
    pub regions: Vec<Region>,
    /// The image that draws it (see [`Atlas::image`]).
    image: Arc<Volume>,
    /// The non-zero values of the 4D image (probabilistic and statistic atlases).
    maps: Option<SparseFrames>,
    /// What a map value is multiplied by to read as a percentage (100 for maps of fractions).
    percent: f32,
    /// Label value → region.
    by_value: BTreeMap<i64, usize>,
    /// Frame → region.
    by_frame: HashMap<usize, usize>,
    /// Each region's centre, computed when first asked for.
    centres: OnceLock<Vec<Option<DVec3>>>,
}

impl Atlas {
    fn new(
        name: String,
        kind: AtlasKind,
        regions: Vec<Region>,
        image: Arc<Volume>,
        maps: Option<SparseFrames>,
    ) -> Atlas {
        let percent = match (&kind, &maps) {
            (AtlasKind::Probabilistic, Some(maps)) if maps.max() <= 1.0 => 100.0,
            _ => 1.0,
        };
        let by_value = regions.iter().enumerate().map(|(i, r)| (r.value, i)).collect();
        let by_frame = regions
            .iter()
            .enumerate()
            .filter_map(|(i, r)| Some((r.frame?, i)))
            .collect();
        Atlas {
            name,
            kind,
            regions,
            image,
            maps,
            percent,
            by_value,
            by_frame,
            centres: OnceLock::new(),
        }
    }

    /// A label atlas of a labelled volume (its first frame) named by `names`, called as the volume.
    pub fn from_label_volume(volume: Arc<Volume>, names: &LabelNames) -> Atlas {
        let regions = names
            .iter()
            .map(|(value, name)| Region {
                name: name.to_owned(),
                value,
                frame: None,
                reference: None,
            })
            .collect();
        Atlas::new(volume.name.clone(), AtlasKind::Label, regions, volume, None)
    }

    /// A probabilistic atlas of a 4D volume with one name per frame, called as the volume: frame
    /// `t` is named by label `t + 1` of the table when labels 1 to T are named (the values of a
    /// summary image; a row 0 such as "Background" is then left out), else by label `t` when
    /// exactly 0 to T − 1 are. `Ok(None)` when the table names the frames neither way.
    /// Probabilities of at most 1 are read as fractions.
    pub fn from_probabilistic_volume(volume: Arc<Volume>, names: &LabelNames) -> Result<Option<Atlas>, LoadError> {
        let frames = volume.frames() as i64;
        let named_from = |first: i64| (first..first + frames).all(|label| names.get(label).is_some());
        let first = if named_from(1) && names.len() as i64 - i64::from(names.get(0).is_some()) == frames {
            1
        } else if named_from(0) && names.len() as i64 == frames {
            0
        } else {
            return Ok(None);
        };
        let regions = (0..frames)
            .map(|t| Region {
                name: names.get(first + t).unwrap_or_default().to_owned(),
                value: t + 1,
                frame: Some(t as usize),
                reference: None,
            })
            .collect();
        let maps = SparseFrames::of(&volume)?;
        let kind = AtlasKind::Probabilistic;
        Ok(Some(Atlas::new(volume.name.clone(), kind, regions, volume, Some(maps))))
    }

    /// The image that draws the atlas: a label atlas's labels, an FSL probabilistic or statistic
    /// atlas's 3D summary (values [`Region::value`]), or the 4D volume made an atlas.
    pub fn image(&self) -> &Arc<Volume> {
        &self.image
    }

    /// The names of the label image's values.
    pub fn label_names(&self) -> LabelNames {
        self.regions.iter().map(|r| (r.value, r.name.clone())).collect()
    }

    /// The regions at `world`: the labelled region of a label atlas, or every region of a
    /// probabilistic (statistic) atlas whose value there is non-zero (reaches `lower`), highest
    /// first. Empty outside the atlas.
    pub fn lookup(&self, world: DVec3) -> Vec<Hit> {
        if let Some(maps) = &self.maps {
            let lower = match &self.kind {
                AtlasKind::Statistic { lower, .. } => *lower,
                _ => 0.0,
            };
            let mut hits: Vec<Hit> = maps
                .at(world)
                .filter(|(_, v)| f64::from(v.abs()) >= lower)
                .filter_map(|(frame, v)| {
                    Some(Hit {
                        region: *self.by_frame.get(&frame)?,
                        value: Some(v * self.percent),
                    })
                })
                .collect();
            hits.sort_by(|a, b| b.value.unwrap_or(0.0).total_cmp(&a.value.unwrap_or(0.0)));
            return hits;
        }
        let image = &self.image;
        image
            .value_at(image.nearest_voxel(world), 0)
            .and_then(label_number)
            .and_then(|label| self.by_value.get(&label))
            .map(|&region| vec![Hit { region, value: None }])
            .unwrap_or_default()
    }

    /// A hit as FSLeyes words it: `45% Precentral Gyrus`, `2.31mm Fornix`, `Left Hippocampus`.
    pub fn hit_text(&self, hit: &Hit) -> String {
        let name = &self.regions[hit.region].name;
        match (&self.kind, hit.value) {
            (AtlasKind::Probabilistic, Some(p)) if p < 0.5 => format!("<1% {name}"),
            (AtlasKind::Probabilistic, Some(p)) => format!("{p:.0}% {name}"),
            (AtlasKind::Statistic { units, precision, .. }, Some(v)) => {
                let decimals = *precision;
                format!("{v:.decimals$}{units} {name}")
            }
            _ => name.clone(),
        }
    }

    /// Every region at `world` in words, highest first, separated by commas; `None` where there is none.
    pub fn describe(&self, world: DVec3) -> Option<String> {
        let hits = self.lookup(world);
        (!hits.is_empty()).then(|| hits.iter().map(|h| self.hit_text(h)).collect::<Vec<_>>().join(", "))
    }

    /// The first region at `world` in words (the most probable one).
    pub fn top(&self, world: DVec3) -> Option<String> {
        self.lookup(world).first().map(|hit| self.hit_text(hit))
    }

    /// Where a region is: the atlas's reference point when it gives one, else the centre of mass
    /// of its voxels (label image) or of its probability map. `None` for a region without voxels.
    pub fn centre(&self, region: usize) -> Option<DVec3> {
        self.centres
            .get_or_init(|| self.compute_centres())
            .get(region)
            .copied()
            .flatten()
    }

    fn compute_centres(&self) -> Vec<Option<DVec3>> {
        if self.regions.iter().all(|r| r.reference.is_some()) {
            return self.regions.iter().map(|r| r.reference).collect();
        }
        let masses: Vec<Option<DVec3>> = match &self.maps {
            Some(maps) => {
                let frames = self.regions.iter().filter_map(|r| r.frame).max().map_or(0, |t| t + 1);
                let by_frame = maps.centres(frames);
                let at = |r: &Region| r.frame.and_then(|t| by_frame[t]);
                self.regions.iter().map(at).collect()
            }
            None => {
                let by_value = label_centres(&self.image);
                self.regions.iter().map(|r| by_value.get(&r.value).copied()).collect()
            }
        };
        self.regions
            .iter()
            .zip(masses)
            .map(|(r, mass)| r.reference.or(mass))
            .collect()
    }

    /// The regions whose name holds `query`, ignoring case, in atlas order.
    pub fn search<'a>(&'a self, query: &str) -> impl Iterator<Item = usize> + 'a {
        let query = query.trim().to_lowercase();
        self.regions
            .iter()
            .enumerate()
            .filter(move |(_, r)| r.name.to_lowercase().contains(&query))
            .map(|(i, _)| i)
    }
}

/// The centre of mass, in world millimetres, of the voxels of each label of a label image's first frame.
fn label_centres(image: &Volume) -> HashMap<i64, DVec3> {
    let [nx, ny, ..] = image.shape;
    let mut sums: HashMap<i64, (DVec3, f64)> = HashMap::new();
    let mut last: Option<(i64, (DVec3, f64))> = None;
    for (voxel, &v) in image.frame(0).iter().enumerate() {
        let Some(label) = label_number(v) else {
            continue;
        };
        let ijk = DVec3::new(
            (voxel % nx) as f64,
            ((voxel / nx) % ny) as f64,
            (voxel / (nx * ny)) as f64,
        );
        // Labels come in runs: sum a run before touching the map.
        match &mut last {
            Some((current, (sum, count))) if *current == label => {
                *sum += ijk;
                *count += 1.0;
            }
            _ => {
                if let Some((label, (sum, count))) = last.replace((label, (ijk, 1.0))) {
                    let entry = sums.entry(label).or_default();
                    entry.0 += sum;
                    entry.1 += count;
                }
            }
        }
    }
    if let Some((label, (sum, count))) = last {
        let entry = sums.entry(label).or_default();
        entry.0 += sum;
        entry.1 += count;
    }
    sums.into_iter()
        .map(|(label, (sum, count))| (label, image.affine.transform_point3(sum / count)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use glam::DMat4;

    fn names(text: &str) -> LabelNames {
        LabelNames::parse(text).unwrap()
    }

    #[test]
    fn a_labelled_volume_is_a_label_atlas() {
        // 4×1×1, 2 mm voxels: labels 0 3 3 7.
        let affine = DMat4::from_scale(DVec3::splat(2.0));
        let volume = Arc::new(Volume::from_f32(
            "seg.nii",
            [4, 1, 1, 1],
            affine,
            vec![0.0, 3.0, 3.0, 7.0],
        ));
        let atlas = Atlas::from_label_volume(volume, &names("3 Three\n7 Seven\n"));
        assert_eq!((atlas.name.as_str(), &atlas.kind), ("seg.nii", &AtlasKind::Label));
        assert_eq!(atlas.describe(DVec3::new(2.2, 0.0, 0.0)).as_deref(), Some("Three"));
        assert_eq!(atlas.describe(DVec3::ZERO), None, "label 0 is not named");
        assert_eq!(atlas.describe(DVec3::new(-5.0, 0.0, 0.0)), None, "outside");
        assert_eq!(atlas.centre(0), Some(DVec3::new(3.0, 0.0, 0.0)));
        assert_eq!(atlas.centre(1), Some(DVec3::new(6.0, 0.0, 0.0)));
        assert_eq!(atlas.search("SEV").collect::<Vec<_>>(), [1]);
        assert_eq!(atlas.label_names(), names("3 Three\n7 Seven\n"));
    }

    #[test]
    fn a_4d_volume_with_a_name_per_frame_is_a_probabilistic_atlas() {
        // 2×1×1, 3 frames of fractions.
        let data = vec![0.1, 0.0, 0.6, 0.25, 0.002, 0.0];
        let volume = Arc::new(Volume::from_f32("prob.nii", [2, 1, 1, 3], DMat4::IDENTITY, data));
        // Labels 1..=3 with a background row, or 0..=2: the same frames.
        for table in ["0 Background\n1 A\n2 B\n3 C\n", "0 A\n1 B\n2 C\n", "1 A\n2 B\n3 C\n"] {
            let atlas = Atlas::from_probabilistic_volume(volume.clone(), &names(table))
                .unwrap()
                .unwrap();
            assert_eq!(
                atlas.regions.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(),
                ["A", "B", "C"]
            );
            assert_eq!(
                atlas.describe(DVec3::ZERO).as_deref(),
                Some("60% B, 10% A, <1% C"),
                "{table}"
            );
            assert_eq!(atlas.top(DVec3::X).as_deref(), Some("25% B"));
            let weights = (f64::from(0.6f32), f64::from(0.25f32));
            assert_eq!(
                atlas.centre(1),
                Some(DVec3::new(weights.1 / (weights.0 + weights.1), 0.0, 0.0))
            );
            assert_eq!(atlas.centre(2), Some(DVec3::ZERO));
            assert_eq!(atlas.label_names().get(2), Some("B"), "summary values are frame + 1");
        }
        for table in ["1 A\n2 B\n", "1 A\n2 B\n3 C\n4 D\n", "0 A\n1 B\n3 C\n"] {
            assert!(
                Atlas::from_probabilistic_volume(volume.clone(), &names(table))
                    .unwrap()
                    .is_none(),
                "{table}"
            );
        }
    }

    #[test]
    fn statistic_atlases_show_units_above_their_lower_bound() {
        let volume = Volume::from_f32("fa.nii", [1, 1, 1, 3], DMat4::IDENTITY, vec![0.123, -0.4, 0.01]);
        let maps = SparseFrames::of(&volume).unwrap();
        let kind = AtlasKind::Statistic {
            units: "mm".into(),
            precision: 2,
            lower: 0.05,
        };
        let regions = ["A", "B", "C"]
            .iter()
            .enumerate()
            .map(|(t, name)| Region {
                name: (*name).into(),
                value: t as i64 + 1,
                frame: Some(t),
                reference: (t == 0).then_some(DVec3::ONE),
            })
            .collect();
        let atlas = Atlas::new("stat".into(), kind, regions, Arc::new(volume), Some(maps));
        assert_eq!(atlas.describe(DVec3::ZERO).as_deref(), Some("0.12mm A, -0.40mm B"));
        assert_eq!(atlas.centre(0), Some(DVec3::ONE), "the reference point first");
        assert_eq!(atlas.centre(2), Some(DVec3::ZERO));
    }
}

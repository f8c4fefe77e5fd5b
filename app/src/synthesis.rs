//! Preferred images for a brain region (BrainDiVE), one path for the window and `cortexlens
//! synthesize` around [`cortexlens_inference::synthesis`]: where the models are, which seeds (and
//! which of them a cluster job's shard runs), generating them one after the other with each
//! image saved as it is done, and the table of what the encoder predicts for each.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use cortexlens_inference::encoder::Encoder;
use cortexlens_inference::hub::{Hub, HubError};
use cortexlens_inference::synthesis::{
    SynthesisConfig, SynthesisError, SynthesisModels, SynthesisProgress, SynthesizedImage, synthesize,
};
use image::RgbImage;

/// The files of a diffusers Stable Diffusion repository that synthesis reads (SD 2.1-base,
/// SD-Turbo), to look up in and download into the Hugging Face cache.
pub const DIFFUSION_FILES: [&str; 10] = [
    "model_index.json",
    "scheduler/scheduler_config.json",
    "unet/config.json",
    "unet/diffusion_pytorch_model.safetensors",
    "vae/config.json",
    "vae/diffusion_pytorch_model.safetensors",
    "text_encoder/config.json",
    "text_encoder/model.safetensors",
    "tokenizer/vocab.json",
    "tokenizer/tokenizer_config.json",
];

/// A model's folder on disk: `spec` itself when it is a folder, else a repository's snapshot
/// folder in `hub`'s cache (every one of `files` must be there).
pub fn model_folder(hub: Option<&Hub>, spec: &str, files: &[&str]) -> Result<PathBuf, HubError> {
    let folder = Path::new(spec);
    if folder.is_dir() {
        return Ok(folder.to_owned());
    }
    hub.ok_or(HubError::NoCache)?.locate(spec, files)
}

/// A model's files missing from disk: none for a folder (its contents are checked when it loads),
/// the ones not in `hub`'s cache for a repository id.
pub fn model_missing(hub: Option<&Hub>, spec: &str, files: &[&str]) -> Result<Vec<String>, HubError> {
    if Path::new(spec).is_dir() {
        return Ok(Vec::new());
    }
    hub.ok_or(HubError::NoCache)?.missing(spec, files)
}

/// What a run reports.
pub enum RunEvent<'a> {
    /// A denoising step of the image of seed `seed`, the `index`-th of `count`.
    Step {
        /// The seed.
        seed: u64,
        /// Its place in the run.
        index: usize,
        /// Images in the run.
        count: usize,
        /// The step, with a preview of the clean-latent estimate now and then.
        progress: &'a SynthesisProgress,
    },
    /// An image is done (and saved, when the run has a folder).
    Image {
        /// Its row of the table.
        row: &'a ImageRow,
        /// The image.
        image: &'a RgbImage,
        /// The unguided image of the same seed, when asked for.
        unguided: Option<&'a RgbImage>,
    },
}

/// Why a run stopped.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// Synthesis failed (or was cancelled).
    #[error(transparent)]
    Synthesis(#[from] SynthesisError),
    /// An image or the table could not be written.
    #[error("{}: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// A run: the images of `seeds` for the region `voxels` of `encoder`, one after the other. With
/// `unguided`, each seed's unguided image (scale 0) is made too, for comparison.
pub struct Run<'a> {
    /// The models.
    pub models: &'a SynthesisModels,
    /// The encoder.
    pub encoder: &'a Encoder,
    /// The region: encoder row indices.
    pub voxels: &'a [usize],
    /// Mode, steps, scale, size.
    pub config: &'a SynthesisConfig,
    /// Make each seed's unguided image too.
    pub unguided: bool,
}

impl Run<'_> {
    /// Make the images of `seeds`; with `out`, save each as [`image_file_name`] (its unguided twin
    /// as `seed_00042_unguided.png`) and rewrite `out/images.tsv` after each, so an interrupted run
    /// keeps its table. Returns the table's rows.
    pub fn images(
        &self,
        seeds: &[u64],
        out: Option<&Path>,
        cancel: &AtomicBool,
        on: &mut dyn FnMut(RunEvent<'_>),
    ) -> Result<Vec<ImageRow>, RunError> {
        let mut rows = Vec::new();
        for (index, &seed) in seeds.iter().enumerate() {
            let mut step = |progress: &SynthesisProgress| {
                on(RunEvent::Step {
                    seed,
                    index,
                    count: seeds.len(),
                    progress,
                })
            };
            let guided = synthesize(
                self.models,
                self.encoder,
                self.voxels,
                self.config,
                seed,
                cancel,
                &mut step,
            )?;
            let unguided = if self.unguided {
                let plain = SynthesisConfig {
                    scale: 0.0,
                    ..self.config.clone()
                };
                Some(synthesize(
                    self.models,
                    self.encoder,
                    self.voxels,
                    &plain,
                    seed,
                    cancel,
                    &mut |_| {},
                )?)
            } else {
                None
            };
            // Named by the seed asked for (rerank's winner may be a later candidate's seed).
            let row = ImageRow {
                seed,
                file: image_file_name(seed).into(),
                roi_mean: guided.roi_mean,
                unguided_roi_mean: unguided.as_ref().map(|u| u.roi_mean),
            };
            if let Some(dir) = out {
                save(dir, &row.file, &guided)?;
                if let Some(plain) = &unguided {
                    save(dir, Path::new(&format!("seed_{:05}_unguided.png", seed)), plain)?;
                }
            }
            rows.push(row);
            if let Some(dir) = out {
                write_images_tsv(dir, &rows).map_err(|source| RunError::Write {
                    path: dir.join("images.tsv"),
                    source,
                })?;
            }
            on(RunEvent::Image {
                row: rows.last().expect("just pushed"),
                image: &guided.image,
                unguided: unguided.as_ref().map(|u| &u.image),
            });
        }
        Ok(rows)
    }
}

fn save(dir: &Path, file: &Path, image: &SynthesizedImage) -> Result<(), RunError> {
    let path = dir.join(file);
    image.image.save(&path).map_err(|e| RunError::Write {
        path,
        source: std::io::Error::other(e),
    })
}

/// The seeds of a run: `0-7`, `0,3,9` or a mix (`0-3,9,20-22`), in the order given, without repeats.
pub fn parse_seeds(text: &str) -> Result<Vec<u64>, String> {
    let mut seeds: Vec<u64> = Vec::new();
    for part in text.split(',').map(str::trim) {
        let parse = |s: &str| {
            s.trim()
                .parse::<u64>()
                .map_err(|_| format!("'{s}' is not a seed (a whole number ≥ 0)"))
        };
        let range = match part.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (parse(a)?, parse(b)?);
                if b < a {
                    return Err(format!("'{part}' runs backwards"));
                }
                if b - a >= 1_000_000 {
                    return Err(format!("'{part}' is more than a million seeds"));
                }
                a..=b
            }
            None => {
                let a = parse(part)?;
                a..=a
            }
        };
        for seed in range {
            if !seeds.contains(&seed) {
                seeds.push(seed);
            }
        }
    }
    if seeds.is_empty() {
        return Err("no seeds".into());
    }
    Ok(seeds)
}

/// One shard of a run split over a cluster job array: `K/N` keeps every `N`-th seed starting at
/// the `K`-th (`K` from 0, as SLURM's `$SLURM_ARRAY_TASK_ID` with `--array=0-(N-1)`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// This shard, `0..count`.
    pub index: usize,
    /// How many shards.
    pub count: usize,
}

impl Shard {
    /// Parse `K/N`.
    pub fn parse(text: &str) -> Result<Shard, String> {
        let (k, n) = text
            .split_once('/')
            .ok_or_else(|| format!("expected K/N (e.g. 3/10), got '{text}'"))?;
        let number = |s: &str| {
            s.trim()
                .parse::<usize>()
                .map_err(|_| format!("'{s}' is not a whole number"))
        };
        let (index, count) = (number(k)?, number(n)?);
        if count == 0 || index >= count {
            return Err(format!("shard {index}/{count}: K must be 0 to N−1, N at least 1"));
        }
        Ok(Shard { index, count })
    }

    /// The seeds this shard runs.
    pub fn seeds(self, seeds: &[u64]) -> Vec<u64> {
        seeds.iter().skip(self.index).step_by(self.count).copied().collect()
    }
}

/// The file an image of `seed` is saved as: `seed_00042.png`.
pub fn image_file_name(seed: u64) -> String {
    format!("seed_{seed:05}.png")
}

/// One row of `images.tsv`.
#[derive(Clone, Debug, PartialEq)]
pub struct ImageRow {
    /// The seed of the initial noise.
    pub seed: u64,
    /// The image's file, relative to the table's folder.
    pub file: PathBuf,
    /// The encoder's mean predicted response over the region for the saved image.
    pub roi_mean: f32,
    /// The same for the unguided image of the same seed, when it was made.
    pub unguided_roi_mean: Option<f32>,
}

/// The table of a run: a header row, then `seed file roi_mean` (and `unguided_roi_mean` when any
/// row has it), tab-separated; tables of a run's shards concatenate (skip their header rows).
pub fn images_tsv(rows: &[ImageRow]) -> String {
    let unguided = rows.iter().any(|r| r.unguided_roi_mean.is_some());
    let mut out = String::from("seed\tfile\troi_mean");
    out.push_str(if unguided { "\tunguided_roi_mean\n" } else { "\n" });
    for row in rows {
        let _ = write!(out, "{}\t{}\t{:.6}", row.seed, row.file.display(), row.roi_mean);
        if unguided {
            let value = row.unguided_roi_mean.map_or(String::from("n/a"), |v| format!("{v:.6}"));
            let _ = write!(out, "\t{value}");
        }
        out.push('\n');
    }
    out
}

/// Write `images.tsv` into `dir`.
pub fn write_images_tsv(dir: &Path, rows: &[ImageRow]) -> std::io::Result<PathBuf> {
    let path = dir.join("images.tsv");
    std::fs::write(&path, images_tsv(rows))?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_as_ranges_and_lists() {
        assert_eq!(parse_seeds("0-7").unwrap(), (0..=7).collect::<Vec<u64>>());
        assert_eq!(parse_seeds("0,3,9").unwrap(), vec![0, 3, 9]);
        assert_eq!(parse_seeds("5, 0-2 ,2").unwrap(), vec![5, 0, 1, 2]);
        assert!(parse_seeds("7-3").is_err());
        assert!(parse_seeds("a").is_err());
        assert!(parse_seeds("").is_err());
        assert!(parse_seeds("0-99999999").is_err());
    }

    #[test]
    fn shards_split_the_seeds_without_overlap() {
        let seeds: Vec<u64> = (0..1000).collect();
        let shards: Vec<Vec<u64>> = (0..7)
            .map(|k| Shard::parse(&format!("{k}/7")).unwrap().seeds(&seeds))
            .collect();
        assert_eq!(shards[3][..3], [3, 10, 17]);
        let mut all: Vec<u64> = shards.concat();
        all.sort_unstable();
        assert_eq!(all, seeds, "every seed once");
        assert!(Shard::parse("7/7").is_err());
        assert!(Shard::parse("0/0").is_err());
        assert!(Shard::parse("3").is_err());
    }

    #[test]
    fn the_table_has_a_header_and_one_row_per_image() {
        let rows = [
            ImageRow {
                seed: 3,
                file: image_file_name(3).into(),
                roi_mean: 0.25,
                unguided_roi_mean: None,
            },
            ImageRow {
                seed: 12,
                file: image_file_name(12).into(),
                roi_mean: -1.5,
                unguided_roi_mean: Some(-2.0),
            },
        ];
        assert_eq!(
            images_tsv(&rows),
            "seed\tfile\troi_mean\tunguided_roi_mean\n3\tseed_00003.png\t0.250000\tn/a\n12\tseed_00012.png\t-1.500000\t-2.000000\n"
        );
        assert_eq!(
            images_tsv(&rows[..1]),
            "seed\tfile\troi_mean\n3\tseed_00003.png\t0.250000\n"
        );
    }
}

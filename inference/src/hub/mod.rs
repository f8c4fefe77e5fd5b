//! Model files on disk: a local folder, or a Hugging Face repository found in the standard Hugging
//! Face cache (`$HF_HOME/hub`, else `~/.cache/huggingface/hub`) and, when asked, downloaded into it
//! with hf-hub ([`Hub::download`]: progress reports and cancel).

mod download;
#[cfg(feature = "testing")]
pub mod mirror;

pub use download::DownloadProgress;

use std::path::{Path, PathBuf};

use hf_hub::Cache;

/// The Hugging Face address used when `HF_ENDPOINT` is not set.
pub const DEFAULT_ENDPOINT: &str = "https://huggingface.co";

/// Why a model's files could not be found or fetched.
#[derive(Debug, thiserror::Error)]
pub enum HubError {
    /// Neither a folder nor a repository id (`owner/name`).
    #[error("{0}: no such folder, and not a Hugging Face repository id (owner/name)")]
    NotFound(String),
    /// A repository whose files are not all in the cache, and downloading was not allowed.
    #[error(
        "{repo}: {} not in the Hugging Face cache {}; download them (online) or put the files in a folder",
        missing.join(", "),
        cache.display()
    )]
    NotCached {
        /// The repository.
        repo: String,
        /// The files missing from the cache.
        missing: Vec<String>,
        /// The cache folder searched.
        cache: PathBuf,
    },
    /// Downloading failed (offline, unknown repository, missing file…).
    #[error("downloading {file} from {repo}: {message}")]
    Download {
        /// The repository.
        repo: String,
        /// The file.
        file: String,
        /// What went wrong.
        message: String,
    },
    /// The user cancelled a download; what arrived stays in the cache and the next download resumes it.
    #[error("download cancelled")]
    Cancelled,
    /// No home folder and no `HF_HOME`: there is no cache to look in.
    #[error("no Hugging Face cache: set HF_HOME or HOME")]
    NoCache,
}

/// Where models are looked up and fetched from: a Hugging Face cache folder and a hub address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hub {
    /// The cache folder (`…/huggingface/hub`).
    pub cache_dir: PathBuf,
    /// The hub's address (`https://huggingface.co`, or a mirror).
    pub endpoint: String,
}

impl Hub {
    /// The standard cache, `$HF_HOME/hub` else `$HOME/.cache/huggingface/hub`, and the address
    /// `$HF_ENDPOINT` else [`DEFAULT_ENDPOINT`] (as Hugging Face's own tools read them).
    pub fn from_env() -> Result<Hub, HubError> {
        let cache_dir = match std::env::var_os("HF_HOME") {
            Some(home) => PathBuf::from(home).join("hub"),
            None => {
                let home = std::env::var_os("HOME").ok_or(HubError::NoCache)?;
                PathBuf::from(home).join(".cache/huggingface/hub")
            }
        };
        let endpoint = std::env::var("HF_ENDPOINT")
            .ok()
            .filter(|e| !e.is_empty())
            .unwrap_or_else(|| DEFAULT_ENDPOINT.to_owned());
        Ok(Hub { cache_dir, endpoint })
    }

    fn cache(&self) -> Cache {
        Cache::new(self.cache_dir.clone())
    }

    /// Which of `files` of model `spec` are not on disk: none for a folder (the caller checks its
    /// contents), the ones missing from the cache for a repository id.
    pub fn missing(&self, spec: &str, files: &[&str]) -> Result<Vec<String>, HubError> {
        if Path::new(spec).is_dir() {
            return Ok(Vec::new());
        }
        if !is_repo_id(spec) {
            return Err(HubError::NotFound(spec.to_owned()));
        }
        let repo = self.cache().model(spec.to_owned());
        Ok(files
            .iter()
            .filter(|f| repo.get(f).is_none())
            .map(|f| f.to_string())
            .collect())
    }

    /// The folder holding `files` of model `spec`: `spec` itself when it is a folder; else, for a
    /// repository id, its snapshot folder in the cache (every file must be there). The caller checks
    /// the files' contents.
    pub fn locate(&self, spec: &str, files: &[&str]) -> Result<PathBuf, HubError> {
        let folder = Path::new(spec);
        if folder.is_dir() {
            return Ok(folder.to_owned());
        }
        let missing = self.missing(spec, files)?;
        let not_cached = |missing: Vec<String>| HubError::NotCached {
            repo: spec.to_owned(),
            missing,
            cache: self.cache_dir.clone(),
        };
        if !missing.is_empty() {
            return Err(not_cached(missing));
        }
        let first = files
            .first()
            .and_then(|f| self.cache().model(spec.to_owned()).get(f))
            .ok_or_else(|| not_cached(files.iter().map(|f| f.to_string()).collect()))?;
        Ok(first.parent().map_or_else(|| self.cache_dir.clone(), Path::to_owned))
    }
}

/// Whether `spec` reads as a repository id: `owner/name`, each part of letters, digits, `-`, `_`, `.`.
pub fn is_repo_id(spec: &str) -> bool {
    let parts: Vec<&str> = spec.split('/').collect();
    parts.len() == 2
        && parts.iter().all(|p| {
            !p.is_empty() && !p.starts_with('.') && p.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A cache laid out as hf-hub and huggingface_hub write it: refs/main → snapshots/<commit>/.
    fn fake_cache(files: &[&str]) -> Hub {
        let dir = std::env::temp_dir().join(format!("cortexlens-hub-{}-{}", std::process::id(), files.len()));
        let repo = dir.join("models--openai--tiny-clip");
        std::fs::create_dir_all(repo.join("refs")).unwrap();
        std::fs::write(repo.join("refs/main"), "0123abc").unwrap();
        let snapshot = repo.join("snapshots/0123abc");
        std::fs::create_dir_all(&snapshot).unwrap();
        for f in files {
            std::fs::write(snapshot.join(f), b"x").unwrap();
        }
        Hub {
            cache_dir: dir,
            endpoint: DEFAULT_ENDPOINT.to_owned(),
        }
    }

    #[test]
    fn folders_repositories_and_missing_files() {
        let hub = fake_cache(&["config.json", "model.safetensors"]);
        let files = ["config.json", "model.safetensors"];
        let dir = hub.locate("openai/tiny-clip", &files).unwrap();
        assert_eq!(dir, hub.cache_dir.join("models--openai--tiny-clip/snapshots/0123abc"));
        assert_eq!(
            hub.locate(dir.to_str().unwrap(), &files).unwrap(),
            dir,
            "a folder is itself"
        );
        let partial = fake_cache(&["config.json"]);
        assert_eq!(
            partial.missing("openai/tiny-clip", &files).unwrap(),
            ["model.safetensors"]
        );
        let err = partial.locate("openai/tiny-clip", &files).unwrap_err();
        assert!(
            matches!(&err, HubError::NotCached { missing, .. } if missing == &["model.safetensors"]),
            "{err}"
        );
        assert!(
            err.to_string()
                .contains("model.safetensors not in the Hugging Face cache")
        );
        assert!(matches!(
            hub.locate("no/such/thing", &files),
            Err(HubError::NotFound(_))
        ));
        assert!(is_repo_id("openai/clip-vit-base-patch32") && !is_repo_id("../x") && !is_repo_id("a/"));
    }
}

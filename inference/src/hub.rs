//! Model files on disk: a local folder, or a Hugging Face repository found in the standard Hugging
//! Face cache (`$HF_HOME/hub`, else `~/.cache/huggingface/hub`) and, when asked, downloaded into it
//! with hf-hub (a progress bar on the terminal).

use std::path::{Path, PathBuf};

use hf_hub::Cache;
use hf_hub::api::sync::ApiBuilder;

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
    /// No home folder and no `HF_HOME`: there is no cache to look in.
    #[error("no Hugging Face cache: set HF_HOME or HOME")]
    NoCache,
}

/// The standard Hugging Face cache folder: `$HF_HOME/hub`, else `$HOME/.cache/huggingface/hub`.
pub fn default_cache_dir() -> Result<PathBuf, HubError> {
    if let Some(home) = std::env::var_os("HF_HOME") {
        return Ok(PathBuf::from(home).join("hub"));
    }
    let home = std::env::var_os("HOME").ok_or(HubError::NoCache)?;
    Ok(PathBuf::from(home).join(".cache/huggingface/hub"))
}

/// Whether `spec` reads as a repository id: `owner/name`, each part of letters, digits, `-`, `_`, `.`.
pub fn is_repo_id(spec: &str) -> bool {
    let parts: Vec<&str> = spec.split('/').collect();
    parts.len() == 2
        && parts.iter().all(|p| {
            !p.is_empty() && !p.starts_with('.') && p.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        })
}

/// The folder holding `files` of model `spec`: `spec` itself when it is a folder; else, for a
/// repository id, its snapshot folder in the cache at `cache_dir`, downloading missing files first
/// when `download` (with a progress bar). The caller checks the files' contents.
pub fn resolve(spec: &str, files: &[&str], cache_dir: &Path, download: bool) -> Result<PathBuf, HubError> {
    let folder = Path::new(spec);
    if folder.is_dir() {
        return Ok(folder.to_owned());
    }
    if !is_repo_id(spec) {
        return Err(HubError::NotFound(spec.to_owned()));
    }
    let cache = Cache::new(cache_dir.to_owned());
    let cached = |file: &str| cache.model(spec.to_owned()).get(file);
    let missing: Vec<String> = files
        .iter()
        .filter(|f| cached(f).is_none())
        .map(|f| f.to_string())
        .collect();
    if !missing.is_empty() {
        if !download {
            return Err(HubError::NotCached {
                repo: spec.to_owned(),
                missing,
                cache: cache_dir.to_owned(),
            });
        }
        let api = ApiBuilder::from_cache(cache.clone())
            .with_progress(true)
            .build()
            .map_err(|e| HubError::Download {
                repo: spec.to_owned(),
                file: missing[0].clone(),
                message: e.to_string(),
            })?;
        let repo = api.model(spec.to_owned());
        for file in &missing {
            repo.get(file).map_err(|e| HubError::Download {
                repo: spec.to_owned(),
                file: file.clone(),
                message: e.to_string(),
            })?;
        }
    }
    let first = files
        .first()
        .and_then(|f| cached(f))
        .ok_or_else(|| HubError::NotCached {
            repo: spec.to_owned(),
            missing: files.iter().map(|f| f.to_string()).collect(),
            cache: cache_dir.to_owned(),
        })?;
    Ok(first.parent().map_or_else(|| cache_dir.to_owned(), Path::to_owned))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A cache laid out as hf-hub and huggingface_hub write it: refs/main → snapshots/<commit>/.
    fn fake_cache(files: &[&str]) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("cortexlens-hub-{}-{}", std::process::id(), files.len()));
        let repo = dir.join("models--openai--tiny-clip");
        std::fs::create_dir_all(repo.join("refs")).unwrap();
        std::fs::write(repo.join("refs/main"), "0123abc").unwrap();
        let snapshot = repo.join("snapshots/0123abc");
        std::fs::create_dir_all(&snapshot).unwrap();
        for f in files {
            std::fs::write(snapshot.join(f), b"x").unwrap();
        }
        dir
    }

    #[test]
    fn folders_repositories_and_missing_files() {
        let cache = fake_cache(&["config.json", "model.safetensors"]);
        let files = ["config.json", "model.safetensors"];
        let dir = resolve("openai/tiny-clip", &files, &cache, false).unwrap();
        assert_eq!(dir, cache.join("models--openai--tiny-clip/snapshots/0123abc"));
        assert_eq!(
            resolve(dir.to_str().unwrap(), &files, &cache, false).unwrap(),
            dir,
            "a folder is itself"
        );
        let partial = fake_cache(&["config.json"]);
        let err = resolve("openai/tiny-clip", &files, &partial, false).unwrap_err();
        assert!(
            matches!(&err, HubError::NotCached { missing, .. } if missing == &["model.safetensors"]),
            "{err}"
        );
        assert!(
            err.to_string()
                .contains("model.safetensors not in the Hugging Face cache")
        );
        assert!(matches!(
            resolve("no/such/thing", &files, &cache, false),
            Err(HubError::NotFound(_))
        ));
        assert!(is_repo_id("openai/clip-vit-base-patch32") && !is_repo_id("../x") && !is_repo_id("a/"));
    }
}

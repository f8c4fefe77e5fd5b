//! Downloading models into the Hugging Face cache, against a local stand-in for the hub: files
//! arrive byte for byte with progress, a cancelled download stops mid-file and the next one resumes
//! it, files already cached are not fetched again, and failures are errors that name the file.

use std::sync::atomic::{AtomicBool, Ordering};

use cortexlens_inference::hub::mirror::LocalMirror;
use cortexlens_inference::hub::{DownloadProgress, Hub, HubError};

const REPO: &str = "tiny/clip";
const FILES: [&str; 2] = ["config.json", "model.safetensors"];

/// A 1 MiB pseudo-random "model" and a small config.
fn contents() -> (Vec<u8>, Vec<u8>) {
    let config = br#"{"projection_dim": 32}"#.to_vec();
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let model = (0..1 << 20)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect();
    (config, model)
}

fn hub(name: &str, mirror: &LocalMirror) -> Hub {
    let cache_dir = std::env::temp_dir().join(format!("cortexlens-hub-dl-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&cache_dir);
    Hub {
        cache_dir,
        endpoint: mirror.endpoint(),
    }
}

#[test]
fn downloads_every_file_with_progress() {
    let (config, model) = contents();
    let mirror = LocalMirror::serve(vec![(REPO, FILES[0], config.clone()), (REPO, FILES[1], model.clone())]).unwrap();
    let hub = hub("full", &mirror);
    assert_eq!(hub.missing(REPO, &FILES).unwrap(), FILES);
    let mut reports: Vec<DownloadProgress> = Vec::new();
    let folder = hub
        .download(REPO, &FILES, &mut |p| reports.push(p.clone()), &AtomicBool::new(false))
        .unwrap();
    assert_eq!(std::fs::read(folder.join("config.json")).unwrap(), config);
    assert_eq!(std::fs::read(folder.join("model.safetensors")).unwrap(), model);
    assert_eq!(hub.locate(REPO, &FILES).unwrap(), folder);
    assert!(hub.missing(REPO, &FILES).unwrap().is_empty());

    // Per file, bytes only grow and end at the file's size.
    for (index, (file, size)) in [(FILES[0], config.len()), (FILES[1], model.len())]
        .into_iter()
        .enumerate()
    {
        let of_file: Vec<&DownloadProgress> = reports.iter().filter(|p| p.file == file).collect();
        assert!(
            of_file
                .iter()
                .all(|p| p.index == index && p.count == 2 && p.size == size as u64)
        );
        assert!(
            of_file.windows(2).all(|w| w[0].bytes <= w[1].bytes),
            "{file}: bytes went back"
        );
        assert_eq!(of_file.last().unwrap().bytes, size as u64, "{file}");
    }
    assert!(
        reports.iter().filter(|p| p.file == FILES[1]).count() > 10,
        "progress during the large file"
    );

    // Nothing is fetched again once cached.
    let before = mirror.requests().len();
    hub.download(REPO, &FILES, &mut |_| {}, &AtomicBool::new(false))
        .unwrap();
    assert_eq!(mirror.requests().len(), before);
}

#[test]
fn a_cancelled_download_stops_mid_file_and_the_next_resumes_it() {
    let (config, model) = contents();
    let mirror = LocalMirror::serve(vec![(REPO, FILES[0], config), (REPO, FILES[1], model.clone())]).unwrap();
    let hub = hub("cancel", &mirror);
    // The hub pauses after 64 KiB of the model, so that the cancel lands mid-file (a local
    // transfer would otherwise finish before the transfer thread sees it).
    mirror.hold_after(64 << 10);
    let cancel = AtomicBool::new(false);
    let mut last = None;
    let result = hub.download(
        REPO,
        &["model.safetensors"],
        &mut |p| {
            if p.bytes > 0 {
                cancel.store(true, Ordering::Relaxed);
            }
            last = Some(p.clone());
        },
        &cancel,
    );
    assert!(matches!(result, Err(HubError::Cancelled)), "{result:?}");
    // The stopped transfer ends at its next read.
    mirror.release();
    let stopped_at = last.unwrap().bytes;
    assert!(
        stopped_at > 0 && stopped_at < model.len() as u64 / 4,
        "stopped at {stopped_at}"
    );
    assert_eq!(
        hub.missing(REPO, &FILES).unwrap(),
        FILES,
        "nothing half-fetched counts as cached"
    );

    // The next download asks only for the rest, and the file is whole.
    let folder = hub
        .download(REPO, &FILES, &mut |_| {}, &AtomicBool::new(false))
        .unwrap();
    assert_eq!(std::fs::read(folder.join("model.safetensors")).unwrap(), model);
    let resumed = mirror
        .requests()
        .iter()
        .filter(|r| r.starts_with("model.safetensors bytes="))
        .filter_map(|r| r.split('=').nth(1)?.strip_suffix('-')?.parse::<u64>().ok())
        .max();
    assert!(
        resumed.is_some_and(|start| start > 0),
        "no resumed range in {:?}",
        mirror.requests()
    );
}

#[test]
fn failures_name_the_file() {
    let (config, _) = contents();
    let mirror = LocalMirror::serve(vec![(REPO, FILES[0], config)]).unwrap();
    let hub = hub("fail", &mirror);
    let err = hub
        .download(REPO, &FILES, &mut |_| {}, &AtomicBool::new(false))
        .unwrap_err();
    assert!(
        matches!(&err, HubError::Download { file, .. } if file == "model.safetensors"),
        "{err}"
    );
    assert!(
        hub.missing(REPO, &FILES).unwrap() == ["model.safetensors"],
        "config.json arrived"
    );

    // Offline: nothing listens at the address.
    let offline = Hub {
        endpoint: "http://127.0.0.1:9".into(),
        ..hub.clone()
    };
    let err = offline
        .download("tiny/other", &FILES, &mut |_| {}, &AtomicBool::new(false))
        .unwrap_err();
    assert!(
        err.to_string().contains("downloading config.json from tiny/other"),
        "{err}"
    );
    assert!(matches!(
        hub.download("not a repo", &FILES, &mut |_| {}, &AtomicBool::new(false)),
        Err(HubError::NotFound(_))
    ));
}

#[test]
fn cancel_returns_while_the_connection_is_stalled() {
    let (config, model) = contents();
    let mirror = LocalMirror::serve(vec![(REPO, FILES[0], config), (REPO, FILES[1], model)]).unwrap();
    // The hub sends 4 KiB of the model, then nothing until released.
    mirror.hold_after(4096);
    let hub = hub("stall", &mirror);
    let (done, result) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let cancel = AtomicBool::new(false);
        let outcome = hub.download(
            REPO,
            &FILES,
            &mut |p| {
                if p.file == FILES[1] && p.bytes > 0 {
                    cancel.store(true, Ordering::Relaxed);
                }
            },
            &cancel,
        );
        let _ = done.send(outcome);
    });
    // Cancelling takes one poll (50 ms); the wait is a bound only a hang exceeds, so that a busy
    // 2-core debug build cannot fail it.
    let outcome = result
        .recv_timeout(std::time::Duration::from_secs(60))
        .expect("the cancelled download returns although no byte arrives");
    assert!(matches!(outcome, Err(HubError::Cancelled)), "{outcome:?}");
    mirror.release();
}

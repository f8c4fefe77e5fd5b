//! Choosing files and folders so that a dialog always appears: the desktop's own dialog (rfd:
//! the XDG desktop portal, else zenity) where one can be shown, else an in-window file browser
//! (`egui_file`) — on a plain X11 session, VNC or X forwarding from a cluster, where rfd finds
//! neither and would silently choose nothing. Both start in the last folder used and filter by
//! the formats asked for.
//!
//! A request is answered later (the in-window browser takes several frames): [`FileDialogs::ask`]
//! returns a [`DialogId`], and the asker takes the answer with [`FileDialogs::take`].
//! `CORTEXLENS_FILE_DIALOG=native|builtin` overrides the choice.

use std::path::{Path, PathBuf};

/// The environment variable that chooses the dialogs: `native` or `builtin`.
pub const DIALOG_ENV: &str = "CORTEXLENS_FILE_DIALOG";

/// Identifies one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DialogId(u64);

/// What to choose.
#[derive(Clone, Debug, PartialEq)]
pub enum Choose {
    /// One or more existing files.
    Files,
    /// One existing file.
    File,
    /// One folder.
    Folder,
    /// A file to write, with a suggested name.
    Save(String),
}

/// A request for paths.
#[derive(Clone, Debug, PartialEq)]
pub struct FileRequest {
    /// The dialog's title.
    pub title: String,
    /// What to choose.
    pub choose: Choose,
    /// The files offered: a name and the name endings (`nii.gz`, `gii`, …); none offers all.
    pub filter: Option<(String, Vec<String>)>,
}

impl FileRequest {
    /// Choose `choose` under `title`, offering every file.
    pub fn new(title: impl Into<String>, choose: Choose) -> FileRequest {
        FileRequest {
            title: title.into(),
            choose,
            filter: None,
        }
    }

    /// Offer only files whose names end in one of `endings` (without the dot), shown as `name`.
    pub fn filter(mut self, name: impl Into<String>, endings: &[&str]) -> FileRequest {
        self.filter = Some((name.into(), endings.iter().map(|e| e.to_string()).collect()));
        self
    }

    /// Whether `path`'s name ends in one of the filter's endings (any case; always without a filter).
    pub fn offers(&self, path: &Path) -> bool {
        let Some((_, endings)) = &self.filter else {
            return true;
        };
        let name = path
            .file_name()
            .map_or(String::new(), |n| n.to_string_lossy().to_ascii_lowercase());
        endings.iter().any(|e| {
            name.len() > e.len()
                && name.ends_with(&e.to_ascii_lowercase())
                && name[..name.len() - e.len()].ends_with('.')
        })
    }
}

/// Which dialogs are used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Backend {
    /// The desktop's dialog through rfd.
    Native,
    /// The in-window browser.
    Builtin,
}

/// The in-window browser answering one request.
struct Browser {
    id: DialogId,
    dialog: egui_file::FileDialog,
}

/// Every dialog of the window: asks, shows the in-window browser, hands out answers.
pub struct FileDialogs {
    /// `None` until the first request decides (the desktop is probed then, not at start-up).
    backend: Option<Backend>,
    last_folder: Option<PathBuf>,
    next: u64,
    browser: Option<Browser>,
    answers: Vec<(DialogId, Vec<PathBuf>)>,
}

impl Default for FileDialogs {
    /// The desktop's dialogs when one can be shown (or as `CORTEXLENS_FILE_DIALOG` says).
    fn default() -> Self {
        let backend = match std::env::var(DIALOG_ENV).as_deref() {
            Ok("native") => Some(Backend::Native),
            Ok("builtin") => Some(Backend::Builtin),
            _ => None,
        };
        FileDialogs {
            backend,
            last_folder: None,
            next: 0,
            browser: None,
            answers: Vec::new(),
        }
    }
}

impl FileDialogs {
    /// Always the in-window browser, starting in `folder` (as where no desktop dialog can be shown).
    pub fn builtin(folder: Option<PathBuf>) -> FileDialogs {
        FileDialogs {
            backend: Some(Backend::Builtin),
            last_folder: folder,
            ..FileDialogs::default()
        }
    }

    /// Ask for paths; the answer comes with [`FileDialogs::take`] (at once for the desktop's dialog,
    /// which blocks; after the user chose for the in-window one). A new request replaces an open one,
    /// whose answer is then empty.
    pub fn ask(&mut self, request: FileRequest) -> DialogId {
        self.next += 1;
        let id = DialogId(self.next);
        let backend = *self.backend.get_or_insert_with(|| {
            if native_dialog_available() {
                Backend::Native
            } else {
                tracing::info!("no desktop file dialog (XDG portal or zenity): using the in-window browser");
                Backend::Builtin
            }
        });
        match backend {
            Backend::Native => {
                let paths = self.native(&request);
                self.answer(id, paths);
            }
            Backend::Builtin => {
                if let Some(replaced) = self.browser.take() {
                    self.answers.push((replaced.id, Vec::new()));
                }
                let dialog = self.browser_for(&request);
                self.browser = Some(Browser { id, dialog });
            }
        }
        id
    }

    /// The answer to `id` once there is one: the chosen paths, empty when the user cancelled.
    pub fn take(&mut self, id: DialogId) -> Option<Vec<PathBuf>> {
        let at = self.answers.iter().position(|(answered, _)| *answered == id)?;
        Some(self.answers.swap_remove(at).1)
    }

    /// The chosen path of a one-path request, once answered (`Some(None)` when cancelled).
    pub fn take_one(&mut self, id: DialogId) -> Option<Option<PathBuf>> {
        self.take(id).map(|paths| paths.into_iter().next())
    }

    /// Whether the in-window browser is showing.
    pub fn is_showing(&self) -> bool {
        self.browser.is_some()
    }

    /// Draw the in-window browser, if one is open, and take its answer.
    pub fn show(&mut self, ctx: &egui::Context) {
        let Some(browser) = &mut self.browser else {
            return;
        };
        let state = browser.dialog.show(ctx).state();
        let paths = match state {
            egui_file::State::Open => return,
            egui_file::State::Selected => {
                let chosen: Vec<PathBuf> = browser.dialog.selection().into_iter().map(Path::to_owned).collect();
                if chosen.is_empty() {
                    browser.dialog.path().map(Path::to_owned).into_iter().collect()
                } else {
                    chosen
                }
            }
            egui_file::State::Cancelled | egui_file::State::Closed => Vec::new(),
        };
        if let Some(browser) = self.browser.take() {
            self.answer(browser.id, paths);
        }
    }

    /// Keep an answer, and its folder as the next dialog's start.
    fn answer(&mut self, id: DialogId, paths: Vec<PathBuf>) {
        if let Some(first) = paths.first() {
            let folder = if first.is_dir() {
                Some(first.as_path())
            } else {
                first.parent()
            };
            self.last_folder = folder.map(Path::to_owned);
        }
        self.answers.push((id, paths));
    }

    /// The desktop's dialog (blocks until the user chose).
    fn native(&self, request: &FileRequest) -> Vec<PathBuf> {
        let mut dialog = rfd::FileDialog::new().set_title(&request.title);
        if let Some(folder) = &self.last_folder {
            dialog = dialog.set_directory(folder);
        }
        if let Some((name, endings)) = &request.filter {
            // Desktop dialogs match the last extension only (`gz` of `nii.gz`).
            let mut last: Vec<&str> = endings.iter().map(|e| e.rsplit('.').next().unwrap_or(e)).collect();
            last.sort_unstable();
            last.dedup();
            dialog = dialog.add_filter(name, &last).add_filter("All files", &["*"]);
        }
        match &request.choose {
            Choose::Files => dialog.pick_files().unwrap_or_default(),
            Choose::File => dialog.pick_file().into_iter().collect(),
            Choose::Folder => dialog.pick_folder().into_iter().collect(),
            Choose::Save(name) => dialog.set_file_name(name).save_file().into_iter().collect(),
        }
    }

    /// The in-window browser for `request`, in the last folder (else the working folder).
    fn browser_for(&self, request: &FileRequest) -> egui_file::FileDialog {
        let folder = self
            .last_folder
            .clone()
            .or_else(|| std::env::current_dir().ok())
            .unwrap_or_else(|| PathBuf::from("."));
        let mut dialog = match &request.choose {
            Choose::Files => egui_file::FileDialog::open_file().multi_select(true),
            Choose::File => egui_file::FileDialog::open_file(),
            Choose::Folder => egui_file::FileDialog::select_folder(),
            Choose::Save(name) => egui_file::FileDialog::save_file().default_filename(name.clone()),
        }
        .initial_path(folder)
        .title(&request.title);
        if request.filter.is_some() && request.choose != Choose::Folder {
            let filter = request.clone();
            dialog = dialog.show_files_filter(Box::new(move |path: &Path| path.is_dir() || filter.offers(path)));
        }
        dialog.open();
        dialog
    }
}

/// Whether rfd can show a dialog here: a session bus with the XDG desktop portal running or
/// activatable, or `zenity` on the `PATH` (rfd's fallback).
pub fn native_dialog_available() -> bool {
    portal_available() || zenity_available()
}

fn portal_available() -> bool {
    const PORTAL: &str = "org.freedesktop.portal.Desktop";
    let probe = || -> zbus::Result<bool> {
        let connection = zbus::blocking::Connection::session()?;
        let bus = zbus::blocking::fdo::DBusProxy::new(&connection)?;
        let name = zbus::names::BusName::try_from(PORTAL)?;
        Ok(bus.name_has_owner(name)? || bus.list_activatable_names()?.iter().any(|n| n.as_str() == PORTAL))
    };
    probe().unwrap_or(false)
}

fn zenity_available() -> bool {
    std::env::var_os("PATH").is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join("zenity").is_file()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_match_whole_endings_in_any_case() {
        let request = FileRequest::new("Open", Choose::Files).filter("Brain data", &["nii.gz", "pial", "gii"]);
        assert!(request.offers(Path::new("/d/sub-01_T1w.nii.gz")));
        assert!(request.offers(Path::new("lh.PIAL")));
        assert!(!request.offers(Path::new("notes.gz")), "gz alone is not nii.gz");
        assert!(!request.offers(Path::new("gii")), "a name that is only the ending");
        assert!(FileRequest::new("Open", Choose::File).offers(Path::new("anything")));
    }

    #[test]
    fn the_builtin_browser_answers_later_and_a_new_request_replaces_an_open_one() {
        let mut dialogs = FileDialogs::builtin(Some(std::env::temp_dir()));
        let first = dialogs.ask(FileRequest::new("Open", Choose::File));
        assert!(dialogs.is_showing());
        assert_eq!(dialogs.take(first), None, "not answered yet");
        let second = dialogs.ask(FileRequest::new("Save", Choose::Save("a.png".into())));
        assert_eq!(dialogs.take(first), Some(Vec::new()), "replaced: answered empty");
        assert_eq!(dialogs.take(second), None);
    }
}

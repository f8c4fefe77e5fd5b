//! Messages for the user, shown at the bottom of the window: errors stay until dismissed.

use crate::jobs::JobError;

/// A message shown in the window.
#[derive(Clone, Debug, PartialEq)]
pub enum UserMessage {
    /// Something failed; shown until dismissed.
    Error(String),
    /// Something worked.
    Info(String),
}

/// The messages shown, oldest first.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Messages(Vec<UserMessage>);

impl Messages {
    /// Say that something worked.
    pub fn info(&mut self, text: impl Into<String>) {
        self.0.push(UserMessage::Info(text.into()));
    }

    /// Say that something failed.
    pub fn error(&mut self, text: impl Into<String>) {
        self.0.push(UserMessage::Error(text.into()));
    }

    /// Say how a job that did not finish ended, the same way for every kind of job: "LABEL
    /// cancelled" (information) or "LABEL failed: ERROR".
    pub fn job_ended(&mut self, label: &str, error: &JobError) {
        match error {
            JobError::Cancelled => self.info(format!("{label} cancelled")),
            JobError::Failed(error) => self.error(format!("{label} failed: {error}")),
        }
    }

    /// The messages, oldest first.
    pub fn all(&self) -> &[UserMessage] {
        &self.0
    }

    /// Remove message `index`.
    pub fn dismiss(&mut self, index: usize) {
        if index < self.0.len() {
            self.0.remove(index);
        }
    }

    /// Remove every message.
    pub fn clear(&mut self) {
        self.0.clear();
    }
}

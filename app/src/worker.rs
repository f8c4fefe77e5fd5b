//! One long task on its own thread — a fit, a bake, a caption request — with the latest progress
//! report, a cancel flag and the result, each read by the UI without blocking. The worker wakes the
//! UI (`notify`) after every report and when it finishes.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, channel};
use std::sync::{Arc, Mutex};

/// A task running on a worker thread, reporting progress `P` and finishing with `R`.
pub struct Worker<P, R> {
    progress: Arc<Mutex<Option<P>>>,
    cancel: Arc<AtomicBool>,
    result: Receiver<R>,
}

impl<P: Clone + Send + 'static, R: Send + 'static> Worker<P, R> {
    /// Run `task(report, cancel)` on a thread named `name`; `report` keeps the latest progress.
    pub fn spawn(
        name: &str,
        notify: Arc<dyn Fn() + Send + Sync>,
        task: impl FnOnce(&mut dyn FnMut(P), &AtomicBool) -> R + Send + 'static,
    ) -> Worker<P, R> {
        let progress = Arc::new(Mutex::new(None));
        let cancel = Arc::new(AtomicBool::new(false));
        let (sender, result) = channel();
        let (progress_w, cancel_w) = (progress.clone(), cancel.clone());
        std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || {
                let outcome = task(
                    &mut |p| {
                        if let Ok(mut slot) = progress_w.lock() {
                            *slot = Some(p);
                        }
                        notify();
                    },
                    &cancel_w,
                );
                let _ = sender.send(outcome);
                notify();
            })
            .expect("spawning a worker thread");
        Worker {
            progress,
            cancel,
            result,
        }
    }

    /// The latest progress report.
    pub fn progress(&self) -> Option<P> {
        self.progress.lock().ok().and_then(|p| p.clone())
    }

    /// Ask the task to stop (it reads the flag at its own pace).
    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::Relaxed);
    }

    /// The result, once the task has finished (taken by the first call that sees it).
    pub fn poll(&self) -> Option<R> {
        self.result.try_recv().ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    fn wait<P: Clone + Send + 'static, R: Send + 'static>(worker: &Worker<P, R>) -> R {
        let start = Instant::now();
        loop {
            if let Some(r) = worker.poll() {
                return r;
            }
            assert!(start.elapsed() < Duration::from_secs(10), "the worker did not finish");
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    #[test]
    fn reports_progress_finishes_and_cancels() {
        let woken = Arc::new(Mutex::new(0));
        let counter = woken.clone();
        let notify = Arc::new(move || *counter.lock().unwrap() += 1);
        let worker = Worker::spawn("test", notify, |report, _| {
            for i in 1..=3 {
                report(i);
            }
            "done"
        });
        assert_eq!(wait(&worker), "done");
        assert_eq!(worker.progress(), Some(3));
        assert_eq!(*woken.lock().unwrap(), 4, "after each report and at the end");
        assert_eq!(worker.poll(), None, "the result is taken once");

        let (go, wait_go) = channel::<()>();
        let worker: Worker<(), bool> = Worker::spawn("test", Arc::new(|| {}), move |_, cancel| {
            wait_go.recv().unwrap();
            cancel.load(Ordering::Relaxed)
        });
        worker.cancel();
        go.send(()).unwrap();
        assert!(wait(&worker), "the task saw the cancel flag");
    }
}

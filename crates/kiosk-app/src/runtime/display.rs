//! The seam to the screen. The Slint UI implements [`Display`]; `--headless` and the tests use
//! [`JsonLinesDisplay`], which writes every view as one JSON line.

use std::io::Write;

use kiosk_core::View;

/// Something that shows views. Called on the core thread: an implementation hands the view to
/// its own UI thread and returns at once.
pub trait Display: Send {
    /// Shows `view`; `photo` is the portrait (JPEG or JPEG 2000) when the view's identity has one.
    fn show(&mut self, view: View, photo: Option<Vec<u8>>);
    /// Forgets everything personal the screen holds (models, the photo).
    fn clear(&mut self);
}

/// Whether stdout is connected to the systemd journal: systemd names the stream it gave the
/// service in `JOURNAL_STREAM` as `DEVICE:INODE`, which is compared with stdout's own.
pub fn stdout_is_journal() -> bool {
    use std::os::unix::fs::MetadataExt;
    let Some(stream) = std::env::var_os("JOURNAL_STREAM") else {
        return false;
    };
    let Ok(meta) = std::fs::metadata("/proc/self/fd/1") else {
        return false;
    };
    journal_stream_matches(&stream.to_string_lossy(), meta.dev(), meta.ino())
}

fn journal_stream_matches(stream: &str, dev: u64, ino: u64) -> bool {
    stream
        .split_once(':')
        .and_then(|(d, i)| Some((d.parse::<u64>().ok()?, i.parse::<u64>().ok()?)))
        .is_some_and(|(d, i)| d == dev && i == ino)
}

#[cfg(test)]
mod journal_tests {
    use super::journal_stream_matches;

    #[test]
    fn journal_stream_is_matched_by_device_and_inode() {
        assert!(journal_stream_matches("8:1234", 8, 1234));
        assert!(!journal_stream_matches("8:1234", 8, 1235));
        assert!(!journal_stream_matches("9:1234", 8, 1234));
        assert!(!journal_stream_matches("garbage", 8, 1234));
        assert!(!journal_stream_matches("", 0, 0));
    }
}

/// One JSON object per view on a writer (stdout for `--headless`). The view is already masked
/// (the ID as `0010******45`); the photo is never written, only whether there is one.
pub struct JsonLinesDisplay<W: Write + Send> {
    out: W,
    /// Called after each view (the headless loop pings the watchdog here).
    after_show: Option<Box<dyn FnMut() + Send>>,
}

impl<W: Write + Send> JsonLinesDisplay<W> {
    pub fn new(out: W) -> Self {
        JsonLinesDisplay {
            out,
            after_show: None,
        }
    }

    /// Runs `f` after every view written.
    pub fn after_show(mut self, f: impl FnMut() + Send + 'static) -> Self {
        self.after_show = Some(Box::new(f));
        self
    }
}

impl<W: Write + Send> Display for JsonLinesDisplay<W> {
    fn show(&mut self, view: View, photo: Option<Vec<u8>>) {
        let line = serde_json::json!({
            "view": view,
            "photo_bytes": photo.as_ref().map(Vec::len),
        });
        // A closed stdout must not stop the kiosk: the view is simply not written.
        let _ = writeln!(self.out, "{line}").and_then(|()| self.out.flush());
        if let Some(mut photo) = photo {
            zeroize::Zeroize::zeroize(&mut photo);
        }
        if let Some(f) = &mut self.after_show {
            f();
        }
    }

    fn clear(&mut self) {}
}

/// A display that keeps every view in memory, for tests: `wait_for` blocks until a view that
/// matches arrives.
#[cfg(test)]
pub mod recording {
    use std::sync::{Arc, Condvar, Mutex};
    use std::time::{Duration, Instant};

    use kiosk_core::View;

    #[derive(Default)]
    struct Inner {
        views: Vec<View>,
        photos: usize,
        clears: usize,
    }

    /// The test's end of a [`RecordingDisplay`].
    #[derive(Clone, Default)]
    pub struct Views {
        inner: Arc<(Mutex<Inner>, Condvar)>,
    }

    impl Views {
        pub fn display(&self) -> RecordingDisplay {
            RecordingDisplay {
                views: self.clone(),
            }
        }

        /// Waits until a view shown since view number `from` matches; returns its index.
        pub fn wait_for(
            &self,
            from: usize,
            what: &str,
            timeout: Duration,
            pred: impl Fn(&View) -> bool,
        ) -> (usize, View) {
            let deadline = Instant::now() + timeout;
            let (lock, cvar) = &*self.inner;
            let mut inner = lock.lock().unwrap();
            loop {
                if let Some(i) = inner.views[from.min(inner.views.len())..]
                    .iter()
                    .position(&pred)
                {
                    let i = from + i;
                    return (i, inner.views[i].clone());
                }
                let now = Instant::now();
                if now >= deadline {
                    let seen: Vec<String> = inner
                        .views
                        .iter()
                        .map(|v| format!("{:?}/{:?}/{:?}", v.screen, v.title, v.notice))
                        .collect();
                    panic!("no view {what} within {timeout:?}; views: {seen:#?}");
                }
                inner = cvar.wait_timeout(inner, deadline - now).unwrap().0;
            }
        }

        pub fn count(&self) -> usize {
            self.inner.0.lock().unwrap().views.len()
        }

        pub fn photos(&self) -> usize {
            self.inner.0.lock().unwrap().photos
        }

        pub fn clears(&self) -> usize {
            self.inner.0.lock().unwrap().clears
        }
    }

    pub struct RecordingDisplay {
        views: Views,
    }

    impl super::Display for RecordingDisplay {
        fn show(&mut self, view: View, photo: Option<Vec<u8>>) {
            let (lock, cvar) = &*self.views.inner;
            let mut inner = lock.lock().unwrap();
            inner.views.push(view);
            inner.photos += usize::from(photo.is_some());
            cvar.notify_all();
        }

        fn clear(&mut self) {
            self.views.inner.0.lock().unwrap().clears += 1;
        }
    }
}

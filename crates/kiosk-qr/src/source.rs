//! Where frames come from. Everything downstream sees only [`FrameSource`]; the camera adapter
//! (feature `camera`) and the image-file source are its two implementations.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::error::{Error, Result};
use crate::frame::{LumaFrame, MAX_DIMENSION};

/// Largest image file read (a 1280×720 PNG is ~1 MB; this leaves room for 4K stills).
pub const MAX_IMAGE_FILE: u64 = 64 * 1024 * 1024;
const IMAGE_EXTENSIONS: &[&str] = &["png", "jpg", "jpeg", "pgm", "pnm"];

/// What a source produced when asked for a frame.
#[derive(Debug)]
pub enum SourceEvent {
    /// A new frame.
    Frame(LumaFrame),
    /// Nothing within the timeout (camera still there, just no frame yet).
    Idle,
    /// The device is missing or failed; the source retries on its own at later calls.
    Unavailable(String),
    /// One input could not be used (e.g. a corrupt file); the source moves on.
    Skipped(Error),
    /// A finite source (files) has nothing more.
    End,
}

/// A stream of luma frames.
pub trait FrameSource: Send {
    /// Human-readable description for diagnostics (device path, folder).
    fn describe(&self) -> String;
    /// Waits at most `timeout` for the next frame.
    fn next_frame(&mut self, timeout: Duration) -> SourceEvent;
}

/// Reads an image file into a luma frame, with size caps on the file and the pixels.
pub fn load_luma(path: &Path) -> Result<LumaFrame> {
    let io = |source| Error::Io {
        path: path.to_owned(),
        source,
    };
    let image_err = |reason: String| Error::Image {
        path: path.to_owned(),
        reason,
    };
    let len = std::fs::metadata(path).map_err(io)?.len();
    if len > MAX_IMAGE_FILE {
        return Err(image_err(format!(
            "file is {len} bytes, more than {MAX_IMAGE_FILE}"
        )));
    }
    let mut reader = image::ImageReader::open(path)
        .map_err(io)?
        .with_guessed_format()
        .map_err(io)?;
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_DIMENSION);
    limits.max_image_height = Some(MAX_DIMENSION);
    limits.max_alloc = Some(512 * 1024 * 1024);
    reader.limits(limits);
    let img = reader.decode().map_err(|e| image_err(e.to_string()))?;
    let luma = img.into_luma8();
    let (w, h) = luma.dimensions();
    LumaFrame::new(w, h, luma.into_raw())
}

/// Writes a frame as an 8-bit grey PNG (saved frames for technicians, benchmark sets).
pub fn save_png(frame: &LumaFrame, path: &Path) -> Result<()> {
    let err = |reason: String| Error::Image {
        path: path.to_owned(),
        reason,
    };
    image::GrayImage::from_raw(frame.width(), frame.height(), frame.data().to_vec())
        .ok_or_else(|| err("frame buffer does not match its size".into()))?
        .save_with_format(path, image::ImageFormat::Png)
        .map_err(|e| err(e.to_string()))
}

/// Image files given one by one or as folders (sorted by name): for tests, the demo and
/// technicians checking saved frames.
#[derive(Debug)]
pub struct FileSource {
    files: Vec<PathBuf>,
    next: usize,
    looping: bool,
    label: String,
    interval: Option<Duration>,
    last: Option<std::time::Instant>,
}

fn is_image(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| IMAGE_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

/// Expands folders to their image files (sorted), keeps files as given.
pub fn expand_paths(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(p)
                .map_err(|source| Error::Io {
                    path: p.clone(),
                    source,
                })?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| f.is_file() && is_image(f))
                .collect();
            if found.is_empty() {
                return Err(Error::NoImages { path: p.clone() });
            }
            found.sort();
            files.extend(found);
        } else {
            files.push(p.clone());
        }
    }
    Ok(files)
}

impl FileSource {
    /// A source over files and folders; `looping` starts again after the last file.
    pub fn new(paths: &[PathBuf], looping: bool) -> Result<Self> {
        let files = expand_paths(paths)?;
        let label = match paths {
            [one] => one.display().to_string(),
            _ => format!("{} files", files.len()),
        };
        Ok(Self {
            files,
            next: 0,
            looping,
            label,
            interval: None,
            last: None,
        })
    }

    /// Delivers at most one frame per `interval`, like a camera (a looping folder would
    /// otherwise spin a core).
    pub fn paced(mut self, interval: Duration) -> Self {
        self.interval = Some(interval);
        self
    }

    /// The files this source will read, in order.
    pub fn files(&self) -> &[PathBuf] {
        &self.files
    }
}

impl FrameSource for FileSource {
    fn describe(&self) -> String {
        format!("files: {}", self.label)
    }

    fn next_frame(&mut self, timeout: Duration) -> SourceEvent {
        if let (Some(interval), Some(last)) = (self.interval, self.last) {
            let wait = interval.saturating_sub(last.elapsed());
            if wait > timeout {
                std::thread::sleep(timeout);
                return SourceEvent::Idle;
            }
            std::thread::sleep(wait);
        }
        self.last = Some(std::time::Instant::now());
        if self.next >= self.files.len() {
            if !self.looping || self.files.is_empty() {
                return SourceEvent::End;
            }
            self.next = 0;
        }
        let path = &self.files[self.next];
        self.next += 1;
        match load_luma(path) {
            Ok(frame) => SourceEvent::Frame(frame),
            Err(e) => SourceEvent::Skipped(e),
        }
    }
}

/// Frames held in memory (tests and simulations).
#[derive(Debug, Default)]
pub struct MemorySource {
    events: std::collections::VecDeque<SourceEvent>,
}

impl MemorySource {
    /// Plays back `events` in order, then `End`.
    pub fn new(events: impl IntoIterator<Item = SourceEvent>) -> Self {
        Self {
            events: events.into_iter().collect(),
        }
    }
}

impl FrameSource for MemorySource {
    fn describe(&self) -> String {
        "memory".to_owned()
    }

    fn next_frame(&mut self, _timeout: Duration) -> SourceEvent {
        self.events.pop_front().unwrap_or(SourceEvent::End)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folder_with_corrupt_file_skips_it_and_ends() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_owned();
        let good = LumaFrame::filled(16, 8, 200).unwrap();
        save_png(&good, &dir.join("a.png")).unwrap();
        std::fs::write(dir.join("b.png"), b"not a png").unwrap();
        std::fs::write(dir.join("notes.txt"), b"ignored").unwrap();
        let mut src = FileSource::new(std::slice::from_ref(&dir), false).unwrap();
        assert_eq!(src.files().len(), 2);
        match src.next_frame(Duration::ZERO) {
            SourceEvent::Frame(f) => assert_eq!(f, good),
            other => panic!("expected a frame, got {other:?}"),
        }
        assert!(matches!(
            src.next_frame(Duration::ZERO),
            SourceEvent::Skipped(Error::Image { .. })
        ));
        assert!(matches!(src.next_frame(Duration::ZERO), SourceEvent::End));
    }

    #[test]
    fn paced_source_is_idle_until_its_interval_passed() {
        let tmp = tempfile::tempdir().unwrap();
        save_png(
            &LumaFrame::filled(8, 8, 1).unwrap(),
            &tmp.path().join("a.png"),
        )
        .unwrap();
        let mut src = FileSource::new(&[tmp.path().to_owned()], true)
            .unwrap()
            .paced(Duration::from_secs(3600));
        assert!(matches!(
            src.next_frame(Duration::from_millis(1)),
            SourceEvent::Frame(_)
        ));
        assert!(matches!(
            src.next_frame(Duration::from_millis(1)),
            SourceEvent::Idle
        ));
    }

    #[test]
    fn empty_folder_and_missing_file_are_errors() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_owned();
        assert!(matches!(
            FileSource::new(std::slice::from_ref(&dir), false),
            Err(Error::NoImages { .. })
        ));
        assert!(matches!(
            load_luma(&dir.join("missing.png")),
            Err(Error::Io { .. })
        ));
    }
}

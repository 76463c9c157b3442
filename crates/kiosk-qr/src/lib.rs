//! `kiosk-qr` reads QR codes for the kiosk: the citizen's card QR (or VNeID), the technician's
//! enrolment QR, and dossier/appointment codes.
//!
//! - [`source`]: the [`FrameSource`] seam with image files/folders always available and a V4L2
//!   camera through nokhwa behind the `camera` feature ([`camera`]);
//! - [`frame`]: luma frames and the cheap conversions into them;
//! - [`decoder`]: the [`Decoder`] trait with the rqrr engine and, behind the `zxing` feature,
//!   the zxing-cpp engine;
//! - [`scanner`] and [`pipeline`]: region of interest, fallback passes, timings, de-duplication,
//!   on a thread of its own;
//! - [`payload`]: classification and parsers with precise errors;
//! - [`synth`] and [`bench`]: generated kiosk-like test frames and the benchmark behind
//!   `kiosk qr bench` / `make bench`.
//!
//! No UI, no network. ID-number rules come from `kiosk_card::cccd`.

pub mod bench;
#[cfg(feature = "camera")]
pub mod camera;
pub mod camera_mode;
pub mod decoder;
pub mod error;
pub mod frame;
pub mod payload;
pub mod pipeline;
mod rqrr_engine;
pub mod scanner;
pub mod source;
pub mod synth;
#[cfg(feature = "zxing")]
mod zxing_engine;

pub use decoder::{Decoded, Decoder, Engine};
pub use error::{Error, Result};
pub use frame::LumaFrame;
pub use payload::{Payload, classify};
pub use pipeline::{Pipeline, PipelineConfig, ScanEvent};
pub use scanner::{ScanConfig, ScanResult, Scanner};
pub use source::{FileSource, FrameSource, SourceEvent};

/// The enrolment QR format (re-exported under the name the gateway uses).
pub use payload::enrolment;

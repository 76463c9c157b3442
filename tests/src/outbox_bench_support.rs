//! What the outbox benchmark drains into. Until the reference gateway is merged this is the
//! in-process [`RecordingGateway`] (no network), and `describe` says so in the table.

use kiosk_outbox::{DrainMode, DrainReport, Outbox, WorkerConfig};

use crate::outbox_rig::RecordingGateway;

/// The drain destination of the benchmark.
#[derive(Debug, Default)]
pub struct DrainTarget {
    gateway: RecordingGateway,
}

/// Starts the destination.
pub async fn drain_target() -> Result<DrainTarget, Box<dyn std::error::Error>> {
    Ok(DrainTarget::default())
}

impl DrainTarget {
    pub fn describe(&self) -> &'static str {
        "an in-process recording fake (no network)"
    }

    pub async fn drain(
        &self,
        outbox: &Outbox,
        cfg: &WorkerConfig,
        mode: DrainMode,
    ) -> Result<DrainReport, Box<dyn std::error::Error>> {
        Ok(kiosk_outbox::worker::drain(outbox, &self.gateway, cfg, mode).await?)
    }

    pub async fn shutdown(self) {}
}

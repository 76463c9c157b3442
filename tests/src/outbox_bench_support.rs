//! What the outbox benchmark drains into: the reference gateway running in this process, reached
//! over mutual TLS on loopback through the kiosk-api client.

use kiosk_api::Timeouts;
use kiosk_api::v1::KioskId;
use kiosk_outbox::gateway_delivery::GatewayDelivery;
use kiosk_outbox::{DrainMode, DrainReport, Outbox, WorkerConfig};

use crate::outbox_rig::{GatewayRig, delivery};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The drain destination of the benchmark and the kiosk that talks to it.
#[derive(Debug)]
pub struct DrainTarget {
    rig: GatewayRig,
    kiosk: KioskId,
    deliver: GatewayDelivery,
}

/// Starts the gateway and enrols one kiosk.
pub async fn drain_target() -> Result<DrainTarget, BoxError> {
    let rig = GatewayRig::start().await?;
    let (kiosk, creds) = rig.enrol()?;
    let deliver = delivery(&rig.url(), &creds, Timeouts::default())?;
    Ok(DrainTarget {
        rig,
        kiosk,
        deliver,
    })
}

impl DrainTarget {
    pub fn describe(&self) -> &'static str {
        "the reference gateway over mTLS on loopback"
    }

    /// The enrolled kiosk; registrations must carry its id.
    pub fn kiosk(&self) -> &KioskId {
        &self.kiosk
    }

    pub async fn drain(
        &self,
        outbox: &Outbox,
        cfg: &WorkerConfig,
        mode: DrainMode,
    ) -> Result<DrainReport, BoxError> {
        Ok(kiosk_outbox::worker::drain(outbox, &self.deliver, cfg, mode).await?)
    }

    /// Registrations the gateway stored.
    pub fn stored(&self) -> Result<usize, BoxError> {
        Ok(self.rig.registrations()?.len())
    }

    pub async fn shutdown(self) {
        self.rig.shutdown().await;
    }
}

//! Fault injection: each fault makes the virtual chip fail in one way a real card or reader
//! does, so the reader's error paths can be tested without hardware.

use std::time::Duration;

use crate::error::{Error, Result};

/// One injected fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// The card goes away during the DG2 read: after `after_apdus` answered DG2 reads, or on
    /// the read that would complete DG2, whichever comes first.
    RemovedMidRead { after_apdus: u32 },
    /// The chip's CAN (and MRZ key) differ from the printed ones: PACE/BAC fail.
    WrongPassword,
    /// A DG13 byte is changed after the SOD was signed: passive authentication must fail.
    CorruptDg,
    /// The chip's CA and AA private keys differ from the public keys in DG14/DG15.
    ClonedChip,
    /// The chip refuses extended-length APDUs and Le > 256 with 6700.
    NoExtendedLength,
    /// Every APDU is answered after this delay.
    Slow { per_apdu: Duration },
}

impl Fault {
    /// The names `--fault` accepts.
    pub const NAMES: [&'static str; 6] = [
        "removed-mid-read",
        "wrong-password",
        "corrupt-dg",
        "cloned-chip",
        "no-extended-length",
        "slow",
    ];

    /// Parses a `--fault` name.
    pub fn parse(name: &str) -> Result<Self> {
        Ok(match name {
            "removed-mid-read" => Self::RemovedMidRead { after_apdus: 2 },
            "wrong-password" => Self::WrongPassword,
            "corrupt-dg" => Self::CorruptDg,
            "cloned-chip" => Self::ClonedChip,
            "no-extended-length" => Self::NoExtendedLength,
            "slow" => Self::Slow {
                per_apdu: Duration::from_millis(50),
            },
            other => return Err(Error::UnknownFault(other.chars().take(40).collect())),
        })
    }

    /// The name of this fault.
    pub fn name(&self) -> &'static str {
        match self {
            Self::RemovedMidRead { .. } => "removed-mid-read",
            Self::WrongPassword => "wrong-password",
            Self::CorruptDg => "corrupt-dg",
            Self::ClonedChip => "cloned-chip",
            Self::NoExtendedLength => "no-extended-length",
            Self::Slow { .. } => "slow",
        }
    }
}

/// The set of active faults.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Faults(Vec<Fault>);

impl Faults {
    pub fn none() -> Self {
        Self::default()
    }

    pub fn with(mut self, fault: Fault) -> Self {
        self.0.retain(|f| f.name() != fault.name());
        self.0.push(fault);
        self
    }

    /// The set without the fault of this name.
    pub fn without(mut self, name: &str) -> Self {
        self.0.retain(|f| f.name() != name);
        self
    }

    pub fn has(&self, name: &str) -> bool {
        self.0.iter().any(|f| f.name() == name)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Fault> {
        self.0.iter()
    }

    pub(crate) fn removed_after(&self) -> Option<u32> {
        self.0.iter().find_map(|f| match f {
            Fault::RemovedMidRead { after_apdus } => Some(*after_apdus),
            _ => None,
        })
    }

    pub(crate) fn slow(&self) -> Option<Duration> {
        self.0.iter().find_map(|f| match f {
            Fault::Slow { per_apdu } => Some(*per_apdu),
            _ => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_parses_back_to_itself() {
        for name in Fault::NAMES {
            assert_eq!(Fault::parse(name).unwrap().name(), name);
        }
        let err = Fault::parse("melted").unwrap_err().to_string();
        assert!(
            err.contains("melted") && err.contains("cloned-chip"),
            "{err}"
        );
    }

    #[test]
    fn a_fault_set_keeps_one_of_each() {
        let f = Faults::none()
            .with(Fault::Slow {
                per_apdu: Duration::from_millis(1),
            })
            .with(Fault::Slow {
                per_apdu: Duration::from_millis(2),
            })
            .with(Fault::CorruptDg);
        assert_eq!(f.iter().count(), 2);
        assert_eq!(f.slow(), Some(Duration::from_millis(2)));
        assert!(f.has("corrupt-dg") && !f.has("wrong-password"));
    }
}

//! DG14 (tag `6E`): the chip's `SecurityInfos` for Chip Authentication (its static key agreement
//! key, `ChipAuthenticationInfo`) and, for ECDSA Active Authentication, the signature algorithm.

use crate::error::{Error, Result};
use crate::lds::dg15::{PublicKey, parse_spki};
use crate::security_infos::{
    ActiveAuthenticationInfo, ChipAuthenticationInfo, ChipAuthenticationPublicKeyInfo,
    SecurityInfos,
};
use crate::tlv;

/// DG14.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Dg14 {
    pub infos: SecurityInfos,
}

/// The key and protocol to run Chip Authentication with, as DG14 describes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChipAuthenticationKey {
    pub info: ChipAuthenticationInfo,
    pub key: ChipAuthenticationPublicKeyInfo,
    pub public_key: PublicKey,
}

impl Dg14 {
    pub fn decode(bytes: &[u8]) -> Result<Self> {
        let outer = tlv::parse_prefix(bytes, 0x6E)?;
        let (set, rest) = tlv::parse(outer.value)?;
        if !rest.is_empty() {
            return Err(Error::TlvMalformed {
                what: "DG14 must hold exactly one SecurityInfos set",
            });
        }
        Ok(Self {
            infos: SecurityInfos::decode(set.raw)?,
        })
    }

    pub fn encode(&self) -> Vec<u8> {
        tlv::encode(0x6E, &self.infos.encode())
    }

    /// The first ECDH Chip Authentication offer whose key is present (matched by key id when
    /// the infos carry one, else the only key).
    pub fn chip_authentication_key(&self) -> Result<ChipAuthenticationKey> {
        for info in self.infos.chip_authentication() {
            if info.ecdh_cipher().is_none() {
                continue;
            }
            let key = self
                .infos
                .chip_authentication_keys()
                .find(|k| info.key_id.is_none() || k.key_id == info.key_id);
            if let Some(key) = key {
                return Ok(ChipAuthenticationKey {
                    info: info.clone(),
                    key: key.clone(),
                    public_key: parse_spki(&key.spki)?,
                });
            }
        }
        Err(Error::Unsupported {
            what: "DG14 offers no ECDH Chip Authentication with a matching key",
        })
    }

    /// The ActiveAuthenticationInfo (ECDSA AA), if present.
    pub fn active_authentication(&self) -> Option<&ActiveAuthenticationInfo> {
        self.infos.active_authentication()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::CipherAlg;
    use crate::crypto::ec::Curve;
    use crate::lds::dg15::ec_spki_named;
    use crate::security_infos::SecurityInfo;
    use proptest::prelude::*;

    fn sample() -> Dg14 {
        let c = Curve::BrainpoolP256r1;
        Dg14 {
            infos: SecurityInfos {
                infos: vec![
                    SecurityInfo::ChipAuthenticationPublicKey(ChipAuthenticationPublicKeyInfo {
                        oid: ChipAuthenticationPublicKeyInfo::ecdh_oid(),
                        spki: ec_spki_named(c, &c.generator()),
                        key_id: None,
                    }),
                    SecurityInfo::ChipAuthentication(ChipAuthenticationInfo {
                        oid: ChipAuthenticationInfo::ecdh_oid(CipherAlg::Aes128),
                        version: 1,
                        key_id: None,
                    }),
                ],
            },
        }
    }

    #[test]
    fn round_trip_and_key_lookup() {
        let dg = sample();
        let back = Dg14::decode(&dg.encode()).unwrap();
        assert_eq!(back, dg);
        let k = back.chip_authentication_key().unwrap();
        assert_eq!(k.info.ecdh_cipher(), Some(CipherAlg::Aes128));
        assert!(matches!(
            k.public_key,
            PublicKey::Ec {
                curve: Some(Curve::BrainpoolP256r1),
                ..
            }
        ));
        assert!(Dg14::default().chip_authentication_key().is_err());
    }

    #[test]
    fn key_ids_must_match() {
        let mut dg = sample();
        if let SecurityInfo::ChipAuthentication(i) = &mut dg.infos.infos[1] {
            i.key_id = Some(7);
        }
        assert!(dg.chip_authentication_key().is_err());
        if let SecurityInfo::ChipAuthenticationPublicKey(k) = &mut dg.infos.infos[0] {
            k.key_id = Some(7);
        }
        assert!(dg.chip_authentication_key().is_ok());
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            if let Ok(dg) = Dg14::decode(&bytes) {
                let _ = dg.chip_authentication_key();
            }
            let mut framed = vec![0x6E, 0x81, bytes.len().min(255) as u8];
            framed.extend_from_slice(&bytes[..bytes.len().min(255)]);
            let _ = Dg14::decode(&framed);
        }
    }
}

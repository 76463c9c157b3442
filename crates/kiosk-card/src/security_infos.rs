//! `SecurityInfos` (ICAO 9303-11 §9.2, BSI TR-03110-3 §A.1): the `SET OF SecurityInfo` in
//! EF.CardAccess (tag `31`) and inside DG14. Each info is `SEQUENCE { protocol OID,
//! requiredData, optionalData OPTIONAL }`; the ones the reader acts on are typed, every other one
//! is kept raw so nothing is lost and re-encoding gives the same bytes.
//!
//! Parsing is bounded by the input (the TLV codec checks every length); integers are capped at
//! 8 bytes; a set may hold at most [`MAX_INFOS`] entries.

use crate::crypto::CipherAlg;
use crate::crypto::ec::Curve;
use crate::error::{Error, Result};
use crate::tlv;

/// More infos than any eMRTD carries; beyond this the input is rejected as hostile.
pub const MAX_INFOS: usize = 64;

/// `0.4.0.127.0.7.2.2` (bsi-de protocols smartcard), the prefix of the OIDs below (DER content).
const BSI_PROTOCOLS: [u8; 7] = [0x04, 0x00, 0x7F, 0x00, 0x07, 0x02, 0x02];
/// `id-PK` = BSI_PROTOCOLS.1.
const ID_PK: u8 = 1;
/// `id-TA` = BSI_PROTOCOLS.2.
const ID_TA: u8 = 2;
/// `id-CA` = BSI_PROTOCOLS.3.
const ID_CA: u8 = 3;
/// `id-PACE` = BSI_PROTOCOLS.4.
const ID_PACE: u8 = 4;
/// `id-AA` = 2.23.136.1.1.5.
pub const OID_AA: &[u8] = &[0x67, 0x81, 0x08, 0x01, 0x01, 0x05];

fn bsi_oid(arcs: &[u8]) -> Vec<u8> {
    let mut v = BSI_PROTOCOLS.to_vec();
    v.extend_from_slice(arcs);
    v
}

/// The key agreement and mapping of a PACE OID (`id-PACE.x.y`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaceMapping {
    /// `id-PACE-DH-GM` (.1)
    DhGeneric,
    /// `id-PACE-ECDH-GM` (.2) — the one implemented, and the CCCD's.
    EcdhGeneric,
    /// `id-PACE-DH-IM` (.3)
    DhIntegrated,
    /// `id-PACE-ECDH-IM` (.4)
    EcdhIntegrated,
    /// `id-PACE-ECDH-CAM` (.6)
    EcdhChipAuthentication,
}

/// `PACEInfo`: a PACE variant the chip supports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaceInfo {
    /// The protocol OID (DER content bytes).
    pub oid: Vec<u8>,
    pub version: u64,
    /// Standardized domain parameters (12 = P-256, 13 = brainpoolP256r1); `None` if absent.
    pub parameter_id: Option<u64>,
}

impl PaceInfo {
    /// The PACE OID for a mapping and cipher (`id-PACE-ECDH-GM-AES-CBC-CMAC-128` etc.).
    pub fn oid_for(mapping: PaceMapping, cipher: CipherAlg) -> Vec<u8> {
        let m = match mapping {
            PaceMapping::DhGeneric => 1,
            PaceMapping::EcdhGeneric => 2,
            PaceMapping::DhIntegrated => 3,
            PaceMapping::EcdhIntegrated => 4,
            PaceMapping::EcdhChipAuthentication => 6,
        };
        bsi_oid(&[ID_PACE, m, cipher_arc(cipher)])
    }

    /// Mapping and cipher of this info's OID.
    pub fn suite(&self) -> Option<(PaceMapping, CipherAlg)> {
        let rest = self.oid.strip_prefix(&BSI_PROTOCOLS[..])?;
        let [ID_PACE, m, c] = rest else { return None };
        let mapping = match m {
            1 => PaceMapping::DhGeneric,
            2 => PaceMapping::EcdhGeneric,
            3 => PaceMapping::DhIntegrated,
            4 => PaceMapping::EcdhIntegrated,
            6 => PaceMapping::EcdhChipAuthentication,
            _ => return None,
        };
        Some((mapping, cipher_from_arc(*c)?))
    }

    /// Whether this reader can run it: ECDH Generic Mapping on a supported named curve.
    pub fn is_supported(&self) -> bool {
        matches!(self.suite(), Some((PaceMapping::EcdhGeneric, _)))
            && self.parameter_id.and_then(Curve::from_param_id).is_some()
    }

    /// The curve of the parameter id.
    pub fn curve(&self) -> Option<Curve> {
        self.parameter_id.and_then(Curve::from_param_id)
    }
}

fn cipher_arc(c: CipherAlg) -> u8 {
    match c {
        CipherAlg::Tdes => 1,
        CipherAlg::Aes128 => 2,
        CipherAlg::Aes192 => 3,
        CipherAlg::Aes256 => 4,
    }
}

fn cipher_from_arc(a: u8) -> Option<CipherAlg> {
    match a {
        1 => Some(CipherAlg::Tdes),
        2 => Some(CipherAlg::Aes128),
        3 => Some(CipherAlg::Aes192),
        4 => Some(CipherAlg::Aes256),
        _ => None,
    }
}

/// `ChipAuthenticationInfo`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChipAuthenticationInfo {
    pub oid: Vec<u8>,
    pub version: u64,
    pub key_id: Option<u64>,
}

impl ChipAuthenticationInfo {
    /// `id-CA-ECDH-<cipher>` (`id-CA.2.x`).
    pub fn ecdh_oid(cipher: CipherAlg) -> Vec<u8> {
        bsi_oid(&[ID_CA, 2, cipher_arc(cipher)])
    }

    /// The cipher if this is an ECDH variant.
    pub fn ecdh_cipher(&self) -> Option<CipherAlg> {
        let rest = self.oid.strip_prefix(&BSI_PROTOCOLS[..])?;
        match rest {
            [ID_CA, 2, c] => cipher_from_arc(*c),
            _ => None,
        }
    }
}

/// `ChipAuthenticationPublicKeyInfo`: the chip's static key (in DG14).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChipAuthenticationPublicKeyInfo {
    pub oid: Vec<u8>,
    /// The `SubjectPublicKeyInfo` DER, kept whole.
    pub spki: Vec<u8>,
    pub key_id: Option<u64>,
}

impl ChipAuthenticationPublicKeyInfo {
    /// `id-PK-ECDH`.
    pub fn ecdh_oid() -> Vec<u8> {
        bsi_oid(&[ID_PK, 2])
    }
}

/// `ActiveAuthenticationInfo` (in DG14 when AA uses ECDSA).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActiveAuthenticationInfo {
    pub version: u64,
    /// The signature algorithm OID (DER content bytes), e.g. ecdsa-plain-SHA256.
    pub signature_algorithm: Vec<u8>,
}

/// `TerminalAuthenticationInfo`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TerminalAuthenticationInfo {
    pub version: u64,
    /// `efCVCA` FileID, kept raw if present.
    pub ef_cvca: Option<Vec<u8>>,
}

/// One entry of the set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecurityInfo {
    Pace(PaceInfo),
    ChipAuthentication(ChipAuthenticationInfo),
    ChipAuthenticationPublicKey(ChipAuthenticationPublicKeyInfo),
    ActiveAuthentication(ActiveAuthenticationInfo),
    TerminalAuthentication(TerminalAuthenticationInfo),
    /// Anything else (PACEDomainParameterInfo, CardInfoLocator, …): its whole `SEQUENCE` DER.
    Other(Vec<u8>),
}

/// The parsed set, in file order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SecurityInfos {
    pub infos: Vec<SecurityInfo>,
}

impl SecurityInfos {
    /// Decodes the `31` SET exactly (EF.CardAccess; DG14's content).
    pub fn decode(bytes: &[u8]) -> Result<Self> {
        let set = tlv::parse_prefix(bytes, 0x31)?;
        let mut infos = Vec::new();
        for item in set.children() {
            let item = item?;
            if infos.len() == MAX_INFOS {
                return Err(Error::TlvMalformed {
                    what: "too many SecurityInfo entries",
                });
            }
            if item.tag != 0x30 {
                return Err(Error::UnexpectedTag {
                    expected: 0x30,
                    found: item.tag,
                });
            }
            infos.push(decode_info(item)?);
        }
        Ok(Self { infos })
    }

    /// Encodes the set (entries in their order).
    pub fn encode(&self) -> Vec<u8> {
        let parts: Vec<Vec<u8>> = self.infos.iter().map(encode_info).collect();
        let refs: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
        tlv::encode_constructed(0x31, &refs)
    }

    pub fn pace(&self) -> impl Iterator<Item = &PaceInfo> {
        self.infos.iter().filter_map(|i| match i {
            SecurityInfo::Pace(p) => Some(p),
            _ => None,
        })
    }

    pub fn chip_authentication(&self) -> impl Iterator<Item = &ChipAuthenticationInfo> {
        self.infos.iter().filter_map(|i| match i {
            SecurityInfo::ChipAuthentication(p) => Some(p),
            _ => None,
        })
    }

    pub fn chip_authentication_keys(
        &self,
    ) -> impl Iterator<Item = &ChipAuthenticationPublicKeyInfo> {
        self.infos.iter().filter_map(|i| match i {
            SecurityInfo::ChipAuthenticationPublicKey(p) => Some(p),
            _ => None,
        })
    }

    pub fn active_authentication(&self) -> Option<&ActiveAuthenticationInfo> {
        self.infos.iter().find_map(|i| match i {
            SecurityInfo::ActiveAuthentication(p) => Some(p),
            _ => None,
        })
    }

    /// The protocol to open the chip with: the first supported PACE (preferring the strongest
    /// cipher the chip lists first), else BAC.
    pub fn choose_access(&self) -> AccessChoice {
        match self.pace().find(|p| p.is_supported()) {
            Some(p) => AccessChoice::Pace(p.clone()),
            None => AccessChoice::Bac,
        }
    }
}

/// What [`SecurityInfos::choose_access`] picked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccessChoice {
    Pace(PaceInfo),
    Bac,
}

fn decode_info(seq: tlv::Tlv<'_>) -> Result<SecurityInfo> {
    let mut children = seq.children();
    let oid = children.next().ok_or(Error::TlvMalformed {
        what: "SecurityInfo without protocol OID",
    })??;
    if oid.tag != 0x06 {
        return Err(Error::UnexpectedTag {
            expected: 0x06,
            found: oid.tag,
        });
    }
    let required = children.next().transpose()?;
    let optional = children.next().transpose()?;
    let extra = children.next().transpose()?;
    let other = || Ok(SecurityInfo::Other(seq.raw.to_vec()));
    let Some(required) = required else {
        return other();
    };
    if extra.is_some() {
        return other();
    }
    let oid_v = oid.value.to_vec();
    let int = |t: tlv::Tlv<'_>| -> Result<u64> { decode_uint(t) };
    if let Some(rest) = oid.value.strip_prefix(&BSI_PROTOCOLS[..]) {
        match rest {
            [ID_PACE, 1..=4 | 6, 1..=4] if required.tag == 0x02 => {
                return Ok(SecurityInfo::Pace(PaceInfo {
                    oid: oid_v,
                    version: int(required)?,
                    parameter_id: optional.map(int).transpose()?,
                }));
            }
            [ID_CA, 1..=2, 1..=4] if required.tag == 0x02 => {
                return Ok(SecurityInfo::ChipAuthentication(ChipAuthenticationInfo {
                    oid: oid_v,
                    version: int(required)?,
                    key_id: optional.map(int).transpose()?,
                }));
            }
            [ID_PK, 1..=2] if required.tag == 0x30 => {
                return Ok(SecurityInfo::ChipAuthenticationPublicKey(
                    ChipAuthenticationPublicKeyInfo {
                        oid: oid_v,
                        spki: required.raw.to_vec(),
                        key_id: optional.map(int).transpose()?,
                    },
                ));
            }
            [ID_TA] if required.tag == 0x02 => {
                return Ok(SecurityInfo::TerminalAuthentication(
                    TerminalAuthenticationInfo {
                        version: int(required)?,
                        ef_cvca: optional.map(|t| t.raw.to_vec()),
                    },
                ));
            }
            _ => {}
        }
    }
    if oid.value == OID_AA
        && required.tag == 0x02
        && let Some(alg) = optional.filter(|t| t.tag == 0x06)
    {
        return Ok(SecurityInfo::ActiveAuthentication(
            ActiveAuthenticationInfo {
                version: int(required)?,
                signature_algorithm: alg.value.to_vec(),
            },
        ));
    }
    other()
}

fn encode_info(info: &SecurityInfo) -> Vec<u8> {
    let mut body = Vec::new();
    match info {
        SecurityInfo::Pace(p) => {
            tlv::encode_into(&mut body, 0x06, &p.oid);
            body.extend(encode_uint(p.version));
            if let Some(id) = p.parameter_id {
                body.extend(encode_uint(id));
            }
        }
        SecurityInfo::ChipAuthentication(c) => {
            tlv::encode_into(&mut body, 0x06, &c.oid);
            body.extend(encode_uint(c.version));
            if let Some(id) = c.key_id {
                body.extend(encode_uint(id));
            }
        }
        SecurityInfo::ChipAuthenticationPublicKey(k) => {
            tlv::encode_into(&mut body, 0x06, &k.oid);
            body.extend_from_slice(&k.spki);
            if let Some(id) = k.key_id {
                body.extend(encode_uint(id));
            }
        }
        SecurityInfo::ActiveAuthentication(a) => {
            tlv::encode_into(&mut body, 0x06, OID_AA);
            body.extend(encode_uint(a.version));
            tlv::encode_into(&mut body, 0x06, &a.signature_algorithm);
        }
        SecurityInfo::TerminalAuthentication(t) => {
            tlv::encode_into(&mut body, 0x06, &bsi_oid(&[ID_TA]));
            body.extend(encode_uint(t.version));
            if let Some(f) = &t.ef_cvca {
                body.extend_from_slice(f);
            }
        }
        SecurityInfo::Other(raw) => return raw.clone(),
    }
    tlv::encode(0x30, &body)
}

/// A non-negative DER INTEGER of at most 8 value bytes.
pub(crate) fn decode_uint(t: tlv::Tlv<'_>) -> Result<u64> {
    if t.tag != 0x02 {
        return Err(Error::UnexpectedTag {
            expected: 0x02,
            found: t.tag,
        });
    }
    let v = t.value;
    let Some(first) = v.first() else {
        return Err(Error::TlvMalformed {
            what: "empty INTEGER",
        });
    };
    if first & 0x80 != 0 {
        return Err(Error::TlvMalformed {
            what: "negative INTEGER",
        });
    }
    let v = if v.len() > 1 && *first == 0 {
        &v[1..]
    } else {
        v
    };
    if v.len() > 8 {
        return Err(Error::TlvMalformed {
            what: "INTEGER too large",
        });
    }
    Ok(v.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
}

/// DER INTEGER encoding of a non-negative value.
pub(crate) fn encode_uint(n: u64) -> Vec<u8> {
    let bytes = n.to_be_bytes();
    let skip = bytes.iter().take_while(|b| **b == 0).count().min(7);
    let mut v = bytes[skip..].to_vec();
    if v[0] & 0x80 != 0 {
        v.insert(0, 0);
    }
    tlv::encode(0x02, &v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn h(s: &str) -> Vec<u8> {
        hex::decode(s).unwrap()
    }

    #[test]
    fn real_cccd_card_access() {
        let bytes = h(
            "3134300d060804007f0007020202020101300f060a04007f000702020302020201013012060a04007f0007020204020202010202010d",
        );
        let si = SecurityInfos::decode(&bytes).unwrap();
        assert_eq!(si.infos.len(), 3);
        assert_eq!(
            si.infos[0],
            SecurityInfo::TerminalAuthentication(TerminalAuthenticationInfo {
                version: 1,
                ef_cvca: None
            })
        );
        let ca: Vec<_> = si.chip_authentication().collect();
        assert_eq!(ca[0].ecdh_cipher(), Some(CipherAlg::Aes128));
        assert_eq!(ca[0].version, 1);
        let pace: Vec<_> = si.pace().collect();
        assert_eq!(pace[0].version, 2);
        assert_eq!(pace[0].parameter_id, Some(13));
        assert_eq!(
            pace[0].suite(),
            Some((PaceMapping::EcdhGeneric, CipherAlg::Aes128))
        );
        assert_eq!(pace[0].curve(), Some(Curve::BrainpoolP256r1));
        assert!(matches!(si.choose_access(), AccessChoice::Pace(_)));
        assert_eq!(si.encode(), bytes);
    }

    #[test]
    fn appendix_g1_card_access() {
        let bytes = h("31143012060A04007F0007020204020202010202010D");
        let si = SecurityInfos::decode(&bytes).unwrap();
        let AccessChoice::Pace(p) = si.choose_access() else {
            panic!("PACE expected")
        };
        assert_eq!(
            p.oid,
            PaceInfo::oid_for(PaceMapping::EcdhGeneric, CipherAlg::Aes128)
        );
    }

    #[test]
    fn bac_when_no_supported_pace() {
        // PACE DH-GM with parameter 0 (a DH group) is not supported: BAC.
        let si = SecurityInfos {
            infos: vec![SecurityInfo::Pace(PaceInfo {
                oid: PaceInfo::oid_for(PaceMapping::DhGeneric, CipherAlg::Aes128),
                version: 2,
                parameter_id: Some(0),
            })],
        };
        assert_eq!(si.choose_access(), AccessChoice::Bac);
        let back = SecurityInfos::decode(&si.encode()).unwrap();
        assert_eq!(back, si);
        assert_eq!(SecurityInfos::default().choose_access(), AccessChoice::Bac);
    }

    #[test]
    fn unknown_infos_are_kept_raw_and_bad_ones_rejected() {
        // A CardInfoLocator-like entry with an unknown OID.
        let other = h("300906042A03040516014B");
        let set = tlv::encode(0x31, &other);
        let si = SecurityInfos::decode(&set).unwrap();
        assert_eq!(si.infos, vec![SecurityInfo::Other(other.clone())]);
        assert_eq!(si.encode(), set);
        assert!(SecurityInfos::decode(&h("3103020101")).is_err());
        assert!(SecurityInfos::decode(&h("30023100")).is_err());
        assert!(SecurityInfos::decode(&h("310430020500")).is_err());
        // Negative version.
        assert!(SecurityInfos::decode(&h("3111300F060A04007F000702020402020201FF")).is_err());
    }

    fn arb_info() -> impl Strategy<Value = SecurityInfo> {
        prop_oneof![
            (
                1u8..=4,
                1u8..=4,
                any::<u64>(),
                proptest::option::of(any::<u64>())
            )
                .prop_map(|(m, c, version, parameter_id)| SecurityInfo::Pace(
                    PaceInfo {
                        oid: bsi_oid(&[ID_PACE, m, c]),
                        version,
                        parameter_id
                    }
                )),
            (1u8..=4, any::<u64>(), proptest::option::of(any::<u64>())).prop_map(
                |(c, version, key_id)| SecurityInfo::ChipAuthentication(ChipAuthenticationInfo {
                    oid: bsi_oid(&[ID_CA, 2, c]),
                    version,
                    key_id
                })
            ),
            (
                proptest::collection::vec(any::<u8>(), 0..40),
                proptest::option::of(any::<u64>())
            )
                .prop_map(|(k, key_id)| {
                    SecurityInfo::ChipAuthenticationPublicKey(ChipAuthenticationPublicKeyInfo {
                        oid: ChipAuthenticationPublicKeyInfo::ecdh_oid(),
                        spki: tlv::encode(0x30, &tlv::encode(0x04, &k)),
                        key_id,
                    })
                }),
            any::<u64>().prop_map(|version| SecurityInfo::ActiveAuthentication(
                ActiveAuthenticationInfo {
                    version,
                    signature_algorithm: vec![0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x04, 0x03, 0x02]
                }
            )),
            any::<u64>().prop_map(|version| SecurityInfo::TerminalAuthentication(
                TerminalAuthenticationInfo {
                    version,
                    ef_cvca: None
                }
            )),
        ]
    }

    proptest! {
        #[test]
        fn encode_decode_round_trips(infos in proptest::collection::vec(arb_info(), 0..6)) {
            let si = SecurityInfos { infos };
            let enc = si.encode();
            prop_assert_eq!(SecurityInfos::decode(&enc).unwrap(), si);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = SecurityInfos::decode(&bytes);
            let mut framed = vec![0x31, bytes.len().min(127) as u8];
            framed.extend_from_slice(&bytes[..bytes.len().min(127)]);
            if let Ok(si) = SecurityInfos::decode(&framed) {
                let _ = si.choose_access();
            }
        }
    }
}

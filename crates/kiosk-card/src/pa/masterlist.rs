//! ICAO CSCA master lists (Doc 9303-12 §9): a CMS `SignedData` whose eContent (type
//! `id-icao-cscaMasterList`, 2.23.136.1.1.2) is
//! `CscaMasterList ::= SEQUENCE { version INTEGER (v0), certList SET OF Certificate }`.
//!
//! A certificate in the list that does not decode is skipped with its reason instead of
//! rejecting the whole list, because the public lists carry the odd non-conforming CSCA.
//! The list's own signature is checked when the signer certificate is in the SignedData; its
//! outcome is reported, since trust in a list comes from how the operator obtained it.

use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
};
use der::asn1::{ObjectIdentifier, OctetString, SetOfVec};
use der::{Any, Decode, Encode, Reader, Sequence, SliceReader, Tagged};
use x509_cert::Certificate;
use x509_cert::attr::Attribute;

use super::issue::SigningKey;
use super::signature::{HashAlgorithm, PublicKey, SignatureAlgorithm};
use crate::error::{Error, Result};

/// `id-icao-cscaMasterList`.
pub const ID_CSCA_MASTER_LIST: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.23.136.1.1.2");
const ID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
const ID_CONTENT_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
const ID_MESSAGE_DIGEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");

/// Largest master list we read (the German list is about 1 MB).
pub const MAX_MASTER_LIST_BYTES: usize = 16 * 1024 * 1024;
/// Most certificates we take from one list.
pub const MAX_CERTIFICATES: usize = 10_000;

#[derive(Sequence)]
struct CscaMasterListAsn1 {
    version: u8,
    cert_list: Any,
}

fn ml_err(detail: impl std::fmt::Display) -> Error {
    Error::Asn1 {
        what: "CSCA master list",
        detail: detail.to_string(),
    }
}

/// A decoded master list.
#[derive(Debug, Clone)]
pub struct MasterList {
    /// The CSCA certificates it carries.
    pub certificates: Vec<Certificate>,
    /// Entries that did not decode, with their index and reason.
    pub skipped: Vec<(usize, String)>,
    /// Outcome of checking the list's own signature (`Ok(signer subject)` or why not).
    pub signature: std::result::Result<String, String>,
}

/// Decodes a master list (DER CMS `ContentInfo`).
pub fn parse_master_list(bytes: &[u8]) -> Result<MasterList> {
    if bytes.len() > MAX_MASTER_LIST_BYTES {
        return Err(ml_err("larger than 16 MiB"));
    }
    let ci = ContentInfo::from_der(bytes).map_err(ml_err)?;
    if ci.content_type != ID_SIGNED_DATA {
        return Err(ml_err("ContentInfo does not hold SignedData"));
    }
    let sd: SignedData = ci.content.decode_as().map_err(ml_err)?;
    if sd.encap_content_info.econtent_type != ID_CSCA_MASTER_LIST {
        return Err(ml_err(format!(
            "eContentType {} is not id-icao-cscaMasterList",
            sd.encap_content_info.econtent_type
        )));
    }
    let econtent: OctetString = sd
        .encap_content_info
        .econtent
        .as_ref()
        .ok_or_else(|| ml_err("SignedData has no eContent"))?
        .decode_as()
        .map_err(ml_err)?;
    let list = CscaMasterListAsn1::from_der(econtent.as_bytes()).map_err(ml_err)?;
    if list.version != 0 {
        return Err(ml_err("CscaMasterList version is not 0"));
    }
    if list.cert_list.tag() != der::Tag::Set {
        return Err(ml_err("certList is not a SET"));
    }
    let mut certificates = Vec::new();
    let mut skipped = Vec::new();
    let mut reader = SliceReader::new(list.cert_list.value()).map_err(ml_err)?;
    let mut index = 0usize;
    while !reader.is_finished() {
        if index >= MAX_CERTIFICATES {
            return Err(ml_err("more than 10 000 certificates"));
        }
        // Each element is read as a TLV first so one odd certificate cannot stop the rest.
        let element = Any::decode(&mut reader).map_err(ml_err)?;
        match element
            .to_der()
            .map_err(|e| e.to_string())
            .and_then(|der| Certificate::from_der(&der).map_err(|e| e.to_string()))
        {
            Ok(cert) => certificates.push(cert),
            Err(reason) => skipped.push((index, reason)),
        }
        index += 1;
    }
    let signature = verify_list_signature(&sd, econtent.as_bytes(), &certificates);
    Ok(MasterList {
        certificates,
        skipped,
        signature,
    })
}

/// Checks the SignedData's (first) signer over the eContent, with the signer certificate
/// carried in the SignedData, and whether that certificate was issued by a CSCA in the list.
fn verify_list_signature(
    sd: &SignedData,
    econtent: &[u8],
    listed: &[Certificate],
) -> std::result::Result<String, String> {
    let signer = sd.signer_infos.0.iter().next().ok_or("no SignerInfo")?;
    let SignerIdentifier::IssuerAndSerialNumber(isn) = &signer.sid else {
        return Err("signer named by subject key identifier; not supported".into());
    };
    let certs = sd
        .certificates
        .as_ref()
        .ok_or("no signer certificate in the list")?;
    let cert = certs
        .0
        .iter()
        .find_map(|c| match c {
            CertificateChoices::Certificate(c)
                if c.tbs_certificate().issuer() == &isn.issuer
                    && c.tbs_certificate().serial_number() == &isn.serial_number =>
            {
                Some(c)
            }
            _ => None,
        })
        .ok_or("signer certificate not in the list")?;
    let hash = HashAlgorithm::from_oid(&signer.digest_alg.oid).map_err(|e| e.to_string())?;
    let algorithm =
        SignatureAlgorithm::from_algorithm_identifier(&signer.signature_algorithm, Some(hash))
            .map_err(|e| e.to_string())?;
    let key = PublicKey::from_spki(cert.tbs_certificate().subject_public_key_info())
        .map_err(|e| e.to_string())?;
    let signed = match &signer.signed_attrs {
        Some(attrs) => {
            let digest = attrs
                .iter()
                .find(|a| a.oid == ID_MESSAGE_DIGEST)
                .and_then(|a| a.values.iter().next())
                .ok_or("no messageDigest attribute")?
                .decode_as::<OctetString>()
                .map_err(|e| e.to_string())?;
            if digest.as_bytes() != hash.digest(econtent).as_slice() {
                return Err("messageDigest does not match the list content".into());
            }
            attrs.to_der().map_err(|e| e.to_string())?
        }
        None => econtent.to_vec(),
    };
    key.verify(&algorithm, &signed, signer.signature.as_bytes())
        .map_err(|e| e.to_string())?;
    let subject = cert.tbs_certificate().subject().to_string();
    // The signer is trusted only as far as its issuer is: say whether that is a listed CSCA.
    let issuer = listed.iter().find(|csca| {
        super::chain::names_issuer(cert, csca)
            && super::chain::verify_certificate_signature(cert, csca).is_ok()
    });
    Ok(match issuer {
        Some(csca) => format!(
            "{subject}, issued by listed CSCA {}",
            csca.tbs_certificate().subject()
        ),
        None => format!("{subject}, issuer not in the list"),
    })
}

/// Builds a signed master list of `certificates` (tests and the virtual card's trust output).
pub fn build_master_list(
    certificates: &[Certificate],
    signer_cert: &Certificate,
    signer_key: &SigningKey,
) -> Result<Vec<u8>> {
    let hash = signer_key.algorithm().hash();
    let mut cert_set = Vec::new();
    for c in certificates {
        cert_set.extend(c.to_der().map_err(ml_err)?);
    }
    let cert_list = Any::new(der::Tag::Set, cert_set).map_err(ml_err)?;
    let econtent = CscaMasterListAsn1 {
        version: 0,
        cert_list,
    }
    .to_der()
    .map_err(ml_err)?;
    let attr = |oid, value: Any| -> Result<Attribute> {
        Ok(Attribute {
            oid,
            values: SetOfVec::try_from(vec![value]).map_err(ml_err)?,
        })
    };
    let signed_attrs = SetOfVec::try_from(vec![
        attr(
            ID_CONTENT_TYPE,
            Any::encode_from(&ID_CSCA_MASTER_LIST).map_err(ml_err)?,
        )?,
        attr(
            ID_MESSAGE_DIGEST,
            Any::encode_from(&OctetString::new(hash.digest(&econtent)).map_err(ml_err)?)
                .map_err(ml_err)?,
        )?,
    ])
    .map_err(ml_err)?;
    let signature = signer_key.sign(&signed_attrs.to_der().map_err(ml_err)?)?;
    let tbs = signer_cert.tbs_certificate();
    let signer = SignerInfo {
        version: CmsVersion::V1,
        sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
            issuer: tbs.issuer().clone(),
            serial_number: tbs.serial_number().clone(),
        }),
        digest_alg: hash.algorithm_identifier(),
        signed_attrs: Some(signed_attrs),
        signature_algorithm: signer_key.algorithm().algorithm_identifier()?,
        signature: OctetString::new(signature).map_err(ml_err)?,
        unsigned_attrs: None,
    };
    let sd = SignedData {
        version: CmsVersion::V3,
        digest_algorithms: SetOfVec::try_from(vec![hash.algorithm_identifier()]).map_err(ml_err)?,
        encap_content_info: EncapsulatedContentInfo {
            econtent_type: ID_CSCA_MASTER_LIST,
            econtent: Some(
                Any::encode_from(&OctetString::new(econtent).map_err(ml_err)?).map_err(ml_err)?,
            ),
        },
        certificates: Some(CertificateSet(
            SetOfVec::try_from(vec![CertificateChoices::Certificate(signer_cert.clone())])
                .map_err(ml_err)?,
        )),
        crls: None,
        signer_infos: SignerInfos(SetOfVec::try_from(vec![signer]).map_err(ml_err)?),
    };
    ContentInfo {
        content_type: ID_SIGNED_DATA,
        content: Any::encode_from(&sd).map_err(ml_err)?,
    }
    .to_der()
    .map_err(ml_err)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pa::chain::tests::test_pki;
    use proptest::prelude::*;
    use std::time::SystemTime;

    #[test]
    fn built_master_list_parses_back_with_a_verified_signature() {
        let now = SystemTime::now();
        let a = test_pki("CN=CSCA A,C=VN", now);
        let b = test_pki("CN=CSCA B,C=VN", now);
        // The list is signed by A's DS key standing in for a master-list signer.
        let ml = build_master_list(&[a.csca.clone(), b.csca.clone()], &a.ds, &a.ds_key).unwrap();
        let parsed = parse_master_list(&ml).unwrap();
        assert_eq!(parsed.certificates, vec![a.csca.clone(), b.csca.clone()]);
        assert!(parsed.skipped.is_empty());
        assert_eq!(
            parsed.signature.as_deref(),
            Ok("CN=DS Test,O=Kiosk Test,C=VN, issued by listed CSCA CN=CSCA A,C=VN")
        );
        // Without A in the list the signature still verifies, but the signer's issuer is unknown.
        let ml = build_master_list(std::slice::from_ref(&b.csca), &a.ds, &a.ds_key).unwrap();
        assert_eq!(
            parse_master_list(&ml).unwrap().signature.as_deref(),
            Ok("CN=DS Test,O=Kiosk Test,C=VN, issuer not in the list")
        );
        // A list changed after signing (one byte of the listed CSCA's own signature value):
        // the content no longer matches the messageDigest, and the signature check says so.
        let mut changed =
            build_master_list(std::slice::from_ref(&b.csca), &a.ds, &a.ds_key).unwrap();
        let b_der = b.csca.to_der().unwrap();
        let pos = changed
            .windows(b_der.len())
            .position(|w| w == b_der)
            .unwrap();
        changed[pos + b_der.len() - 1] ^= 0x01;
        let ml = parse_master_list(&changed).unwrap();
        assert_eq!(ml.certificates.len(), 1);
        assert_eq!(
            ml.signature,
            Err("messageDigest does not match the list content".into())
        );
    }

    #[test]
    fn a_garbage_entry_is_skipped_not_fatal() {
        let now = SystemTime::now();
        let a = test_pki("CN=CSCA A,C=VN", now);
        // certList with one real certificate and one INTEGER where a certificate should be.
        let mut set = a.csca.to_der().unwrap();
        set.extend([0x02, 0x01, 0x05]);
        let econtent = CscaMasterListAsn1 {
            version: 0,
            cert_list: Any::new(der::Tag::Set, set).unwrap(),
        }
        .to_der()
        .unwrap();
        let sd = SignedData {
            version: CmsVersion::V3,
            digest_algorithms: SetOfVec::new(),
            encap_content_info: EncapsulatedContentInfo {
                econtent_type: ID_CSCA_MASTER_LIST,
                econtent: Some(Any::encode_from(&OctetString::new(econtent).unwrap()).unwrap()),
            },
            certificates: None,
            crls: None,
            signer_infos: SignerInfos(SetOfVec::new()),
        };
        let ci = ContentInfo {
            content_type: ID_SIGNED_DATA,
            content: Any::encode_from(&sd).unwrap(),
        }
        .to_der()
        .unwrap();
        let parsed = parse_master_list(&ci).unwrap();
        assert_eq!(parsed.certificates.len(), 1);
        assert_eq!(parsed.skipped.len(), 1);
        assert_eq!(parsed.skipped[0].0, 1);
        assert_eq!(parsed.signature, Err("no SignerInfo".to_string()));
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            // Random bytes are never a signed master list; the point is that no input panics.
            prop_assert!(parse_master_list(&bytes).is_err());
        }
    }
}

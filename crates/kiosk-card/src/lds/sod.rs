//! EF.SOD (tag `77`): the Document Security Object of ICAO Doc 9303 Part 10 §4.6.2.
//!
//! The file wraps a CMS `ContentInfo` whose `SignedData` encapsulates an `LDSSecurityObject`
//! (version 0 or 1): the hash algorithm and one hash per data group. The CMS layer is decoded with
//! the RustCrypto `cms` crate; this module only adds the ICAO content, the bytes that passive
//! authentication needs exactly as the card sent them, and a builder for the virtual card.
//!
//! Passive authentication itself (signature, certificate chain, DG hash comparison) lives in the
//! `pa` module; this one decodes and encodes.

use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
};
use der::asn1::{ObjectIdentifier, OctetString, PrintableString, SetOfVec};
use der::{Any, Decode, Encode, Sequence};
use digest::Digest;
use spki::AlgorithmIdentifierOwned;
use x509_cert::Certificate;
use x509_cert::attr::Attribute;

use crate::error::{Error, Result};
use crate::tlv::{self, Tag};

/// The tag of EF.SOD.
pub const TAG: Tag = 0x77;
/// The largest EF.SOD accepted. Real ones are 2–6 kB (one or two certificates).
pub const MAX_LEN: usize = 64 * 1024;
/// The most data-group hashes an `LDSSecurityObject` may list (DG1..DG16).
const MAX_DG_HASHES: usize = 16;

const FILE: &str = "EF.SOD";

/// `id-signedData`.
pub const ID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
/// `id-icao-mrtd-security-ldsSecurityObject`, the eContentType of every EF.SOD.
pub const ID_LDS_SECURITY_OBJECT: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.23.136.1.1.1");
/// The `contentType` signed attribute.
pub const ID_CONTENT_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
/// The `messageDigest` signed attribute.
pub const ID_MESSAGE_DIGEST: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");

const OID_SHA1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.14.3.2.26");
const OID_SHA224: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.4");
const OID_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
const OID_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.2");
const OID_SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.3");

/// The hash algorithms ICAO allows for the data-group hashes and the signed attributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HashAlgorithm {
    Sha1,
    Sha224,
    Sha256,
    Sha384,
    Sha512,
}

impl HashAlgorithm {
    /// Every supported algorithm, weakest first.
    pub const ALL: [HashAlgorithm; 5] = [
        HashAlgorithm::Sha1,
        HashAlgorithm::Sha224,
        HashAlgorithm::Sha256,
        HashAlgorithm::Sha384,
        HashAlgorithm::Sha512,
    ];

    /// The algorithm's object identifier.
    pub fn oid(self) -> ObjectIdentifier {
        match self {
            HashAlgorithm::Sha1 => OID_SHA1,
            HashAlgorithm::Sha224 => OID_SHA224,
            HashAlgorithm::Sha256 => OID_SHA256,
            HashAlgorithm::Sha384 => OID_SHA384,
            HashAlgorithm::Sha512 => OID_SHA512,
        }
    }

    /// The algorithm named by `oid`.
    pub fn from_oid(oid: &ObjectIdentifier) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|h| h.oid() == *oid)
            .ok_or_else(|| Error::UnsupportedHashAlgorithm {
                oid: oid.to_string(),
            })
    }

    /// Digest size in bytes.
    pub fn output_len(self) -> usize {
        match self {
            HashAlgorithm::Sha1 => 20,
            HashAlgorithm::Sha224 => 28,
            HashAlgorithm::Sha256 => 32,
            HashAlgorithm::Sha384 => 48,
            HashAlgorithm::Sha512 => 64,
        }
    }

    /// A short name for reports (`SHA-256`).
    pub fn name(self) -> &'static str {
        match self {
            HashAlgorithm::Sha1 => "SHA-1",
            HashAlgorithm::Sha224 => "SHA-224",
            HashAlgorithm::Sha256 => "SHA-256",
            HashAlgorithm::Sha384 => "SHA-384",
            HashAlgorithm::Sha512 => "SHA-512",
        }
    }

    /// Hashes `data`.
    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            HashAlgorithm::Sha1 => sha1::Sha1::digest(data).to_vec(),
            HashAlgorithm::Sha224 => sha2::Sha224::digest(data).to_vec(),
            HashAlgorithm::Sha256 => sha2::Sha256::digest(data).to_vec(),
            HashAlgorithm::Sha384 => sha2::Sha384::digest(data).to_vec(),
            HashAlgorithm::Sha512 => sha2::Sha512::digest(data).to_vec(),
        }
    }

    /// The `AlgorithmIdentifier` written by the builder: parameters absent, as RFC 5754 prefers
    /// (a decoder accepts absent or NULL, since only the OID is compared).
    pub fn algorithm_identifier(self) -> AlgorithmIdentifierOwned {
        AlgorithmIdentifierOwned {
            oid: self.oid(),
            parameters: None,
        }
    }
}

// ---- the ICAO content, in DER ----

#[derive(Sequence)]
struct DataGroupHashAsn1 {
    data_group_number: u8,
    data_group_hash_value: OctetString,
}

#[derive(Sequence)]
struct LdsVersionInfoAsn1 {
    lds_version: PrintableString,
    unicode_version: PrintableString,
}

#[derive(Sequence)]
struct LdsSecurityObjectAsn1 {
    version: u8,
    hash_algorithm: AlgorithmIdentifierOwned,
    data_group_hash_values: Vec<DataGroupHashAsn1>,
    #[asn1(optional = "true")]
    lds_version_info: Option<LdsVersionInfoAsn1>,
}

/// One entry of the SOD: a data-group number and the hash of that DG file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DgHash {
    /// 1..=16.
    pub dg: u8,
    pub hash: Vec<u8>,
}

/// `LDSVersionInfo` of an `LDSSecurityObject` v1 (`"0108"`, `"040000"`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LdsVersionInfo {
    pub lds_version: String,
    pub unicode_version: String,
}

/// The `LDSSecurityObject` carried in the SOD.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LdsSecurityObject {
    /// 0 (LDS 1.7) or 1 (LDS 1.8, with [`LdsVersionInfo`]).
    pub version: u8,
    pub hash_algorithm: HashAlgorithm,
    /// In the order of the file.
    pub dg_hashes: Vec<DgHash>,
    pub lds_version: Option<LdsVersionInfo>,
}

impl LdsSecurityObject {
    /// Decodes the DER `LDSSecurityObject` (the eContent of the SOD).
    pub fn decode(der_bytes: &[u8]) -> Result<Self> {
        let asn = LdsSecurityObjectAsn1::from_der(der_bytes).map_err(der_error)?;
        if asn.version > 1 {
            return Err(malformed("LDSSecurityObject version is neither 0 nor 1"));
        }
        if (asn.version == 1) != asn.lds_version_info.is_some() {
            return Err(malformed(
                "LDSVersionInfo must be present exactly in version 1",
            ));
        }
        let hash_algorithm = HashAlgorithm::from_oid(&asn.hash_algorithm.oid)?;
        if asn.data_group_hash_values.is_empty() || asn.data_group_hash_values.len() > MAX_DG_HASHES
        {
            return Err(malformed("the number of data-group hashes is not 1..=16"));
        }
        let mut dg_hashes: Vec<DgHash> = Vec::with_capacity(asn.data_group_hash_values.len());
        for entry in asn.data_group_hash_values {
            if !(1..=16).contains(&entry.data_group_number) {
                return Err(malformed("data-group number outside 1..=16"));
            }
            if dg_hashes.iter().any(|h| h.dg == entry.data_group_number) {
                return Err(malformed("a data group is hashed twice"));
            }
            let hash = entry.data_group_hash_value.as_bytes().to_vec();
            if hash.len() != hash_algorithm.output_len() {
                return Err(malformed(
                    "a data-group hash has the wrong length for the algorithm",
                ));
            }
            dg_hashes.push(DgHash {
                dg: entry.data_group_number,
                hash,
            });
        }
        let lds_version = asn.lds_version_info.map(|v| LdsVersionInfo {
            lds_version: v.lds_version.to_string(),
            unicode_version: v.unicode_version.to_string(),
        });
        Ok(LdsSecurityObject {
            version: asn.version,
            hash_algorithm,
            dg_hashes,
            lds_version,
        })
    }

    /// Encodes the DER `LDSSecurityObject`.
    pub fn encode(&self) -> Result<Vec<u8>> {
        let mut values = Vec::with_capacity(self.dg_hashes.len());
        for h in &self.dg_hashes {
            values.push(DataGroupHashAsn1 {
                data_group_number: h.dg,
                data_group_hash_value: OctetString::new(h.hash.clone()).map_err(der_error)?,
            });
        }
        let lds_version_info = match &self.lds_version {
            Some(v) => Some(LdsVersionInfoAsn1 {
                lds_version: PrintableString::new(&v.lds_version).map_err(der_error)?,
                unicode_version: PrintableString::new(&v.unicode_version).map_err(der_error)?,
            }),
            None => None,
        };
        LdsSecurityObjectAsn1 {
            version: self.version,
            hash_algorithm: self.hash_algorithm.algorithm_identifier(),
            data_group_hash_values: values,
            lds_version_info,
        }
        .to_der()
        .map_err(der_error)
    }

    /// The hash listed for data group `dg`.
    pub fn hash_of(&self, dg: u8) -> Option<&[u8]> {
        self.dg_hashes
            .iter()
            .find(|h| h.dg == dg)
            .map(|h| h.hash.as_slice())
    }
}

/// One signer of the SOD, with what passive authentication needs.
#[derive(Debug, Clone)]
pub struct SodSigner {
    /// How the signer names its certificate.
    pub sid: SignerIdentifier,
    /// The digest algorithm of the signed attributes.
    pub digest_algorithm: AlgorithmIdentifierOwned,
    /// The signed attributes re-tagged as `SET OF` (`31 …`): exactly the bytes the signature
    /// covers, taken from the file (not re-encoded, so a card's unsorted SET still verifies).
    /// `None` when the signer has no signed attributes (the signature then covers the eContent).
    pub signed_attrs_der: Option<Vec<u8>>,
    /// The value of the `contentType` signed attribute.
    pub content_type: Option<ObjectIdentifier>,
    /// The value of the `messageDigest` signed attribute: the hash of [`Sod::econtent`].
    pub message_digest: Option<Vec<u8>>,
    pub signature_algorithm: AlgorithmIdentifierOwned,
    pub signature: Vec<u8>,
}

/// A decoded EF.SOD.
#[derive(Clone)]
pub struct Sod {
    raw: Vec<u8>,
    signed_data: SignedData,
    econtent: Vec<u8>,
    lds: LdsSecurityObject,
    signers: Vec<SodSigner>,
}

impl std::fmt::Debug for Sod {
    // The CMS structure is large; show what identifies the file.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let dgs: Vec<u8> = self.lds.dg_hashes.iter().map(|h| h.dg).collect();
        f.debug_struct("Sod")
            .field("len", &self.raw.len())
            .field("hash", &self.lds.hash_algorithm.name())
            .field("dgs", &dgs)
            .field("signers", &self.signers.len())
            .field("certificates", &self.certificates().len())
            .finish()
    }
}

impl Sod {
    /// Decodes the bytes of EF.SOD (tag `77`; bytes after the TLV, such as padding, are ignored).
    pub fn decode(bytes: &[u8]) -> Result<Self> {
        if bytes.len() > MAX_LEN {
            return Err(Error::LdsTooLarge {
                file: FILE,
                len: bytes.len(),
                max: MAX_LEN,
            });
        }
        match Self::decode_der(bytes) {
            Ok(sod) => Ok(sod),
            Err(strict) => {
                // CMS is BER (RFC 5652): some issuers write indefinite lengths or a constructed
                // eContent (seen on US passports). Retry once on the DER form of the same
                // content; the file itself is kept as read.
                let Ok((normalized, consumed)) = ber_to_der(bytes) else {
                    return Err(strict);
                };
                let original = bytes.get(..consumed).unwrap_or(bytes);
                if normalized == original {
                    return Err(strict);
                }
                let mut sod = Self::decode_der(&normalized).map_err(|_| strict)?;
                sod.raw = original.to_vec();
                Ok(sod)
            }
        }
    }

    fn decode_der(bytes: &[u8]) -> Result<Self> {
        let outer = tlv::parse_prefix(bytes, TAG)?;
        let content_info = ContentInfo::from_der(outer.value).map_err(der_error)?;
        if content_info.content_type != ID_SIGNED_DATA {
            return Err(malformed("ContentInfo does not hold SignedData"));
        }
        let signed_data: SignedData = content_info.content.decode_as().map_err(der_error)?;
        let encap = &signed_data.encap_content_info;
        if encap.econtent_type != ID_LDS_SECURITY_OBJECT {
            return Err(malformed("eContentType is not ldsSecurityObject"));
        }
        let econtent: OctetString = encap
            .econtent
            .as_ref()
            .ok_or(malformed("SignedData has no eContent"))?
            .decode_as()
            .map_err(der_error)?;
        let econtent = econtent.as_bytes().to_vec();
        let lds = LdsSecurityObject::decode(&econtent)?;

        let raw_infos = raw_signer_infos(outer.value)?;
        if raw_infos.is_empty() {
            return Err(malformed("SignedData has no SignerInfo"));
        }
        let mut signers = Vec::with_capacity(raw_infos.len());
        for (info, attrs) in raw_infos {
            let info = SignerInfo::from_der(info).map_err(der_error)?;
            signers.push(signer_of(&info, attrs)?);
        }
        Ok(Sod {
            raw: outer.raw.to_vec(),
            signed_data,
            econtent,
            lds,
            signers,
        })
    }

    /// The file as read (the `77` TLV).
    pub fn as_bytes(&self) -> &[u8] {
        &self.raw
    }

    /// The CMS `SignedData`.
    pub fn signed_data(&self) -> &SignedData {
        &self.signed_data
    }

    /// The DER `LDSSecurityObject`: the input of the `messageDigest` signed attribute.
    pub fn econtent(&self) -> &[u8] {
        &self.econtent
    }

    /// The decoded `LDSSecurityObject`.
    pub fn lds_security_object(&self) -> &LdsSecurityObject {
        &self.lds
    }

    /// The algorithm of the data-group hashes.
    pub fn hash_algorithm(&self) -> HashAlgorithm {
        self.lds.hash_algorithm
    }

    /// The data-group hashes, in file order.
    pub fn dg_hashes(&self) -> &[DgHash] {
        &self.lds.dg_hashes
    }

    /// The hash listed for data group `dg`.
    pub fn dg_hash(&self, dg: u8) -> Option<&[u8]> {
        self.lds.hash_of(dg)
    }

    /// Every signer (a genuine SOD has exactly one).
    pub fn signers(&self) -> &[SodSigner] {
        &self.signers
    }

    /// The Document Signer certificates embedded in the SOD (usually one).
    pub fn certificates(&self) -> Vec<&Certificate> {
        match &self.signed_data.certificates {
            Some(set) => set
                .0
                .iter()
                .filter_map(|c| match c {
                    CertificateChoices::Certificate(cert) => Some(cert),
                    CertificateChoices::Other(_) => None,
                })
                .collect(),
            None => Vec::new(),
        }
    }
}

fn signer_of(info: &SignerInfo, raw_attrs: Option<Vec<u8>>) -> Result<SodSigner> {
    if info.signed_attrs.is_some() != raw_attrs.is_some() {
        return Err(malformed(
            "signed attributes could not be located in the file",
        ));
    }
    let mut content_type = None;
    let mut message_digest = None;
    if let Some(attrs) = &info.signed_attrs {
        for attr in attrs.iter() {
            if attr.oid == ID_CONTENT_TYPE {
                let value = single_value(attr)?;
                content_type = Some(value.decode_as::<ObjectIdentifier>().map_err(der_error)?);
            } else if attr.oid == ID_MESSAGE_DIGEST {
                let value = single_value(attr)?;
                let digest: OctetString = value.decode_as().map_err(der_error)?;
                message_digest = Some(digest.as_bytes().to_vec());
            }
        }
    }
    Ok(SodSigner {
        sid: info.sid.clone(),
        digest_algorithm: info.digest_alg.clone(),
        signed_attrs_der: raw_attrs,
        content_type,
        message_digest,
        signature_algorithm: info.signature_algorithm.clone(),
        signature: info.signature.as_bytes().to_vec(),
    })
}

fn single_value(attr: &Attribute) -> Result<&Any> {
    let mut values = attr.values.iter();
    match (values.next(), values.next()) {
        (Some(v), None) => Ok(v),
        _ => Err(malformed("a signed attribute must have exactly one value")),
    }
}

/// One SignerInfo as encoded in the file, and its signed attributes as `SET OF`.
type RawSignerInfo<'a> = (&'a [u8], Option<Vec<u8>>);

/// Finds each SignerInfo in the encoded ContentInfo, in file order, with its `[0] signedAttrs`
/// re-tagged as `SET OF` (`31`), the form the signature covers (RFC 5652 §5.4). The structure
/// was already validated by the DER decoder; this walk only locates bytes. (The decoder's own
/// `SignerInfos` are sorted as DER requires, so they cannot be paired by position.)
fn raw_signer_infos(content_info: &[u8]) -> Result<Vec<RawSignerInfo<'_>>> {
    let ci = tlv::parse_exact(content_info, 0x30)?;
    let explicit = ci.require(0xA0)?;
    let sd = tlv::parse_exact(explicit.value, 0x30)?;
    // signerInfos is the last element of SignedData.
    let mut last = None;
    for child in sd.children() {
        last = Some(child?);
    }
    let infos = last.ok_or(malformed("empty SignedData"))?;
    if infos.tag != 0x31 {
        return Err(malformed("SignedData does not end with signerInfos"));
    }
    let mut out = Vec::new();
    for info in infos.children() {
        let info = info?;
        // version, sid, digestAlgorithm, then [0] signedAttrs if present. A subjectKeyIdentifier
        // sid is `80` (primitive), so the first `A0` child is the signed attributes.
        let attrs = info.children().skip(2).find_map(|c| match c {
            Ok(c) if c.tag == 0xA0 => Some(Ok(c)),
            Ok(_) => None,
            Err(e) => Some(Err(e)),
        });
        let attrs = match attrs {
            Some(attrs) => {
                let mut set = attrs?.raw.to_vec();
                // The tag is a single byte; IMPLICIT [0] becomes the universal SET tag.
                if let Some(first) = set.first_mut() {
                    *first = 0x31;
                }
                Some(set)
            }
            None => None,
        };
        out.push((info.raw, attrs));
    }
    Ok(out)
}

/// The deepest nesting [`ber_to_der`] follows (EF.SOD nests about 12 levels).
const MAX_BER_DEPTH: usize = 32;

/// Re-encodes a BER TLV (the first one of `input`; what follows it is dropped) in DER form:
/// indefinite lengths become definite, lengths minimal, constructed OCTET STRINGs one primitive
/// OCTET STRING. Tags and primitive contents are unchanged, so hashes over content octets (the
/// eContent) and DER-encoded parts (the signed attributes) still match.
/// Returns the DER bytes and how many input bytes the element took.
fn ber_to_der(input: &[u8]) -> Result<(Vec<u8>, usize)> {
    let mut out = Vec::with_capacity(input.len());
    let consumed = ber_element(input, 0, &mut out)?;
    Ok((out, consumed))
}

/// Converts one element at the start of `input` into `out`; returns the bytes it took.
fn ber_element(input: &[u8], depth: usize, out: &mut Vec<u8>) -> Result<usize> {
    let bad = |what| Error::LdsMalformed { file: FILE, what };
    if depth > MAX_BER_DEPTH {
        return Err(bad("BER nested too deeply"));
    }
    let first = *input.first().ok_or(bad("BER element truncated"))?;
    let mut tag_len = 1;
    if first & 0x1F == 0x1F {
        loop {
            let b = *input.get(tag_len).ok_or(bad("BER tag truncated"))?;
            tag_len += 1;
            if tag_len > 4 {
                return Err(bad("BER tag longer than 4 bytes"));
            }
            if b & 0x80 == 0 {
                break;
            }
        }
    }
    let tag = &input[..tag_len];
    let constructed = first & 0x20 != 0;
    let len_byte = *input.get(tag_len).ok_or(bad("BER length truncated"))?;
    let mut value = Vec::new();
    let consumed = if len_byte == 0x80 {
        if !constructed {
            return Err(bad("indefinite length on a primitive BER element"));
        }
        let mut at = tag_len + 1;
        loop {
            let rest = input.get(at..).ok_or(bad("BER element truncated"))?;
            if rest.starts_with(&[0, 0]) {
                break at + 2;
            }
            at += ber_element(rest, depth + 1, &mut value)?;
        }
    } else {
        let header = tlv::read_header(input)?;
        let end = header
            .header_len
            .checked_add(header.value_len)
            .filter(|end| *end <= input.len())
            .ok_or(bad("BER value shorter than its length"))?;
        let content = &input[header.header_len..end];
        if constructed {
            let mut at = 0;
            while at < content.len() {
                at += ber_element(&content[at..], depth + 1, &mut value)?;
            }
        } else {
            value.extend_from_slice(content);
        }
        end
    };
    if tag == [0x24] {
        // Constructed OCTET STRING: its segments' contents, concatenated, as one primitive.
        let mut joined = Vec::with_capacity(value.len());
        for segment in tlv::iter(&value) {
            let segment = segment?;
            if segment.tag != 0x04 {
                return Err(bad(
                    "constructed OCTET STRING with a non-OCTET STRING segment",
                ));
            }
            joined.extend_from_slice(segment.value);
        }
        tlv::encode_into(out, 0x04, &joined);
    } else {
        out.extend_from_slice(tag);
        tlv::encode_length(out, value.len());
        out.extend_from_slice(&value);
    }
    Ok(consumed)
}

/// What the signing callback of [`build`] returns: the signature algorithm and the signature
/// over the DER of the signed attributes.
pub type SignatureOutput = (AlgorithmIdentifierOwned, Vec<u8>);

/// Builds EF.SOD over `dgs` (`(DG number, DG file bytes)`), as a Document Signer with the
/// certificate `ds_cert_der`: an `LDSSecurityObject` v0 hashed with `hash`, the signed attributes
/// `contentType` and `messageDigest`, and the signature `sign` returns for their DER.
pub fn build<F>(
    hash: HashAlgorithm,
    dgs: &[(u8, &[u8])],
    ds_cert_der: &[u8],
    sign: F,
) -> Result<Vec<u8>>
where
    F: FnOnce(&[u8]) -> Result<SignatureOutput>,
{
    const ENC: &str = "EF.SOD";
    if dgs.is_empty() || dgs.len() > MAX_DG_HASHES {
        return Err(Error::LdsEncode {
            file: ENC,
            what: "1..=16 data groups are needed",
        });
    }
    let mut dg_hashes: Vec<DgHash> = Vec::with_capacity(dgs.len());
    for (dg, file) in dgs {
        if !(1..=16).contains(dg) || dg_hashes.iter().any(|h| h.dg == *dg) {
            return Err(Error::LdsEncode {
                file: ENC,
                what: "data-group numbers must be distinct and in 1..=16",
            });
        }
        dg_hashes.push(DgHash {
            dg: *dg,
            hash: hash.digest(file),
        });
    }
    dg_hashes.sort_by_key(|h| h.dg);
    let econtent = LdsSecurityObject {
        version: 0,
        hash_algorithm: hash,
        dg_hashes,
        lds_version: None,
    }
    .encode()?;

    let cert = Certificate::from_der(ds_cert_der).map_err(der_error)?;
    let tbs = cert.tbs_certificate();
    let sid = SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
        issuer: tbs.issuer().clone(),
        serial_number: tbs.serial_number().clone(),
    });

    let content_type = Attribute {
        oid: ID_CONTENT_TYPE,
        values: SetOfVec::try_from(vec![
            Any::encode_from(&ID_LDS_SECURITY_OBJECT).map_err(der_error)?,
        ])
        .map_err(der_error)?,
    };
    let digest = OctetString::new(hash.digest(&econtent)).map_err(der_error)?;
    let message_digest = Attribute {
        oid: ID_MESSAGE_DIGEST,
        values: SetOfVec::try_from(vec![Any::encode_from(&digest).map_err(der_error)?])
            .map_err(der_error)?,
    };
    let signed_attrs = SetOfVec::try_from(vec![content_type, message_digest]).map_err(der_error)?;
    let signed_attrs_der = signed_attrs.to_der().map_err(der_error)?;
    let (signature_algorithm, signature) = sign(&signed_attrs_der)?;

    let signer = SignerInfo {
        version: CmsVersion::V1,
        sid,
        digest_alg: hash.algorithm_identifier(),
        signed_attrs: Some(signed_attrs),
        signature_algorithm,
        signature: OctetString::new(signature).map_err(der_error)?,
        unsigned_attrs: None,
    };
    let signed_data = SignedData {
        // Version 3 because the eContentType is not id-data (RFC 5652 §5.1).
        version: CmsVersion::V3,
        digest_algorithms: SetOfVec::try_from(vec![hash.algorithm_identifier()])
            .map_err(der_error)?,
        encap_content_info: EncapsulatedContentInfo {
            econtent_type: ID_LDS_SECURITY_OBJECT,
            econtent: Some(
                Any::encode_from(&OctetString::new(econtent).map_err(der_error)?)
                    .map_err(der_error)?,
            ),
        },
        certificates: Some(CertificateSet(
            SetOfVec::try_from(vec![CertificateChoices::Certificate(cert)]).map_err(der_error)?,
        )),
        crls: None,
        signer_infos: SignerInfos(SetOfVec::try_from(vec![signer]).map_err(der_error)?),
    };
    let content_info = ContentInfo {
        content_type: ID_SIGNED_DATA,
        content: Any::encode_from(&signed_data).map_err(der_error)?,
    };
    Ok(tlv::encode(TAG, &content_info.to_der().map_err(der_error)?))
}

fn malformed(what: &'static str) -> Error {
    Error::LdsMalformed { file: FILE, what }
}

fn der_error(e: der::Error) -> Error {
    Error::LdsDer {
        file: FILE,
        detail: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const DS_CERT: &[u8] = include_bytes!("testdata/ds-test-cert.der");
    const ECDSA_WITH_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");

    /// A stand-in signer: the "signature" is SHA-256 of the signed attributes, so a test can
    /// check that the bytes the callback saw are the bytes the parser hands to verification.
    fn dummy_sign(attrs: &[u8]) -> Result<SignatureOutput> {
        Ok((
            AlgorithmIdentifierOwned {
                oid: ECDSA_WITH_SHA256,
                parameters: None,
            },
            sha2::Sha256::digest(attrs).to_vec(),
        ))
    }

    #[test]
    fn hash_algorithms_match_known_digests() {
        // FIPS 180 "abc" vectors (first bytes), independent of this code.
        let expected = [
            (HashAlgorithm::Sha1, "a9993e36"),
            (HashAlgorithm::Sha224, "23097d22"),
            (HashAlgorithm::Sha256, "ba7816bf"),
            (HashAlgorithm::Sha384, "cb00753f"),
            (HashAlgorithm::Sha512, "ddaf35a1"),
        ];
        for (alg, prefix) in expected {
            let d = alg.digest(b"abc");
            assert_eq!(d.len(), alg.output_len());
            assert_eq!(hex::encode(&d[..4]), prefix, "{}", alg.name());
            assert_eq!(HashAlgorithm::from_oid(&alg.oid()).unwrap(), alg);
        }
        assert!(matches!(
            HashAlgorithm::from_oid(&ECDSA_WITH_SHA256),
            Err(Error::UnsupportedHashAlgorithm { .. })
        ));
    }

    #[test]
    fn built_sod_decodes_with_hashes_attributes_and_certificate() {
        let dg1 = b"\x61\x03\x5F\x1F\x00".as_slice();
        let dg13 = b"\x6D\x02\x30\x00".as_slice();
        let sod = build(
            HashAlgorithm::Sha256,
            &[(13, dg13), (1, dg1)],
            DS_CERT,
            dummy_sign,
        )
        .unwrap();
        assert_eq!(sod[0], 0x77);
        let parsed = Sod::decode(&sod).unwrap();
        assert_eq!(parsed.as_bytes(), &sod[..]);
        assert_eq!(parsed.hash_algorithm(), HashAlgorithm::Sha256);
        let dgs: Vec<u8> = parsed.dg_hashes().iter().map(|h| h.dg).collect();
        assert_eq!(dgs, vec![1, 13]);
        assert_eq!(parsed.dg_hash(1).unwrap(), &sha2::Sha256::digest(dg1)[..]);
        assert_eq!(parsed.dg_hash(13).unwrap(), &sha2::Sha256::digest(dg13)[..]);
        assert!(parsed.dg_hash(2).is_none());

        let signer = &parsed.signers()[0];
        let attrs = signer.signed_attrs_der.as_ref().unwrap();
        assert_eq!(attrs[0], 0x31);
        assert_eq!(signer.signature, sha2::Sha256::digest(attrs).to_vec());
        assert_eq!(signer.content_type, Some(ID_LDS_SECURITY_OBJECT));
        assert_eq!(
            signer.message_digest.as_deref(),
            Some(&sha2::Sha256::digest(parsed.econtent())[..])
        );
        assert_eq!(signer.signature_algorithm.oid, ECDSA_WITH_SHA256);
        assert_eq!(signer.digest_algorithm.oid, HashAlgorithm::Sha256.oid());

        let certs = parsed.certificates();
        assert_eq!(certs.len(), 1);
        assert_eq!(certs[0].to_der().unwrap(), DS_CERT);
        assert!(format!("{parsed:?}").contains("SHA-256"));
    }

    /// EF.SOD and DG1 of the BSI TR-03105-5 reference data set (a test passport of the German
    /// BSI, "ERIKA MUSTERMANN"): an RSA-PSS signed SOD from a real issuing system.
    const BSI_SOD: &[u8] = include_bytes!("testdata/bsi-tr03105-5-ef-sod.bin");
    const BSI_DG1: &[u8] = include_bytes!("testdata/bsi-tr03105-5-dg1.bin");

    #[test]
    fn bsi_reference_sod_decodes() {
        let sod = Sod::decode(BSI_SOD).unwrap();
        assert_eq!(sod.as_bytes(), BSI_SOD);
        assert_eq!(sod.hash_algorithm(), HashAlgorithm::Sha256);
        assert_eq!(sod.lds_security_object().version, 0);
        let dgs: Vec<u8> = sod.dg_hashes().iter().map(|h| h.dg).collect();
        assert_eq!(dgs, vec![1, 2, 3, 14, 4]);
        // The DG1 hash is the SHA-256 of the reference DG1 file.
        assert_eq!(sod.dg_hash(1).unwrap(), &sha2::Sha256::digest(BSI_DG1)[..]);
        assert_eq!(
            hex::encode_upper(sod.dg_hash(14).unwrap()),
            "CF5004FFCCD64E1A8BD3A42FD53814EC3D4481640BE1906D0ECFEB016EF6A6AE"
        );

        let signers = sod.signers();
        assert_eq!(signers.len(), 1);
        let signer = &signers[0];
        assert!(matches!(
            signer.sid,
            SignerIdentifier::IssuerAndSerialNumber(_)
        ));
        assert_eq!(
            signer.signature_algorithm.oid,
            ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.10"),
            "RSASSA-PSS"
        );
        assert_eq!(signer.signature.len(), 256);
        assert_eq!(signer.content_type, Some(ID_LDS_SECURITY_OBJECT));
        let digest = signer.message_digest.as_deref().unwrap();
        assert_eq!(
            hex::encode_upper(digest),
            "B46A0D05E280F398EFEEEBFF67E78C736ADD15E75670B1AD4C6C534E8187B9D6"
        );
        assert_eq!(digest, &sha2::Sha256::digest(sod.econtent())[..]);
        // The signed attributes are the file's `A0 48 …` bytes with the tag made `31`.
        let attrs = signer.signed_attrs_der.as_ref().unwrap();
        assert_eq!(&attrs[..2], &[0x31, 0x48]);
        let in_file = [&[0xA0][..], &attrs[1..]].concat();
        assert!(BSI_SOD.windows(in_file.len()).any(|w| w == in_file));

        let certs = sod.certificates();
        assert_eq!(certs.len(), 1);
        assert_eq!(
            certs[0].tbs_certificate().serial_number().as_bytes(),
            &[0x01, 0x42, 0xFD, 0x5C, 0xF9, 0x27]
        );
    }

    #[test]
    fn bsi_reference_dg1_is_a_td3_mrz() {
        let dg1 = crate::lds::dg1::Dg1::decode(BSI_DG1).unwrap();
        let m = &dg1.mrz;
        assert_eq!(m.format, crate::lds::dg1::MrzFormat::Td3);
        assert_eq!(m.document_code, "P");
        assert_eq!(m.issuing_state, "D");
        assert_eq!(m.document_number, "C11T002JM");
        assert_eq!(m.date_of_birth, "960812");
        assert_eq!(m.date_of_expiry, "231031");
        assert_eq!(m.primary_identifier, "MUSTERMANN");
        assert_eq!(m.secondary_identifier, "ERIKA");
        assert_eq!(dg1.encode().unwrap(), BSI_DG1);
    }

    #[test]
    fn unsorted_signed_attributes_keep_the_card_bytes() {
        let sod = build(HashAlgorithm::Sha1, &[(1, b"x")], DS_CERT, dummy_sign).unwrap();
        let parsed = Sod::decode(&sod).unwrap();
        let attrs = parsed.signers()[0].signed_attrs_der.clone().unwrap();
        // Swap the two attributes in place, as a careless card issuer might: same lengths, so
        // every enclosing length stays valid, and the parser must report the swapped bytes.
        let set = tlv::parse_exact(&attrs, 0x31).unwrap();
        let items: Vec<_> = set.children().map(|c| c.unwrap().raw.to_vec()).collect();
        assert_eq!(items.len(), 2);
        let swapped = [items[1].clone(), items[0].clone()].concat();
        let pos = sod
            .windows(set.value.len())
            .position(|w| w == set.value)
            .unwrap();
        let mut tampered = sod.clone();
        tampered[pos..pos + swapped.len()].copy_from_slice(&swapped);
        let reparsed = Sod::decode(&tampered).unwrap();
        let got = reparsed.signers()[0].signed_attrs_der.clone().unwrap();
        assert_eq!(&got[2..], &swapped[..]);
        assert_ne!(got, attrs);
    }

    /// Rewrites DER as BER the way lenient issuers do: every constructed element with an
    /// indefinite length, and OCTET STRINGs longer than 16 bytes split into segments.
    fn to_ber(der_bytes: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        for item in tlv::iter(der_bytes) {
            let item = item.unwrap();
            let mut tag = Vec::new();
            tlv::encode_tag(&mut tag, item.tag);
            if tlv::is_constructed(item.tag) {
                out.extend(&tag);
                out.push(0x80);
                out.extend(to_ber(item.value));
                out.extend([0, 0]);
            } else if item.tag == 0x04 && item.value.len() > 16 {
                out.extend([0x24, 0x80]);
                for chunk in item.value.chunks(16) {
                    tlv::encode_into(&mut out, 0x04, chunk);
                }
                out.extend([0, 0]);
            } else {
                out.extend(item.raw);
            }
        }
        out
    }

    #[test]
    fn ber_encoded_sod_decodes_like_its_der_form() {
        let der_sod = build(
            HashAlgorithm::Sha256,
            &[(1, b"a"), (13, b"b")],
            DS_CERT,
            dummy_sign,
        )
        .unwrap();
        let ber_sod = to_ber(&der_sod);
        assert_eq!(&ber_sod[..2], &[0x77, 0x80]);
        assert_eq!(
            ber_to_der(&ber_sod).unwrap(),
            (der_sod.clone(), ber_sod.len())
        );
        let from_der = Sod::decode(&der_sod).unwrap();
        let from_ber = Sod::decode(&ber_sod).unwrap();
        assert_eq!(from_ber.as_bytes(), &ber_sod[..]);
        assert_eq!(from_ber.dg_hashes(), from_der.dg_hashes());
        assert_eq!(from_ber.econtent(), from_der.econtent());
        let signer = &from_ber.signers()[0];
        let attrs = signer.signed_attrs_der.as_ref().unwrap();
        assert_eq!(signer.signature, sha2::Sha256::digest(attrs).to_vec());
        // Padding after the file is not part of it.
        let padded = [&ber_sod[..], &[0, 0, 0xFF]].concat();
        assert_eq!(Sod::decode(&padded).unwrap().as_bytes(), &ber_sod[..]);
        // Broken BER is still refused with the strict decoder's error.
        assert!(Sod::decode(&ber_sod[..ber_sod.len() - 2]).is_err());
        assert!(matches!(
            ber_to_der(&[0x04, 0x80, 0x00, 0x00]),
            Err(Error::LdsMalformed { .. })
        ));
        let mut deep = vec![0x04, 0x00];
        for _ in 0..40 {
            deep = [&[0x30, 0x80][..], &deep, &[0, 0]].concat();
        }
        assert!(ber_to_der(&deep).is_err());
    }

    #[test]
    fn several_signers_keep_their_own_attributes_in_file_order() {
        let sod = build(HashAlgorithm::Sha256, &[(1, b"a")], DS_CERT, dummy_sign).unwrap();
        // Take the one SignerInfo and make a second whose signature differs; write them in the
        // order that is *not* DER's sorted order, so a decoder that sorts would swap them.
        let ci = tlv::parse_exact(tlv::parse_exact(&sod, 0x77).unwrap().value, 0x30).unwrap();
        let sd = tlv::parse_exact(ci.require(0xA0).unwrap().value, 0x30).unwrap();
        let children: Vec<_> = sd.children().map(|c| c.unwrap()).collect();
        let infos = children.last().unwrap();
        let first = tlv::parse_exact(infos.value, 0x30).unwrap().raw.to_vec();
        let mut second = first.clone();
        let n = second.len();
        second[n - 1] ^= 0xFF; // last byte of the signature value
        let (low, high) = if first < second {
            (first, second)
        } else {
            (second, first)
        };
        let set = tlv::encode(0x31, &[high.clone(), low.clone()].concat());
        let mut sd_value: Vec<u8> = children[..children.len() - 1]
            .iter()
            .flat_map(|c| c.raw.to_vec())
            .collect();
        sd_value.extend(set);
        let content_info = tlv::encode(
            0x30,
            &[
                ci.children().next().unwrap().unwrap().raw.to_vec(),
                tlv::encode(0xA0, &tlv::encode(0x30, &sd_value)),
            ]
            .concat(),
        );
        let parsed = Sod::decode(&tlv::encode(0x77, &content_info)).unwrap();
        let signers = parsed.signers();
        assert_eq!(signers.len(), 2);
        let signature_of = |raw: &[u8]| {
            SignerInfo::from_der(raw)
                .unwrap()
                .signature
                .as_bytes()
                .to_vec()
        };
        assert_eq!(signers[0].signature, signature_of(&high));
        assert_eq!(signers[1].signature, signature_of(&low));
        for signer in signers {
            assert!(signer.signed_attrs_der.is_some());
        }
    }

    #[test]
    fn lds_security_object_v1_round_trips_and_bad_ones_are_refused() {
        let so = LdsSecurityObject {
            version: 1,
            hash_algorithm: HashAlgorithm::Sha512,
            dg_hashes: vec![DgHash {
                dg: 2,
                hash: vec![7; 64],
            }],
            lds_version: Some(LdsVersionInfo {
                lds_version: "0108".into(),
                unicode_version: "040000".into(),
            }),
        };
        let der_bytes = so.encode().unwrap();
        assert_eq!(LdsSecurityObject::decode(&der_bytes).unwrap(), so);

        let mut wrong_len = so.clone();
        wrong_len.dg_hashes[0].hash.pop();
        assert!(matches!(
            LdsSecurityObject::decode(&wrong_len.encode().unwrap()),
            Err(Error::LdsMalformed { .. })
        ));
        let mut v1_without_info = so.clone();
        v1_without_info.lds_version = None;
        assert!(matches!(
            LdsSecurityObject::decode(&v1_without_info.encode().unwrap()),
            Err(Error::LdsMalformed { .. })
        ));
        let mut dg_zero = so;
        dg_zero.dg_hashes[0].dg = 0;
        assert!(matches!(
            LdsSecurityObject::decode(&dg_zero.encode().unwrap()),
            Err(Error::LdsMalformed { .. })
        ));
    }

    #[test]
    fn wrong_wrappers_are_specific_errors() {
        assert!(matches!(
            Sod::decode(&[0x61, 0x00]),
            Err(Error::UnexpectedTag { expected: 0x77, .. })
        ));
        assert!(matches!(
            Sod::decode(&[0x77, 0x02, 0x30, 0x00]),
            Err(Error::LdsDer { .. })
        ));
        assert!(matches!(
            Sod::decode(&vec![0x77; MAX_LEN + 1]),
            Err(Error::LdsTooLarge { .. })
        ));
        assert!(matches!(
            build(HashAlgorithm::Sha256, &[], DS_CERT, dummy_sign),
            Err(Error::LdsEncode { .. })
        ));
        assert!(matches!(
            build(
                HashAlgorithm::Sha256,
                &[(1, b"a"), (1, b"b")],
                DS_CERT,
                dummy_sign
            ),
            Err(Error::LdsEncode { .. })
        ));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        #[test]
        fn build_then_decode_round_trips(
            alg in proptest::sample::select(HashAlgorithm::ALL.to_vec()),
            files in proptest::collection::btree_map(1u8..=16, proptest::collection::vec(any::<u8>(), 0..300), 1..8),
        ) {
            let dgs: Vec<(u8, &[u8])> = files.iter().map(|(k, v)| (*k, v.as_slice())).collect();
            let sod = build(alg, &dgs, DS_CERT, dummy_sign).unwrap();
            let parsed = Sod::decode(&sod).unwrap();
            prop_assert_eq!(parsed.hash_algorithm(), alg);
            prop_assert_eq!(parsed.dg_hashes().len(), files.len());
            for (dg, file) in &files {
                prop_assert_eq!(parsed.dg_hash(*dg).unwrap(), &alg.digest(file)[..]);
            }
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = Sod::decode(&bytes);
            let _ = ber_to_der(&bytes);
            let _ = LdsSecurityObject::decode(&bytes);
        }

        #[test]
        fn mutated_sod_never_panics(pos in 0usize..1000, byte in any::<u8>()) {
            let mut sod = build(HashAlgorithm::Sha256, &[(1, b"a"), (2, b"b")], DS_CERT, dummy_sign).unwrap();
            let i = pos % sod.len();
            sod[i] = byte;
            let _ = Sod::decode(&sod);
        }
    }
}

//! The CSCA trust store: certificates loaded from a folder of PEM/DER files and/or ICAO master
//! lists, bounded in size. A file that cannot be used is skipped with a reason the caller can
//! print ([`TrustStore::skipped`]); only an unreadable folder is an error. Looking up a DS
//! certificate's issuer tries every CSCA whose subject or key identifier matches, so a CSCA
//! that was re-keyed under the same name still works.

use std::path::Path;
use std::time::SystemTime;

use der::{Decode, Encode};
use x509_cert::Certificate;

use super::chain::{self, ChainOutcome, authority_key_identifier, subject_key_identifier};
use super::masterlist::{self, MAX_MASTER_LIST_BYTES};
use crate::error::{Error, Result};

/// Most files we look at in one folder.
pub const MAX_FILES: usize = 10_000;
/// Most CSCAs we keep.
pub const MAX_ANCHORS: usize = 20_000;
/// Largest single certificate file (PEM bundles included); master lists have their own cap.
pub const MAX_CERT_FILE_BYTES: usize = 1024 * 1024;

/// One CSCA certificate and where it came from.
#[derive(Debug, Clone)]
pub struct Anchor {
    /// The certificate.
    pub certificate: Certificate,
    /// File path, or `path (master list, signed by …)`.
    pub source: String,
    fingerprint: Vec<u8>,
}

/// A source (or part of one) that was not used, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// File path, possibly with an entry index.
    pub source: String,
    /// Why it was skipped.
    pub reason: String,
}

/// The set of CSCAs the kiosk trusts.
#[derive(Debug, Clone, Default)]
pub struct TrustStore {
    anchors: Vec<Anchor>,
    skipped: Vec<Skipped>,
}

fn source_err(source: &str, reason: impl Into<String>) -> Error {
    Error::TrustSource {
        source_name: source.to_owned(),
        reason: reason.into(),
    }
}

impl TrustStore {
    /// An empty store (every chain check will be "not possible").
    pub fn new() -> TrustStore {
        TrustStore::default()
    }

    /// Loads a file or every regular file of a folder (not recursive, hidden files ignored).
    pub fn load(path: &Path) -> Result<TrustStore> {
        let mut store = TrustStore::new();
        store.add_path(path)?;
        Ok(store)
    }

    /// Adds a file or a folder's files.
    pub fn add_path(&mut self, path: &Path) -> Result<()> {
        let shown = path.display().to_string();
        let meta = std::fs::metadata(path).map_err(|e| source_err(&shown, e.to_string()))?;
        if meta.is_file() {
            return self.add_file(path);
        }
        let mut entries: Vec<_> = std::fs::read_dir(path)
            .map_err(|e| source_err(&shown, e.to_string()))?
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| {
                !p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with('.'))
            })
            .collect();
        if entries.len() > MAX_FILES {
            return Err(source_err(&shown, format!("more than {MAX_FILES} files")));
        }
        // Stable order, so the same folder always yields the same store and report.
        entries.sort();
        for p in entries {
            if p.is_file()
                && let Err(e) = self.add_file(&p)
            {
                self.skipped.push(Skipped {
                    source: p.display().to_string(),
                    reason: e.to_string(),
                });
            }
        }
        Ok(())
    }

    /// Adds one file: a PEM bundle, a DER certificate or a DER master list. An unusable file
    /// is an error here (the folder loader turns it into a skip).
    pub fn add_file(&mut self, path: &Path) -> Result<()> {
        let shown = path.display().to_string();
        let len = std::fs::metadata(path)
            .map_err(|e| source_err(&shown, e.to_string()))?
            .len();
        if len > MAX_MASTER_LIST_BYTES as u64 {
            return Err(source_err(
                &shown,
                format!("{len} bytes is larger than any trust file"),
            ));
        }
        let bytes = std::fs::read(path).map_err(|e| source_err(&shown, e.to_string()))?;
        self.add_bytes(&bytes, &shown)
    }

    /// Adds certificates from bytes: PEM (one or more `CERTIFICATE` blocks), a DER
    /// certificate, or a DER CSCA master list. `source` names them in the report.
    pub fn add_bytes(&mut self, bytes: &[u8], source: &str) -> Result<()> {
        if bytes.starts_with(b"-----BEGIN")
            || bytes.windows(11).take(4096).any(|w| w == b"-----BEGIN ")
        {
            if bytes.len() > MAX_CERT_FILE_BYTES {
                return Err(source_err(source, "PEM file larger than 1 MiB"));
            }
            let certs = Certificate::load_pem_chain(bytes)
                .map_err(|e| source_err(source, format!("not a PEM certificate bundle: {e}")))?;
            if certs.is_empty() {
                return Err(source_err(source, "PEM file holds no certificate"));
            }
            for c in certs {
                self.add_certificate(c, source)?;
            }
            return Ok(());
        }
        let cert_err = match Certificate::from_der(bytes) {
            Ok(c) if bytes.len() <= MAX_CERT_FILE_BYTES => return self.add_certificate(c, source),
            Ok(_) => "certificate larger than 1 MiB".to_owned(),
            Err(e) => e.to_string(),
        };
        match masterlist::parse_master_list(bytes) {
            Ok(ml) => {
                let signed = match &ml.signature {
                    Ok(signer) => format!("master list signed by {signer}"),
                    Err(why) => format!("master list, signature not verified: {why}"),
                };
                let label = format!("{source} ({signed})");
                for (i, reason) in ml.skipped {
                    self.skipped.push(Skipped {
                        source: format!("{source} entry {i}"),
                        reason,
                    });
                }
                for c in ml.certificates {
                    self.add_certificate(c, &label)?;
                }
                Ok(())
            }
            Err(ml_err) => Err(source_err(
                source,
                format!("neither a certificate ({cert_err}) nor a master list ({ml_err})"),
            )),
        }
    }

    /// Adds one CSCA certificate; a certificate already present (same SHA-256) is ignored.
    pub fn add_certificate(&mut self, certificate: Certificate, source: &str) -> Result<()> {
        let der = certificate
            .to_der()
            .map_err(|e| source_err(source, e.to_string()))?;
        let fingerprint = crate::lds::sod::HashAlgorithm::Sha256.digest(&der);
        if self.anchors.iter().any(|a| a.fingerprint == fingerprint) {
            return Ok(());
        }
        if self.anchors.len() >= MAX_ANCHORS {
            return Err(source_err(source, format!("more than {MAX_ANCHORS} CSCAs")));
        }
        self.anchors.push(Anchor {
            certificate,
            source: source.to_owned(),
            fingerprint,
        });
        Ok(())
    }

    /// The CSCAs.
    pub fn anchors(&self) -> &[Anchor] {
        &self.anchors
    }

    /// What was skipped while loading, with reasons.
    pub fn skipped(&self) -> &[Skipped] {
        &self.skipped
    }

    /// Whether the store has no CSCA.
    pub fn is_empty(&self) -> bool {
        self.anchors.is_empty()
    }

    /// The CSCAs that could have issued `ds`: same subject as its issuer, or same key
    /// identifier as its AKI.
    pub fn candidates<'a>(&'a self, ds: &Certificate) -> Vec<&'a Anchor> {
        let aki = authority_key_identifier(ds);
        self.anchors
            .iter()
            .filter(|a| {
                chain::names_issuer(ds, &a.certificate)
                    || (aki.is_some() && aki == subject_key_identifier(&a.certificate))
            })
            .collect()
    }

    /// Verifies `ds` against the store: the first candidate CSCA that verifies wins. With no
    /// candidate the error says so; with candidates that all fail, the first failure is
    /// returned (it names the rule).
    pub fn verify_ds(
        &self,
        ds: &Certificate,
        now: SystemTime,
        signing_time: Option<SystemTime>,
    ) -> Result<ChainOutcome> {
        let candidates = self.candidates(ds);
        let mut first_error = None;
        for anchor in &candidates {
            match chain::verify_ds_certificate(
                ds,
                &anchor.certificate,
                &anchor.source,
                now,
                signing_time,
            ) {
                Ok(outcome) => return Ok(outcome),
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        Err(first_error.unwrap_or_else(|| {
            Error::Chain(format!(
                "no CSCA in the trust store ({} certificates) for issuer {}",
                self.anchors.len(),
                ds.tbs_certificate().issuer()
            ))
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pa::chain::tests::test_pki;
    use crate::pa::masterlist::build_master_list;
    use der::EncodePem;
    use der::pem::LineEnding;

    #[test]
    fn folder_with_pem_der_garbage_and_master_list() {
        let now = SystemTime::now();
        let a = test_pki("CN=CSCA A,C=VN", now);
        let b = test_pki("CN=CSCA B,C=VN", now);
        let c = test_pki("CN=CSCA C,C=VN", now);
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("a.pem"),
            a.csca.to_pem(LineEnding::LF).unwrap(),
        )
        .unwrap();
        std::fs::write(dir.path().join("b.der"), b.csca.to_der().unwrap()).unwrap();
        std::fs::write(dir.path().join("junk.cer"), b"\x30\x03\x02\x01").unwrap();
        std::fs::write(dir.path().join(".hidden"), b"ignored").unwrap();
        // The master list repeats A (deduplicated) and adds C.
        let ml = build_master_list(&[a.csca.clone(), c.csca.clone()], &c.ds, &c.ds_key).unwrap();
        std::fs::write(dir.path().join("list.ml"), ml).unwrap();

        let store = TrustStore::load(dir.path()).unwrap();
        assert_eq!(store.anchors().len(), 3);
        assert_eq!(store.skipped().len(), 1);
        assert!(store.skipped()[0].source.ends_with("junk.cer"));
        assert!(
            store.skipped()[0].reason.contains("neither a certificate"),
            "{:?}",
            store.skipped()
        );

        for (pki, source_end) in [(&a, "a.pem"), (&b, "b.der")] {
            let out = store.verify_ds(&pki.ds, now, None).unwrap();
            assert!(
                out.anchor.source.ends_with(source_end),
                "{}",
                out.anchor.source
            );
        }
        let out = store.verify_ds(&c.ds, now, None).unwrap();
        assert!(
            out.anchor
                .source
                .contains("list.ml (master list signed by CN=DS Test"),
            "{}",
            out.anchor.source
        );
        assert_eq!(out.anchor.subject, "CN=CSCA C,C=VN");
    }

    #[test]
    fn unknown_issuer_and_missing_folder_are_named_errors() {
        let now = SystemTime::now();
        let a = test_pki("CN=CSCA A,C=VN", now);
        let stranger = test_pki("CN=CSCA Stranger,C=VN", now);
        let mut store = TrustStore::new();
        store.add_certificate(a.csca.clone(), "mem").unwrap();
        let err = store.verify_ds(&stranger.ds, now, None).unwrap_err();
        assert!(
            err.to_string().contains("no CSCA in the trust store"),
            "{err}"
        );
        let missing = TrustStore::load(Path::new("/nonexistent/kiosk-trust")).unwrap_err();
        assert!(matches!(missing, Error::TrustSource { .. }), "{missing}");
    }

    #[test]
    fn a_rekeyed_csca_with_the_same_name_is_found() {
        let now = SystemTime::now();
        let old = test_pki("CN=CSCA Same,C=VN", now);
        let new = test_pki("CN=CSCA Same,C=VN", now);
        let mut store = TrustStore::new();
        store.add_certificate(old.csca.clone(), "old").unwrap();
        store.add_certificate(new.csca.clone(), "new").unwrap();
        assert_eq!(store.candidates(&new.ds).len(), 2);
        assert_eq!(
            store.verify_ds(&new.ds, now, None).unwrap().anchor.source,
            "new"
        );
        assert_eq!(
            store.verify_ds(&old.ds, now, None).unwrap().anchor.source,
            "old"
        );
    }
}

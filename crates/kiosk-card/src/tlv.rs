//! The one BER-TLV codec of the project (ISO 7816-4 / X.690 definite lengths), used by the APDU
//! layer, secure messaging, every LDS file and the virtual card.
//!
//! Tags are kept as their encoded bytes packed big-endian into a `u32` (`0x5F1F`, `0x7F49`), which
//! is how ICAO documents write them. Decoding borrows from the input and never allocates; lengths
//! are checked against the input before anything is sliced, so any byte string is safe to feed.

use crate::error::{Error, Result};

/// A tag as its encoded bytes, big-endian (`0x61`, `0x5F1F`, `0x7F4E`).
pub type Tag = u32;

/// The longest tag accepted, in bytes. ICAO and ISO 7816 use at most 3.
const MAX_TAG_BYTES: usize = 3;
/// The largest length accepted: 4 length octets (`84 xx xx xx xx`) but never beyond `u32`.
const MAX_LENGTH_OCTETS: usize = 4;

/// One decoded TLV, borrowing from the input.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Tlv<'a> {
    /// The tag, packed as described in the module doc.
    pub tag: Tag,
    /// The value bytes.
    pub value: &'a [u8],
    /// The whole encoding: tag, length and value (hash inputs and re-encoding need it).
    pub raw: &'a [u8],
}

impl std::fmt::Debug for Tlv<'_> {
    // Values may be personal data: show the shape only.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Tlv({:#X}, {} bytes)", self.tag, self.value.len())
    }
}

/// Where a TLV starts and how long it is, read from its first bytes only. Lets a file reader learn
/// a file's total size from the first chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub tag: Tag,
    /// Bytes taken by tag and length.
    pub header_len: usize,
    /// Bytes of value that follow the header.
    pub value_len: usize,
}

impl Header {
    /// Header plus value.
    pub fn total_len(&self) -> usize {
        self.header_len + self.value_len
    }
}

/// Whether the tag's first byte marks a constructed encoding (bit 6).
pub fn is_constructed(tag: Tag) -> bool {
    first_tag_byte(tag) & 0x20 != 0
}

fn first_tag_byte(tag: Tag) -> u8 {
    let bytes = tag.to_be_bytes();
    bytes.iter().copied().find(|b| *b != 0).unwrap_or(0)
}

/// Reads a tag and a length. The value may extend beyond `input` (a partial file read).
pub fn read_header(input: &[u8]) -> Result<Header> {
    let (tag, tag_len) = read_tag(input)?;
    let (value_len, len_len) = read_length(input.get(tag_len..).unwrap_or(&[]))?;
    Ok(Header {
        tag,
        header_len: tag_len + len_len,
        value_len,
    })
}

fn read_tag(input: &[u8]) -> Result<(Tag, usize)> {
    let first = *input.first().ok_or(Error::TlvTruncated {
        what: "missing tag",
    })?;
    if first == 0x00 || first == 0xFF {
        // 00 and FF are padding in ISO 7816-4, never a tag.
        return Err(Error::TlvMalformed {
            what: "tag byte 00 or FF",
        });
    }
    let mut tag = u32::from(first);
    let mut len = 1;
    if first & 0x1F == 0x1F {
        loop {
            let b = *input.get(len).ok_or(Error::TlvTruncated {
                what: "multi-byte tag",
            })?;
            len += 1;
            if len > MAX_TAG_BYTES {
                return Err(Error::TlvMalformed {
                    what: "tag longer than 3 bytes",
                });
            }
            tag = (tag << 8) | u32::from(b);
            if b & 0x80 == 0 {
                break;
            }
        }
    }
    Ok((tag, len))
}

fn read_length(input: &[u8]) -> Result<(usize, usize)> {
    let first = *input.first().ok_or(Error::TlvTruncated {
        what: "missing length",
    })?;
    if first < 0x80 {
        return Ok((usize::from(first), 1));
    }
    let n = usize::from(first & 0x7F);
    if n == 0 {
        return Err(Error::TlvMalformed {
            what: "indefinite length",
        });
    }
    if n > MAX_LENGTH_OCTETS {
        return Err(Error::TlvMalformed {
            what: "length field longer than 4 bytes",
        });
    }
    let octets = input.get(1..=n).ok_or(Error::TlvTruncated {
        what: "length field",
    })?;
    let len = octets
        .iter()
        .fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
    let len = usize::try_from(len).map_err(|_| Error::TlvMalformed {
        what: "length too large",
    })?;
    Ok((len, 1 + n))
}

/// Decodes the first TLV of `input` and returns it with the bytes after it.
pub fn parse(input: &[u8]) -> Result<(Tlv<'_>, &[u8])> {
    let h = read_header(input)?;
    let end = h
        .header_len
        .checked_add(h.value_len)
        .ok_or(Error::TlvMalformed {
            what: "length overflows",
        })?;
    if end > input.len() {
        return Err(Error::TlvTruncated {
            what: "value shorter than its length",
        });
    }
    let tlv = Tlv {
        tag: h.tag,
        value: &input[h.header_len..end],
        raw: &input[..end],
    };
    Ok((tlv, &input[end..]))
}

/// Decodes exactly one TLV with the expected tag spanning all of `input` (trailing bytes are an
/// error: a file or data object must not carry hidden extra data).
pub fn parse_exact(input: &[u8], expected: Tag) -> Result<Tlv<'_>> {
    let (tlv, rest) = parse(input)?;
    if tlv.tag != expected {
        return Err(Error::UnexpectedTag {
            expected,
            found: tlv.tag,
        });
    }
    if !rest.is_empty() {
        return Err(Error::TlvMalformed {
            what: "trailing bytes after TLV",
        });
    }
    Ok(tlv)
}

/// Like [`parse_exact`] but ignores trailing bytes, as a file padded by the card may have them.
pub fn parse_prefix(input: &[u8], expected: Tag) -> Result<Tlv<'_>> {
    let (tlv, _) = parse(input)?;
    if tlv.tag != expected {
        return Err(Error::UnexpectedTag {
            expected,
            found: tlv.tag,
        });
    }
    Ok(tlv)
}

/// Iterates over the TLVs that follow each other in `input`. Yields an error once and then stops.
pub fn iter(input: &[u8]) -> TlvIter<'_> {
    TlvIter {
        rest: input,
        failed: false,
    }
}

/// Iterator returned by [`iter`] and [`Tlv::children`].
#[derive(Debug, Clone)]
pub struct TlvIter<'a> {
    rest: &'a [u8],
    failed: bool,
}

impl<'a> Iterator for TlvIter<'a> {
    type Item = Result<Tlv<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.rest.is_empty() {
            return None;
        }
        match parse(self.rest) {
            Ok((tlv, rest)) => {
                self.rest = rest;
                Some(Ok(tlv))
            }
            Err(e) => {
                self.failed = true;
                Some(Err(e))
            }
        }
    }
}

impl<'a> Tlv<'a> {
    /// The TLVs inside this one's value.
    pub fn children(&self) -> TlvIter<'a> {
        iter(self.value)
    }

    /// The first child with `tag`, if any. Malformed children are an error.
    pub fn find(&self, tag: Tag) -> Result<Option<Tlv<'a>>> {
        find(self.value, tag)
    }

    /// The first child with `tag`; its absence is an error naming `what`.
    pub fn require(&self, tag: Tag) -> Result<Tlv<'a>> {
        self.find(tag)?.ok_or(Error::TlvMalformed {
            what: "required data object missing",
        })
    }
}

/// The first TLV with `tag` among the siblings in `input`.
pub fn find(input: &[u8], tag: Tag) -> Result<Option<Tlv<'_>>> {
    for item in iter(input) {
        let item = item?;
        if item.tag == tag {
            return Ok(Some(item));
        }
    }
    Ok(None)
}

/// Appends the encoding of `tag` to `out`.
pub fn encode_tag(out: &mut Vec<u8>, tag: Tag) {
    let bytes = tag.to_be_bytes();
    let skip = bytes.iter().take_while(|b| **b == 0).count().min(3);
    out.extend_from_slice(&bytes[skip..]);
}

/// Appends a DER definite length to `out` (shortest form).
pub fn encode_length(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(len as u8);
        return;
    }
    let bytes = (len as u64).to_be_bytes();
    let skip = bytes.iter().take_while(|b| **b == 0).count();
    let significant = &bytes[skip..];
    out.push(0x80 | significant.len() as u8);
    out.extend_from_slice(significant);
}

/// Appends one TLV to `out`.
pub fn encode_into(out: &mut Vec<u8>, tag: Tag, value: &[u8]) {
    encode_tag(out, tag);
    encode_length(out, value.len());
    out.extend_from_slice(value);
}

/// Encodes one TLV.
pub fn encode(tag: Tag, value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len() + 8);
    encode_into(&mut out, tag, value);
    out
}

/// Encodes a constructed TLV whose value is the concatenation of already encoded children.
pub fn encode_constructed(tag: Tag, children: &[&[u8]]) -> Vec<u8> {
    let value: Vec<u8> = children.concat();
    encode(tag, &value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn ef_com_from_icao_appendix_d() {
        let com = hex::decode("60145F0104303130365F36063034303030305C026175").unwrap();
        let tlv = parse_exact(&com, 0x60).unwrap();
        let items: Vec<_> = tlv.children().collect::<Result<_>>().unwrap();
        assert_eq!(items.len(), 3);
        assert_eq!(items[0].tag, 0x5F01);
        assert_eq!(items[0].value, b"0106");
        assert_eq!(items[1].tag, 0x5F36);
        assert_eq!(items[2].tag, 0x5C);
        assert_eq!(items[2].value, &[0x61, 0x75]);
        assert!(is_constructed(0x60));
        assert!(!is_constructed(0x5F01));
        assert!(is_constructed(0x7F49));
    }

    #[test]
    fn long_lengths_and_header_of_a_partial_read() {
        let value = vec![0xAB; 300];
        let enc = encode(0x75, &value);
        assert_eq!(&enc[..4], &[0x75, 0x82, 0x01, 0x2C]);
        let h = read_header(&enc[..6]).unwrap();
        assert_eq!(
            h,
            Header {
                tag: 0x75,
                header_len: 4,
                value_len: 300
            }
        );
        assert!(matches!(
            parse(&enc[..100]),
            Err(Error::TlvTruncated { .. })
        ));
    }

    #[test]
    fn rejects_what_icao_never_sends() {
        assert!(matches!(
            parse(&[0x30, 0x80, 0, 0]),
            Err(Error::TlvMalformed { .. })
        ));
        assert!(matches!(
            parse(&[0x30, 0x85, 1, 1, 1, 1, 1]),
            Err(Error::TlvMalformed { .. })
        ));
        assert!(matches!(
            parse(&[0x5F, 0x81, 0x81, 0x01, 0]),
            Err(Error::TlvMalformed { .. })
        ));
        assert!(matches!(parse(&[]), Err(Error::TlvTruncated { .. })));
        assert!(matches!(parse(&[0x00]), Err(Error::TlvMalformed { .. })));
        assert!(matches!(
            parse_exact(&[0x61, 0x00, 0x01], 0x61),
            Err(Error::TlvMalformed { .. })
        ));
        assert!(matches!(
            parse_exact(&[0x62, 0x00], 0x61),
            Err(Error::UnexpectedTag {
                expected: 0x61,
                found: 0x62
            })
        ));
    }

    proptest! {
        #[test]
        fn encode_then_parse_round_trips(
            tag in prop_oneof![1u32..0x1F, 0x20u32..0x3F, 0x5F01u32..0x5F7F, 0x7F01u32..0x7F7F],
            value in proptest::collection::vec(any::<u8>(), 0..2000),
        ) {
            let tag = if tag & 0xFF == 0x1F || tag & 0xFF == 0x3F { tag + 1 } else { tag };
            let enc = encode(tag, &value);
            let tlv = parse_exact(&enc, tag).unwrap();
            prop_assert_eq!(tlv.value, &value[..]);
            prop_assert_eq!(tlv.raw, &enc[..]);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = parse(&bytes);
            let _ = read_header(&bytes);
            for t in iter(&bytes).flatten() {
                let _ = t.children().count();
            }
        }
    }
}

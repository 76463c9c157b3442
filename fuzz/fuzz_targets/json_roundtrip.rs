//! The JSON round trip shared by the API targets (included through `#[path]`; not a target).

use serde::Serialize;
use serde::de::DeserializeOwned;

/// Decodes `data` as `T`; when that works, re-encodes it and checks that the encoding decodes
/// to an equal value (nothing lost, nothing invented on the way), then returns the value.
pub fn round_trip<T: Serialize + DeserializeOwned + PartialEq>(
    what: &str,
    data: &[u8],
) -> Option<T> {
    let value: T = serde_json::from_slice(data).ok()?;
    let json = serde_json::to_vec(&value).unwrap_or_else(|e| panic!("{what} must encode: {e}"));
    let back: T =
        serde_json::from_slice(&json).unwrap_or_else(|e| panic!("{what} must decode again: {e}"));
    assert!(back == value, "{what} round trip changed the value");
    Some(value)
}

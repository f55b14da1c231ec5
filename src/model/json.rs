//! JSON decoding shared by both sides.

/// JSON decoded from its bytes, as server functions decode their results: decoding events,
/// the page's resources and local storage the same way keeps one decoder per type in the
/// browser's wasm rather than two (one for `&str`, one for bytes; docs/PERF.md).
pub fn from_json<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, serde_json::Error> {
    serde_json::from_slice(text.as_bytes())
}

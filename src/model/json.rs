//! JSON decoding shared by both sides.

/// JSON decoded from its bytes, as server functions decode their results: decoding events,
/// the page's resources and local storage the same way keeps one decoder per type in the
/// browser's wasm rather than two (one for `&str`, one for bytes; docs/PERF.md).
pub fn from_json<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, serde_json::Error> {
    serde_json::from_slice(text.as_bytes())
}

/// A whole number that fits a `u32`, written as JSON writes any number: `7` or `7.0` (JSON
/// has one number type, and a schema's `integer` takes both).
pub fn whole<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    struct Whole;
    impl serde::de::Visitor<'_> for Whole {
        type Value = u32;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a whole number from 0 to 4294967295")
        }
        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<u32, E> {
            u32::try_from(v).map_err(|_| E::invalid_value(serde::de::Unexpected::Unsigned(v), &self))
        }
        fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<u32, E> {
            u32::try_from(v).map_err(|_| E::invalid_value(serde::de::Unexpected::Signed(v), &self))
        }
        fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<u32, E> {
            match v.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(&v) {
                true => Ok(v as u32),
                false => Err(E::invalid_value(serde::de::Unexpected::Float(v), &self)),
            }
        }
    }
    d.deserialize_any(Whole)
}

/// [`whole`], or null.
pub fn whole_or_null<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    #[derive(serde::Deserialize)]
    struct W(#[serde(deserialize_with = "whole")] u32);
    Ok(<Option<W> as serde::Deserialize>::deserialize(d)?.map(|w| w.0))
}

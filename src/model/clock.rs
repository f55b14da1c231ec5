//! Time on both sides.

/// Epoch milliseconds: every time on the wire is one of these (SPEC §1).
pub type Millis = i64;

/// Now, in epoch milliseconds, on either side (the browser has no system clock call).
pub fn now_millis() -> Millis {
    #[cfg(feature = "hydrate")]
    {
        js_sys::Date::now() as Millis
    }
    #[cfg(not(feature = "hydrate"))]
    {
        use std::time::{SystemTime, UNIX_EPOCH};
        SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as Millis).unwrap_or(0)
    }
}

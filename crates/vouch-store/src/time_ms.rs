use time::OffsetDateTime;

/// Now, truncated to milliseconds: the store's resolution, so a value round-trips exactly.
pub fn now() -> OffsetDateTime {
    from_ms(to_ms(OffsetDateTime::now_utc()))
}

pub fn to_ms(t: OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

pub fn from_ms(ms: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

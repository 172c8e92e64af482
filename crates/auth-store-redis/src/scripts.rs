//! The Lua scripts that make each lease and record operation atomic on the server.
//!
//! Key layout per [`StoreKey`](auth_core::StoreKey): `{prefix}{stem}:record` (the
//! record's JSON, whose first member is always `"version"`), `{prefix}{stem}:lease`
//! (`owner:fence`, with a TTL) and `{prefix}{stem}:fence` (the fencing counter). The
//! `{stem}` braces are a Redis Cluster hash tag: the three keys live in one slot, so a
//! script may touch them together.

use std::sync::LazyLock;

use redis::Script;

/// The prefix of a record's JSON before the version is stamped in: the scripts replace
/// it with the next version, so the version is assigned atomically with the write.
pub(crate) const UNVERSIONED_PREFIX: &str = r#"{"version":0,"#;

/// Takes the lease if nobody holds it: `SET lease owner:fence NX PX ttl` with the next
/// fencing number (`INCR fence`). KEYS: lease, fence. ARGV: owner, ttl in ms.
/// Returns the fence, or 0 when the lease is held.
pub(crate) static ACQUIRE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local fence = redis.call('INCR', KEYS[2])
if redis.call('SET', KEYS[1], ARGV[1] .. ':' .. fence, 'NX', 'PX', ARGV[2]) then
  return fence
end
return 0
",
    )
});

/// Extends the lease if it is still `owner:fence` (compare-and-PEXPIRE; an expired lease
/// is gone and stays gone). KEYS: lease. ARGV: owner:fence, ttl in ms. Returns 1 or 0.
pub(crate) static RENEW: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
",
    )
});

/// Deletes the lease if it is still `owner:fence` (compare-and-delete: never another
/// holder's). KEYS: lease. ARGV: owner:fence. Returns 1 or 0.
pub(crate) static RELEASE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
",
    )
});

/// Writes the record as the next version if the lease is still `owner:fence`, and
/// publishes `version record-key` on the change channel (in the same script, so a
/// subscriber never hears of a write before it is visible).
/// KEYS: lease, record. ARGV: owner:fence, the record's JSON starting with
/// [`UNVERSIONED_PREFIX`], the change channel. Returns the new version, -1 when the
/// lease was lost, -2 when the stored value is not a record.
pub(crate) static SAVE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
local version = 0
local current = redis.call('GET', KEYS[2])
if current then
  version = tonumber(string.match(current, '^{"version":(%d+),'))
  if not version then return -2 end
end
version = version + 1
redis.call('SET', KEYS[2], '{"version":' .. version .. ',' .. string.sub(ARGV[2], 14))
redis.call('PUBLISH', ARGV[3], version .. ' ' .. KEYS[2])
return version
"#,
    )
});

/// Replaces the record with ARGV[3] if the lease is still `owner:fence` and the stored
/// version is ARGV[2] (ARGV[3] empty: only check the lease), and publishes
/// `version record-key` (the new version, ARGV[2] + 1) on the change channel ARGV[4].
/// KEYS: lease, record. Returns 1 when written, 0 when not (another version, or nothing
/// to write), -1 when the lease was lost.
pub(crate) static MARK_DEAD: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
if ARGV[3] == '' then return 0 end
local current = redis.call('GET', KEYS[2])
if not current then return 0 end
if string.match(current, '^{"version":(%d+),') ~= ARGV[2] then return 0 end
redis.call('SET', KEYS[2], ARGV[3])
redis.call('PUBLISH', ARGV[4], (tonumber(ARGV[2]) + 1) .. ' ' .. KEYS[2])
return 1
"#,
    )
});

#[cfg(test)]
mod tests {
    #[test]
    fn the_save_script_cuts_exactly_the_unversioned_prefix() {
        // `string.sub(ARGV[2], 14)`: Lua strings are 1-based.
        assert_eq!(super::UNVERSIONED_PREFIX.len(), 13);
        assert!(super::SAVE.get_hash().len() == 40);
    }
}

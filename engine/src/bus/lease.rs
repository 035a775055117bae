//! Leases in the shared Redis: a key that names the node holding something (a
//! room, a session's ledger) and lapses unless that node renews it. Nobody else
//! takes a lease while it runs; its holder gives it up or lets it lapse.

use super::Redis;
use std::time::Duration;

/// Claim the lease if nobody holds it, renew it if this node does; answer who
/// holds it now.
const CLAIM: &str = r"
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return ARGV[1] end
local owner = redis.call('GET', KEYS[1])
if owner == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return owner
";

/// Renew every lease of KEYS this node holds, claiming those nobody holds;
/// answer 1 for each kept, 0 for each another node holds.
const RENEW_ALL: &str = r"
local kept = {}
for i, key in ipairs(KEYS) do
  local owner = redis.call('GET', key)
  if owner == ARGV[1] or not owner then
    redis.call('SET', key, ARGV[1], 'PX', ARGV[2])
    kept[i] = 1
  else
    kept[i] = 0
  end
end
return kept
";

/// Give the lease up if this node holds it.
const RELEASE: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
";

/// Who holds `key` once `node` has claimed (or renewed) it for `ttl`.
pub async fn claim(redis: &Redis, key: &str, node: &str, ttl: Duration) -> Result<String, String> {
    let ms = ttl.as_millis().to_string();
    redis
        .eval::<String, _>(&redis::Script::new(CLAIM), &[key], &[node, ms.as_str()])
        .await
}

/// Renew `node`'s leases of `keys` for `ttl`; whether each is still `node`'s.
pub async fn renew_all(
    redis: &Redis,
    keys: &[String],
    node: &str,
    ttl: Duration,
) -> Result<Vec<bool>, String> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let ms = ttl.as_millis().to_string();
    let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
    let kept: Vec<i64> = redis
        .eval(&redis::Script::new(RENEW_ALL), &keys, &[node, ms.as_str()])
        .await?;
    Ok(kept.into_iter().map(|k| k == 1).collect())
}

/// Give `key` up if `node` holds it.
pub async fn release(redis: &Redis, key: &str, node: &str) -> Result<(), String> {
    redis
        .eval::<i64, _>(&redis::Script::new(RELEASE), &[key], &[node])
        .await
        .map(drop)
}

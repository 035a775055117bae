//! Rate limits (GCRA): REST requests per user at their role's rate, WebSocket
//! commands per user on a budget of their own, and login attempts per username
//! and per client address. Each limit allows a burst of its whole minute's rate,
//! then one request per 1/rate of a minute. Emergency, blackout and panic are
//! never refused (their routes and messages are let through before any limit is
//! asked).
//!
//! With a shared Redis the limits hold across every node: one Lua script keeps
//! each key's theoretical arrival time in Redis, on Redis's own clock. Without
//! one, or while Redis does not answer within its timeout, each node limits on
//! its own (the `governor` crate), so an outage of Redis never refuses or
//! stalls a request.

use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};
use limelight_shared::error::ErrorCode;
use limelight_shared::users::Role;
use std::hash::Hash;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// How often the limiters forget keys that are back to a full burst.
const SHRINK_EVERY: u64 = 10_000;

/// GCRA in Redis. KEYS[1]: the key; ARGV[1]: the emission interval and
/// ARGV[2]: the burst. Answers {1, 0} when allowed, {0, wait in ms} when not.
const GCRA: &str = r"
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000 + math.floor(tonumber(now_parts[2]) / 1000)
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then tat = now end
local next_tat = tat + interval
local ahead = next_tat - now
if ahead > interval * burst then
  return {0, ahead - interval * burst}
end
redis.call('SET', KEYS[1], next_tat, 'PX', ahead)
return {1, 0}
";

/// The rates, per minute; 0 turns a limit off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rates {
    /// REST requests a user of each role may make.
    pub rest: [(Role, u32); 4],
    /// WebSocket commands a user may send.
    pub ws: u32,
    /// Login attempts per username.
    pub login_per_user: u32,
    /// Login attempts per client address.
    pub login_per_address: u32,
}

type Keyed<K> = RateLimiter<K, DefaultKeyedStateStore<K>, DefaultClock, StateInformationMiddleware>;

/// One keyed limit at one rate.
#[derive(Debug)]
struct Limit<K: Hash + Eq + Clone> {
    /// Its part of the Redis keys.
    kind: &'static str,
    per_minute: u32,
    limiter: Option<Keyed<K>>,
    checks: AtomicU64,
}

impl<K: Hash + Eq + Clone + std::fmt::Display> Limit<K> {
    fn new(kind: &'static str, per_minute: u32) -> Self {
        Self {
            kind,
            per_minute,
            limiter: NonZeroU32::new(per_minute).map(|n| {
                RateLimiter::keyed(Quota::per_minute(n))
                    .with_middleware::<StateInformationMiddleware>()
            }),
            checks: AtomicU64::new(0),
        }
    }

    /// Spend one request of `key`'s budget, across the nodes when `shared`;
    /// why not, when it is spent.
    async fn spend(&self, key: &K, what: &str, shared: Option<&Shared>) -> Result<(), Refused> {
        if self.limiter.is_none() {
            return Ok(());
        }
        if let Some(shared) = shared {
            let redis_key = format!("limelight:limit:{}:{key}", self.kind);
            let interval = 60_000 / i64::from(self.per_minute.max(1));
            let answer: Result<(i64, i64), String> = shared
                .redis
                .eval(
                    &shared.gcra,
                    &[&redis_key],
                    &[interval.max(1), i64::from(self.per_minute)],
                )
                .await;
            match answer {
                Ok((1, _)) => return Ok(()),
                Ok((_, wait_ms)) => {
                    return Err(Refused {
                        what: what.to_owned(),
                        limit: self.per_minute,
                        retry_after: Duration::from_millis(wait_ms.max(1) as u64),
                    });
                }
                Err(e) => {
                    tracing::warn!(error = %e, "rate limit on this node alone: Redis did not answer");
                }
            }
        }
        self.spend_here(key, what)
    }

    /// Spend on this node's own limiter.
    fn spend_here(&self, key: &K, what: &str) -> Result<(), Refused> {
        let Some(limiter) = &self.limiter else {
            return Ok(());
        };
        if self.checks.fetch_add(1, Ordering::Relaxed) % SHRINK_EVERY == SHRINK_EVERY - 1 {
            limiter.retain_recent();
        }
        match limiter.check_key(key) {
            Ok(_) => Ok(()),
            Err(not_until) => Err(Refused {
                what: what.to_owned(),
                limit: self.per_minute,
                retry_after: not_until.wait_time_from(DefaultClock::default().now()),
            }),
        }
    }
}

/// A request over its limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    /// Which limit, in words.
    pub what: String,
    /// Its rate per minute.
    pub limit: u32,
    /// How long until one more request is allowed.
    pub retry_after: Duration,
}

impl Refused {
    /// Whole seconds to wait, at least 1 (the `Retry-After` header).
    pub fn retry_after_secs(&self) -> u64 {
        self.retry_after.as_secs_f64().ceil().max(1.0) as u64
    }

    /// The API error: 429 `rate_limited`, with the headers' figures.
    pub fn error(&self) -> crate::error::ApiError {
        crate::error::ApiError::new(
            ErrorCode::RateLimited,
            format!(
                "{} is limited to {} a minute; try again in {} s",
                self.what,
                self.limit,
                self.retry_after_secs()
            ),
        )
        .with_rate_limit(self.limit, self.retry_after_secs())
    }
}

/// Every limit. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Limits(Arc<Inner>);

/// The nodes' Redis and the script that limits in it.
#[derive(Debug)]
struct Shared {
    redis: limelight_engine::bus::Redis,
    gcra: redis::Script,
}

#[derive(Debug)]
struct Inner {
    shared: Option<Shared>,
    rest: Vec<(Role, Limit<i64>)>,
    ws: Limit<i64>,
    login_user: Limit<String>,
    login_address: Limit<std::net::IpAddr>,
}

impl Limits {
    /// Limits at `rates`, shared through `redis` when there is one.
    pub fn new(rates: &Rates, redis: Option<limelight_engine::bus::Redis>) -> Self {
        Self(Arc::new(Inner {
            shared: redis.map(|redis| Shared {
                redis,
                gcra: redis::Script::new(GCRA),
            }),
            rest: rates
                .rest
                .iter()
                .map(|(role, n)| (*role, Limit::new("rest", *n)))
                .collect(),
            ws: Limit::new("ws", rates.ws),
            login_user: Limit::new("login-user", rates.login_per_user),
            login_address: Limit::new("login-address", rates.login_per_address),
        }))
    }

    /// One REST request of user `user` of role `role`.
    pub async fn rest(&self, user: i64, role: Role) -> Result<(), Refused> {
        match self.0.rest.iter().find(|(r, _)| *r == role) {
            Some((_, limit)) => {
                limit
                    .spend(&user, "a user's API requests", self.0.shared.as_ref())
                    .await
            }
            None => Ok(()),
        }
    }

    /// One WebSocket command of user `user`.
    pub async fn ws(&self, user: i64) -> Result<(), Refused> {
        self.0
            .ws
            .spend(&user, "a user's WebSocket commands", self.0.shared.as_ref())
            .await
    }

    /// One login attempt as `username` from `address`.
    pub async fn login(
        &self,
        username: &str,
        address: Option<std::net::IpAddr>,
    ) -> Result<(), Refused> {
        let shared = self.0.shared.as_ref();
        if let Some(address) = address {
            self.0
                .login_address
                .spend(&address, "login attempts from one address", shared)
                .await?;
        }
        self.0
            .login_user
            .spend(
                &username.to_lowercase(),
                "login attempts for one username",
                shared,
            )
            .await
    }
}

/// Whether a REST route is one a limit never refuses: emergency, blackout and
/// panic (a canvas's cue commands are let through here; the panic among them is
/// told apart by its handler), and the requests of an upload already created
/// (tus sends a big file as many chunks; creating the upload counts).
pub fn exempt(path: &str) -> bool {
    path == "/api/v1/panic"
        || path.starts_with("/api/v1/uploads/")
        || (path.starts_with("/api/v1/canvases/")
            && (path.ends_with("/blackout")
                || path.ends_with("/emergency")
                || path.ends_with("/cues")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rates(rest: u32) -> Rates {
        Rates {
            rest: [
                (Role::Admin, 0),
                (Role::Operator, rest),
                (Role::Marketing, rest),
                (Role::Attendee, rest),
            ],
            ws: 5,
            login_per_user: 3,
            login_per_address: 4,
        }
    }

    /// Run `f` to its end on a runtime of its own.
    fn block<T>(f: impl std::future::Future<Output = T>) -> T {
        match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(rt) => rt.block_on(f),
            Err(e) => unreachable!("a test runtime: {e}"),
        }
    }

    #[test]
    fn a_user_gets_a_minutes_burst_then_is_refused_with_a_wait() {
        block(a_minutes_burst());
    }

    async fn a_minutes_burst() {
        let limits = Limits::new(&rates(100), None);
        for _ in 0..100 {
            assert!(limits.rest(7, Role::Operator).await.is_ok());
        }
        let refused = limits.rest(7, Role::Operator).await;
        let Err(refused) = refused else {
            unreachable!("the 101st request passed")
        };
        assert_eq!(refused.limit, 100);
        // One request back every 0.6 s.
        assert!(refused.retry_after <= Duration::from_millis(600));
        assert_eq!(refused.retry_after_secs(), 1);
        // Another user has a budget of their own; 0 turns a role's limit off.
        assert!(limits.rest(8, Role::Operator).await.is_ok());
        for _ in 0..500 {
            assert!(limits.rest(1, Role::Admin).await.is_ok());
        }
    }

    #[test]
    fn logins_are_limited_per_username_and_per_address() {
        block(logins());
    }

    async fn logins() {
        let limits = Limits::new(&rates(100), None);
        let here = Some(std::net::IpAddr::from([10, 0, 0, 1]));
        for _ in 0..3 {
            assert!(limits.login("Ann", here).await.is_ok());
        }
        assert!(
            limits.login("ann", None).await.is_err(),
            "names are one user"
        );
        assert!(
            limits.login("carol", here).await.is_ok(),
            "the address's fourth"
        );
        assert!(
            limits.login("bob", here).await.is_err(),
            "the address has spent 4"
        );
        assert!(
            limits
                .login("bob", Some([10, 0, 0, 2].into()))
                .await
                .is_ok()
        );
    }

    #[test]
    fn emergency_blackout_and_panic_routes_are_exempt() {
        for path in [
            "/api/v1/panic",
            "/api/v1/canvases/3/blackout",
            "/api/v1/canvases/3/emergency",
            "/api/v1/canvases/3/cues",
        ] {
            assert!(exempt(path), "{path}");
        }
        assert!(exempt("/api/v1/uploads/9f0c"), "an upload's chunks");
        assert!(!exempt("/api/v1/uploads"), "creating one counts");
        assert!(!exempt("/api/v1/canvases/3/scene"));
        assert!(!exempt("/api/v1/canvases"));
    }
}

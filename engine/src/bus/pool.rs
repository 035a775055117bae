//! The nodes' shared Redis (`redis_url`): a bb8 pool of multiplexed
//! connections, made without connecting, so a node starts while Redis is down
//! and its users fall back to what the node can do alone.

use bb8_redis::RedisConnectionManager;
use std::time::Duration;

/// Longest one Redis call may take before the caller does without it.
pub const CALL_TIMEOUT: Duration = Duration::from_millis(250);

/// A pool of connections to the shared Redis. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Redis {
    pool: bb8::Pool<RedisConnectionManager>,
}

impl Redis {
    /// A pool for `url` (`redis://host[:port][/db]`); connects on first use.
    pub fn new(url: &str) -> Result<Self, String> {
        let manager = RedisConnectionManager::new(url).map_err(|e| e.to_string())?;
        let pool = bb8::Pool::builder()
            .max_size(8)
            .connection_timeout(CALL_TIMEOUT)
            .build_unchecked(manager);
        Ok(Self { pool })
    }

    /// Run `script` on `keys` and `args`, within [`CALL_TIMEOUT`].
    pub async fn eval<T: redis::FromRedisValue, A: redis::ToRedisArgs>(
        &self,
        script: &redis::Script,
        keys: &[&str],
        args: &[A],
    ) -> Result<T, String> {
        let call = async {
            let mut conn = self.pool.get().await.map_err(|e| e.to_string())?;
            let mut invocation = script.prepare_invoke();
            for key in keys {
                invocation.key(*key);
            }
            for arg in args {
                invocation.arg(arg);
            }
            invocation
                .invoke_async::<T>(&mut *conn)
                .await
                .map_err(|e| e.to_string())
        };
        tokio::time::timeout(CALL_TIMEOUT, call)
            .await
            .map_err(|_| "Redis did not answer in time".to_owned())?
    }

    /// Run one command, within [`CALL_TIMEOUT`].
    pub async fn query<T: redis::FromRedisValue>(&self, cmd: &redis::Cmd) -> Result<T, String> {
        let call = async {
            let mut conn = self.pool.get().await.map_err(|e| e.to_string())?;
            cmd.query_async::<T>(&mut *conn)
                .await
                .map_err(|e| e.to_string())
        };
        tokio::time::timeout(CALL_TIMEOUT, call)
            .await
            .map_err(|_| "Redis did not answer in time".to_owned())?
    }
}

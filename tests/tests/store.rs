//! Migrations on the backend under test: up, down, up again.

use anyhow::{Result, ensure};
use limelight_engine::{Direction, Store, migrate};
use limelight_tests::TestEnv;

#[actix_rt::test]
async fn migrations_run_up_down_up() -> Result<()> {
    let env = TestEnv::new().await?;
    migrate(&env.database_url, Direction::Up).await?;
    let store = Store::open(&env.database_url).await?;
    store.insert_scene("s", "{}", "api").await?;
    drop(store);
    migrate(&env.database_url, Direction::Down).await?;
    migrate(&env.database_url, Direction::Up).await?;
    let store = Store::open(&env.database_url).await?;
    ensure!(store.count_scenes().await? == 0, "down dropped the data");
    store.insert_scene("s", "{}", "api").await?;
    ensure!(store.count_scenes().await? == 1);
    Ok(())
}

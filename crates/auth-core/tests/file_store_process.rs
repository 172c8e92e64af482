//! FileStore across processes: the lease is an OS lock, so a process killed while
//! holding it releases it at once.
//!
//! The child is this test binary re-run on the ignored `child_holds_the_lease` test,
//! with the store directory in an environment variable.

use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use auth_core::{FileStore, StoreKey, TokenStore};

const DIR_VAR: &str = "AUTH_CORE_TEST_LEASE_DIR";

fn key() -> StoreKey {
    StoreKey::new("test", "production", "client", "seller")
}

/// Run only as the child of `lease_is_released_when_the_holding_process_is_killed`.
#[tokio::test]
#[ignore = "helper process for lease_is_released_when_the_holding_process_is_killed"]
async fn child_holds_the_lease() {
    let Ok(dir) = std::env::var(DIR_VAR) else {
        return;
    };
    let store = FileStore::new(dir);
    let _lease = store
        .lease(&key(), Duration::from_secs(3600), Duration::ZERO)
        .await
        .expect("child takes the lease");
    println!("leased");
    // Hold the lease until killed.
    std::future::pending::<()>().await;
}

#[tokio::test]
async fn lease_is_released_when_the_holding_process_is_killed() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--ignored",
            "--exact",
            "child_holds_the_lease",
            "--nocapture",
        ])
        .env(DIR_VAR, dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let leased = lines.any(|line| line.is_ok_and(|l| l.contains("leased")));
    assert!(leased, "the child never took the lease");

    let store = FileStore::new(dir.path());
    let busy = store
        .lease(&key(), Duration::from_secs(60), Duration::from_millis(50))
        .await;
    assert!(busy.is_err(), "the lease is held by the child");

    child.kill().unwrap();
    child.wait().unwrap();

    let lease = store
        .lease(&key(), Duration::from_secs(60), Duration::from_secs(5))
        .await
        .expect("the OS released the dead child's lock");
    store.release(lease).await.unwrap();
}

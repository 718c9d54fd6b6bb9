//! A real image registry for the tests: Debian's `docker-registry` (distribution 2.8) on a
//! free loopback port, plain HTTP, with its own config file and storage in a temp dir,
//! optionally behind htpasswd basic auth. Started ready (`GET /v2/` answers), stopped on drop.
//!
//! Without `/usr/bin/docker-registry` these tests fail and say how to get it (`scripts/test`
//! installs it).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Where Debian installs the registry.
pub const BINARY: &str = "/usr/bin/docker-registry";

/// How long a registry may take to answer after it starts.
const READY_TIMEOUT: Duration = Duration::from_secs(15);

/// A running registry, killed (and its storage removed) when dropped.
pub struct TestRegistry {
    /// `127.0.0.1:PORT`: the registry part of image references, and what to mark insecure.
    pub addr: String,
    child: Option<Child>,
    dir: tempfile::TempDir,
}

impl TestRegistry {
    /// A registry that lets anyone pull and push.
    pub fn start() -> TestRegistry {
        Self::spawn(None)
    }

    /// A registry that asks for HTTP basic auth and accepts only `user` / `password`.
    pub fn start_with_auth(user: &str, password: &str) -> TestRegistry {
        Self::spawn(Some((user, password)))
    }

    /// Stops it now (its address then refuses connections); the storage stays until drop.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// What it logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default()
    }

    /// Its storage root.
    pub fn storage(&self) -> PathBuf {
        self.dir.path().join("storage")
    }

    fn spawn(auth: Option<(&str, &str)>) -> TestRegistry {
        assert!(
            Path::new(BINARY).exists(),
            "the registry tests need Debian's docker-registry ({BINARY}): run `scripts/test`, which installs it, or `apt-get install docker-registry`"
        );
        let mut dir = tempfile::tempdir().unwrap();
        let mut config = String::new();
        if let Some((user, password)) = auth {
            let hash = bcrypt::hash(password, 4).unwrap();
            std::fs::write(dir.path().join("htpasswd"), format!("{user}:{hash}\n")).unwrap();
        }
        // A port picked by the OS is free when we ask, and may be taken before the registry
        // binds it: try a few.
        let mut last_log = String::new();
        for _ in 0..5 {
            let port = TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            let addr = format!("127.0.0.1:{port}");
            config.clear();
            config.push_str(&format!(
                "version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: {addr}\n  secret: leoflow-test-registry\n",
                dir.path().join("storage").display()
            ));
            if auth.is_some() {
                config.push_str(&format!(
                    "auth:\n  htpasswd:\n    realm: leoflow-test\n    path: {}\n",
                    dir.path().join("htpasswd").display()
                ));
            }
            let config_path = dir.path().join("config.yml");
            std::fs::write(&config_path, &config).unwrap();
            let log = std::fs::File::create(dir.path().join("registry.log")).unwrap();
            let child = Command::new(BINARY)
                .arg("serve")
                .arg(&config_path)
                .env_clear()
                .stdin(Stdio::null())
                .stdout(log.try_clone().unwrap())
                .stderr(log)
                .spawn()
                .unwrap_or_else(|e| panic!("starting {BINARY}: {e}"));
            let mut reg = TestRegistry {
                addr,
                child: Some(child),
                dir,
            };
            if reg.wait_ready() {
                return reg;
            }
            last_log = reg.log();
            reg.stop();
            dir = reg.take_dir();
        }
        panic!("{BINARY} did not start answering on loopback; its log:\n{last_log}");
    }

    /// Waits (bounded) until `GET /v2/` answers; false if the process died or never answered.
    fn wait_ready(&mut self) -> bool {
        let deadline = Instant::now() + READY_TIMEOUT;
        while Instant::now() < deadline {
            if let Some(c) = self.child.as_mut()
                && let Ok(Some(_)) = c.try_wait()
            {
                return false;
            }
            if let Some(status) = v2_status(&self.addr)
                && (status == 200 || status == 401)
            {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    /// Moves the temp dir out, leaving an empty one (for a retry on another port).
    fn take_dir(&mut self) -> tempfile::TempDir {
        std::mem::replace(&mut self.dir, tempfile::tempdir().unwrap())
    }
}

impl Drop for TestRegistry {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The status of `GET /v2/` at `addr`, if it answers within a second.
pub fn v2_status(addr: &str) -> Option<u16> {
    let mut s = TcpStream::connect_timeout(&addr.parse().ok()?, Duration::from_secs(1)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(1))).ok()?;
    s.set_write_timeout(Some(Duration::from_secs(1))).ok()?;
    write!(s, "GET /v2/ HTTP/1.0\r\nHost: {addr}\r\n\r\n").ok()?;
    let mut head = [0u8; 32];
    let n = s.read(&mut head).ok()?;
    let line = String::from_utf8_lossy(&head[..n]);
    line.split_whitespace().nth(1)?.parse().ok()
}

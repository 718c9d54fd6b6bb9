//! A small synchronous harness over WebDriver for the browser tests: one `chromedriver` per
//! [`Browser`] (a free port, killed on drop), a headless Chromium session with a fresh
//! profile, and helpers that address elements by `data-testid` and wait with a deadline.
//!
//! Waits poll a condition every 50 ms until it holds or the deadline (10 s unless told) runs
//! out; nothing synchronises on a fixed sleep. A failing wait saves a screenshot next to the
//! others (`target/ui-screenshots/<name>-FAILED.png`) and panics with what it waited for.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

/// How long a wait polls before failing.
pub const WAIT: Duration = Duration::from_secs(10);

/// The chromedriver and chromium binaries, or a panic telling how to install them.
fn binaries() -> (PathBuf, PathBuf) {
    let find = |names: &[&str]| -> Option<PathBuf> {
        let path = std::env::var_os("PATH").unwrap_or_default();
        names.iter().find_map(|n| {
            std::env::split_paths(&path)
                .chain([PathBuf::from("/usr/bin")])
                .map(|d| d.join(n))
                .find(|p| p.is_file())
        })
    };
    match (
        find(&["chromedriver"]),
        find(&["chromium", "chromium-browser"]),
    ) {
        (Some(d), Some(c)) => (d, c),
        (d, c) => panic!(
            "the browser tests need Chromium and its WebDriver (missing: {}{}); run `scripts/test`, \
             which installs Debian's `chromium` and `chromium-driver`, or `apt-get install -y \
             chromium chromium-driver`",
            if d.is_none() { "chromedriver " } else { "" },
            if c.is_none() { "chromium" } else { "" },
        ),
    }
}

/// Where screenshots go: `target/ui-screenshots/`.
pub fn screenshot_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/ui-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Starts chromedriver on a port of its choosing (`--port=0`) and reads the port it prints.
fn start_driver(driver: &PathBuf) -> (Child, u16) {
    use std::io::BufRead;
    let mut child = Command::new(driver)
        .arg("--port=0")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("starting {}: {e}", driver.display()));
    let out = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut seen = String::new();
        for line in std::io::BufReader::new(out).lines().map_while(Result::ok) {
            let port = line
                .split_once("started successfully on port ")
                .and_then(|(_, p)| p.trim_end_matches('.').parse::<u16>().ok());
            if let Some(p) = port {
                let _ = tx.send(Ok(p));
            } else {
                seen.push_str(&line);
                seen.push('\n');
            }
        }
        let _ = tx.send(Err(seen));
    });
    match rx.recv_timeout(WAIT) {
        Ok(Ok(port)) => (child, port),
        other => {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromedriver did not start: {other:?}");
        }
    }
}

/// One headless Chromium session (and its chromedriver), closed on drop.
pub struct Browser {
    rt: tokio::runtime::Runtime,
    client: Option<Client>,
    driver: Child,
    _profile: tempfile::TempDir,
    /// The server's base URL (`http://127.0.0.1:PORT`).
    pub base: String,
    /// Prefix of this test's screenshot names.
    pub name: String,
    /// The last WebDriver error a retried action saw (shown when its wait fails).
    last_error: std::cell::RefCell<String>,
}

impl Browser {
    /// Opens Chromium at `width`×`height` for the server at `base`.
    pub fn open(base: &str, name: &str, width: u32, height: u32) -> Browser {
        let (driver_bin, chromium) = binaries();
        let (driver, port) = start_driver(&driver_bin);
        let profile = tempfile::tempdir().unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let caps = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    format!("--window-size={width},{height}"),
                    "--disable-quic", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--disable-extensions",
                    "--hide-scrollbars", "--force-device-scale-factor=1",
                    format!("--user-data-dir={}", profile.path().display()),
                ],
            },
        });
        let caps = match caps {
            Value::Object(m) => m,
            _ => unreachable!(),
        };
        let client = rt.block_on(async {
            ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
                .capabilities(caps)
                .connect(&format!("http://127.0.0.1:{port}"))
                .await
        });
        let client = match client {
            Ok(c) => c,
            Err(e) => {
                let mut driver = driver;
                let _ = driver.kill();
                let _ = driver.wait();
                panic!("could not open a Chromium session through chromedriver: {e}");
            }
        };
        let b = Browser {
            rt,
            client: Some(client),
            driver,
            _profile: profile,
            base: base.trim_end_matches('/').to_string(),
            name: name.to_string(),
            last_error: Default::default(),
        };
        b.resize(width, height);
        b
    }

    fn c(&self) -> &Client {
        self.client.as_ref().unwrap()
    }

    /// Loads `path` (relative to the server) as a fresh page load.
    pub fn goto(&self, path: &str) {
        let url = format!("{}{path}", self.base);
        self.rt
            .block_on(self.c().goto(&url))
            .unwrap_or_else(|e| panic!("goto {url}: {e}"));
    }

    /// Reloads the page (a real browser reload, not the app's router).
    pub fn reload(&self) {
        self.rt.block_on(self.c().refresh()).unwrap();
    }

    /// Resizes the window so the page's viewport is `width`×`height` CSS pixels.
    pub fn resize(&self, width: u32, height: u32) {
        let (mut w, mut h) = (width, height);
        for _ in 0..3 {
            self.rt.block_on(self.c().set_window_size(w, h)).unwrap();
            let v = self.js("return [innerWidth, innerHeight]", vec![]);
            let (iw, ih) = (v[0].as_u64().unwrap_or(0), v[1].as_u64().unwrap_or(0));
            if (iw, ih) == (width as u64, height as u64) {
                return;
            }
            w = (w as u64 + width as u64).saturating_sub(iw) as u32;
            h = (h as u64 + height as u64).saturating_sub(ih) as u32;
        }
    }

    /// Runs `script` (a function body; `arguments[i]` are `args`) and returns its value.
    pub fn js(&self, script: &str, args: Vec<Value>) -> Value {
        self.rt
            .block_on(self.c().execute(script, args))
            .unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
    }

    /// The path + query of the current page.
    pub fn location(&self) -> String {
        self.js("return location.pathname + location.search", vec![])
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// Polls `cond` until it returns `Some` or `timeout` passes; `what` names the wait.
    pub fn wait_for<T>(
        &self,
        what: &str,
        timeout: Duration,
        cond: impl Fn(&Self) -> Option<T>,
    ) -> T {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(v) = cond(self) {
                return v;
            }
            if Instant::now() > deadline {
                self.shot("FAILED");
                let overlay = self.text_of("error-overlay");
                let main = self.js(
                    "const m = document.querySelector('main'); return (m ? (m.innerText || m.outerHTML).slice(0, 600) : document.body.innerText.slice(0, 600)) + ' | loaded: ' + performance.getEntriesByType('resource').map(e => e.name.replace(location.origin, '')).join(' ')",
                    vec![],
                );
                panic!(
                    "waited {timeout:?} for {what} at {}; last WebDriver error: {:?}; error overlay: {overlay:?}; screenshot: {}; page text: {main}",
                    self.location(),
                    self.last_error.borrow(),
                    screenshot_dir()
                        .join(format!("{}-FAILED.png", self.name))
                        .display(),
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Polls a JavaScript expression (a function body returning a value) until it is truthy;
    /// returns that value.
    pub fn wait_js(&self, what: &str, script: &str, args: Vec<Value>) -> Value {
        self.wait_for(what, WAIT, |b| {
            let v = b.js(script, args.clone());
            let truthy = match &v {
                Value::Null => false,
                Value::Bool(x) => *x,
                Value::String(s) => !s.is_empty(),
                Value::Number(n) => n.as_f64() != Some(0.0),
                _ => true,
            };
            truthy.then_some(v)
        })
    }

    /// Waits until an element with this `data-testid` is in the document and visible.
    pub fn wait_testid(&self, testid: &str) {
        self.wait_js(
            &format!("[data-testid=\"{testid}\"] to be visible"),
            "const e = document.querySelector(`[data-testid=\"${CSS.escape(arguments[0])}\"]`);
             return !!e && !!(e.offsetWidth || e.offsetHeight || e.getClientRects().length);",
            vec![json!(testid)],
        );
    }

    /// Waits until no element with this `data-testid` is in the document.
    pub fn wait_gone(&self, testid: &str) {
        self.wait_js(
            &format!("[data-testid=\"{testid}\"] to disappear"),
            "return !document.querySelector(`[data-testid=\"${CSS.escape(arguments[0])}\"]`);",
            vec![json!(testid)],
        );
    }

    /// The text of the element with this `data-testid`, if any.
    pub fn text_of(&self, testid: &str) -> Option<String> {
        let v = self.js(
            "const e = document.querySelector(`[data-testid=\"${CSS.escape(arguments[0])}\"]`);
             return e ? e.innerText : null;",
            vec![json!(testid)],
        );
        v.as_str().map(str::to_string)
    }

    /// An attribute of the element with this `data-testid`, if both exist.
    pub fn attr_of(&self, testid: &str, attr: &str) -> Option<String> {
        let v = self.js(
            "const e = document.querySelector(`[data-testid=\"${CSS.escape(arguments[0])}\"]`);
             return e ? e.getAttribute(arguments[1]) : null;",
            vec![json!(testid), json!(attr)],
        );
        v.as_str().map(str::to_string)
    }

    /// Waits until the element's text contains `needle`; returns the text.
    pub fn wait_text(&self, testid: &str, needle: &str) -> String {
        self.wait_for(
            &format!("[data-testid=\"{testid}\"] to contain {needle:?}"),
            WAIT,
            |b| b.text_of(testid).filter(|t| t.contains(needle)),
        )
    }

    /// Waits until the element's attribute equals `value`.
    pub fn wait_attr(&self, testid: &str, attr: &str, value: &str) {
        self.wait_for(
            &format!("[data-testid=\"{testid}\"] {attr}={value:?}"),
            WAIT,
            |b| (b.attr_of(testid, attr).as_deref() == Some(value)).then_some(()),
        )
    }

    fn css(testid: &str) -> String {
        format!(
            "[data-testid=\"{}\"]",
            testid.replace('\\', "\\\\").replace('"', "\\\"")
        )
    }

    /// Runs one WebDriver action; an error is remembered for the failure message.
    fn attempt<T>(
        &self,
        f: impl std::future::Future<Output = Result<T, fantoccini::error::CmdError>>,
    ) -> Option<T> {
        match self.rt.block_on(f) {
            Ok(v) => Some(v),
            Err(e) => {
                *self.last_error.borrow_mut() = e.to_string();
                None
            }
        }
    }

    /// Clicks the element with this `data-testid` as a user would (WebDriver element click:
    /// scrolled into view, must be the topmost element there), retrying while it is missing,
    /// stale or covered.
    pub fn click(&self, testid: &str) {
        self.click_css(&Self::css(testid));
    }

    /// [`Browser::click`] on the first element matching a CSS selector.
    pub fn click_css(&self, css: &str) {
        let css = css.to_string();
        self.wait_for(&format!("{css} to be clickable"), WAIT, |b| {
            b.attempt(async {
                let e = b.c().find(Locator::Css(&css)).await?;
                e.click().await
            })
        });
    }

    /// Replaces the value of the input with this `data-testid` by typing `text`.
    pub fn fill(&self, testid: &str, text: &str) {
        let css = Self::css(testid);
        self.wait_for(&format!("{css} to take input"), WAIT, |b| {
            b.attempt(async {
                let e = b.c().find(Locator::Css(&css)).await?;
                e.clear().await?;
                e.send_keys(text).await
            })
        });
    }

    /// Sends keys to whatever has focus (e.g. "\u{E004}" is Tab, "\u{E007}" Enter).
    pub fn keys(&self, keys: &str) {
        self.rt.block_on(async {
            let e = self.c().active_element().await.unwrap();
            e.send_keys(keys).await.unwrap();
        });
    }

    /// Saves a PNG of the viewport as `target/ui-screenshots/<name>-<label>.png`.
    pub fn shot(&self, label: &str) -> PathBuf {
        let path = screenshot_dir().join(format!("{}-{label}.png", self.name));
        if let Ok(png) = self.rt.block_on(self.c().screenshot()) {
            std::fs::write(&path, png).unwrap();
        }
        path
    }

    /// Fails when the app shows its uncaught-error overlay.
    pub fn assert_no_error_overlay(&self) {
        if let Some(t) = self.text_of("error-overlay") {
            self.shot("FAILED");
            panic!("the UI shows an uncaught error: {t}");
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if let Some(c) = self.client.take() {
            let _ = self
                .rt
                .block_on(async { tokio::time::timeout(Duration::from_secs(5), c.close()).await });
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

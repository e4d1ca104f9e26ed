//! Who may use the kiosk bridge over HTTP, and the codes that prove it.
//!
//! Inside the Tauri app the UI speaks IPC and needs none of this. Over HTTP (a browser as the kiosk screen, a
//! remote display, tests) a caller first pairs: it sends the pairing code that `vouch serve` prints on its
//! console and keeps in `<data dir>/bridge-pairing-code` (0600), and gets a session cookie (`HttpOnly`,
//! `SameSite=Strict`). Nothing answers a local process or a web page that has not paired, and no request
//! hands the code out. First-run setup over HTTP also needs a one-time setup code, printed and kept the same
//! way until the admin PIN is set. Camera preview tokens are issued per `camera_status` call and expire.

use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use rand::Rng;
use subtle::ConstantTimeEq;

use super::sessions::ExpiringTokens;

pub const PAIRING_CODE_FILE: &str = "bridge-pairing-code";
pub const SETUP_CODE_FILE: &str = "setup-code";
pub const BRIDGE_COOKIE: &str = "vouch_bridge";
/// A paired screen stays paired while it is used; a day without a call ends it.
pub const BRIDGE_IDLE: Duration = Duration::from_secs(24 * 3600);
/// Wrong pairing codes before the code is replaced (and written to its file again).
const WRONG_CODES_BEFORE_NEW: u32 = 10;
/// A preview token opens a stream only this soon after `camera_status` gave it out.
pub const PREVIEW_TOKEN_TTL: Duration = Duration::from_secs(60);
/// Letters and digits a person does not confuse (no 0/O, 1/I/L).
const CODE_ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";

/// Which camera a preview token is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PreviewCamera {
    Kiosk,
    Document,
}

pub struct Bridge {
    data_dir: PathBuf,
    pairing_code: Mutex<String>,
    wrong_codes: Mutex<u32>,
    setup_code: Mutex<Option<String>>,
    sessions: ExpiringTokens<()>,
    previews: ExpiringTokens<PreviewCamera>,
}

/// `XXXXX-XXXXX`: 10 symbols of 31, about 50 bits, typed by a person from the console.
fn new_code() -> String {
    let mut rng = rand::rngs::OsRng;
    let symbols: String = (0..10)
        .map(|_| CODE_ALPHABET.get(rng.gen_range(0..CODE_ALPHABET.len())).map_or('2', |b| char::from(*b)))
        .collect();
    format!("{}-{}", symbols.get(..5).unwrap_or_default(), symbols.get(5..).unwrap_or_default())
}

/// Codes compare without their dash, spaces or case, in constant time.
fn normalise(code: &str) -> Vec<u8> {
    code.bytes().filter(|b| b.is_ascii_alphanumeric()).map(|b| b.to_ascii_uppercase()).collect()
}

fn codes_match(given: &str, expected: &str) -> bool {
    let (given, expected) = (normalise(given), normalise(expected));
    given.len() == expected.len() && bool::from(given.ct_eq(&expected))
}

/// Writes `code` to `path`, readable by its owner only (as the data key).
fn write_private(path: &Path, code: &str) -> std::io::Result<()> {
    use std::io::Write;
    let _ = std::fs::remove_file(path);
    let mut file = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    file.write_all(format!("{code}\n").as_bytes())?;
    file.sync_all()
}

impl Bridge {
    /// A new pairing code for this run, and a setup code while the admin PIN is not set.
    pub fn start(data_dir: &Path, needs_setup: bool) -> std::io::Result<Bridge> {
        let bridge = Bridge {
            data_dir: data_dir.to_path_buf(),
            pairing_code: Mutex::new(new_code()),
            wrong_codes: Mutex::new(0),
            setup_code: Mutex::new(needs_setup.then(new_code)),
            sessions: ExpiringTokens::idle(BRIDGE_IDLE),
            previews: ExpiringTokens::fixed(PREVIEW_TOKEN_TTL),
        };
        write_private(&bridge.data_dir.join(PAIRING_CODE_FILE), &bridge.pairing_code())?;
        let setup_path = bridge.data_dir.join(SETUP_CODE_FILE);
        match bridge.setup_code() {
            Some(code) => write_private(&setup_path, &code)?,
            None => {
                let _ = std::fs::remove_file(setup_path);
            }
        }
        Ok(bridge)
    }

    pub fn pairing_code(&self) -> String {
        self.pairing_code.lock().map(|c| c.clone()).unwrap_or_default()
    }

    pub fn setup_code(&self) -> Option<String> {
        self.setup_code.lock().ok().and_then(|c| c.clone())
    }

    pub fn pairing_code_file(&self) -> PathBuf {
        self.data_dir.join(PAIRING_CODE_FILE)
    }

    /// Exchanges the pairing code for a bridge session token (the cookie's value). Ten wrong codes replace
    /// the code, so guessing it over the network gets nowhere.
    pub fn pair(&self, code: &str) -> Option<String> {
        let expected = self.pairing_code();
        if !expected.is_empty() && codes_match(code, &expected) {
            return Some(self.sessions.issue(()));
        }
        let Ok(mut wrong) = self.wrong_codes.lock() else { return None };
        *wrong += 1;
        if *wrong >= WRONG_CODES_BEFORE_NEW {
            *wrong = 0;
            let code = new_code();
            let path = self.pairing_code_file();
            if let Err(e) = write_private(&path, &code) {
                tracing::error!(error = %e, "could not write the new pairing code");
            }
            if let Ok(mut current) = self.pairing_code.lock() {
                *current = code;
            }
            tracing::warn!(file = %path.display(), "{WRONG_CODES_BEFORE_NEW} wrong pairing codes: the code was replaced");
        }
        None
    }

    /// Whether a bridge session token is live; marks it used.
    pub fn is_paired(&self, token: &str) -> bool {
        self.sessions.get(token).is_some()
    }

    /// Checks the first-run setup code (over HTTP only).
    pub fn setup_code_ok(&self, given: Option<&str>) -> bool {
        match (self.setup_code(), given) {
            (Some(expected), Some(given)) => codes_match(given, &expected),
            _ => false,
        }
    }

    /// The admin PIN is set: the setup code is spent.
    pub fn setup_done(&self) {
        if let Ok(mut code) = self.setup_code.lock() {
            *code = None;
        }
        let _ = std::fs::remove_file(self.data_dir.join(SETUP_CODE_FILE));
    }

    /// A fresh preview token for one camera, valid for [`PREVIEW_TOKEN_TTL`] to open a stream.
    pub fn issue_preview_token(&self, camera: PreviewCamera) -> String {
        self.previews.issue(camera)
    }

    pub fn preview_camera(&self, token: &str) -> Option<PreviewCamera> {
        self.previews.get(token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_typed_loosely_but_compared_exactly() {
        let code = new_code();
        assert_eq!(code.len(), 11);
        assert!(codes_match(&code.to_lowercase().replace('-', " "), &code));
        assert!(!codes_match("", &code));
        assert!(!codes_match(&code[..10], &code));
        assert_ne!(new_code(), code);
    }

    #[test]
    fn ten_wrong_codes_replace_the_code() {
        let dir = tempfile::tempdir().unwrap();
        let bridge = Bridge::start(dir.path(), true).unwrap();
        let first = bridge.pairing_code();
        assert_eq!(std::fs::read_to_string(dir.path().join(PAIRING_CODE_FILE)).ok(), Some(format!("{first}\n")));
        for _ in 0..10 {
            assert!(bridge.pair("WRONG-CODE0").is_none());
        }
        assert_ne!(bridge.pairing_code(), first);
        assert!(bridge.pair(&first).is_none(), "the old code is dead");
        let token = bridge.pair(&bridge.pairing_code()).unwrap();
        assert!(bridge.is_paired(&token));
        assert!(!bridge.is_paired("forged"));
        assert!(bridge.setup_code_ok(bridge.setup_code().as_deref()));
        bridge.setup_done();
        assert!(!bridge.setup_code_ok(Some("anything")));
        assert!(!dir.path().join(SETUP_CODE_FILE).exists());
    }
}

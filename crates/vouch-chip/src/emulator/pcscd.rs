//! The real pcscd for tests and benchmarks of the emulator: started in the foreground and stopped when the
//! guard drops. A pcscd already running with the vpcd reader (a developer's) is used and left alone.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::transport::{CardTransport, Pcsc};

pub struct Pcscd {
    child: Option<Child>,
    /// The vpcd reader the emulator's default port feeds.
    pub reader: String,
}

fn virtual_reader() -> Option<String> {
    let readers = Pcsc::establish().ok()?.readers().ok()?;
    // vpcd's first slot is the one listening on port 35963.
    readers.into_iter().map(|r| r.name).find(|n| n.contains("Virtual PCD") && n.ends_with("00 00"))
}

impl Pcscd {
    /// `None` when pcscd or the vpcd driver is not installed (Debian: `pcscd`, `vsmartcard-vpcd`).
    pub fn start() -> Option<Pcscd> {
        if let Some(reader) = virtual_reader() {
            return Some(Pcscd { child: None, reader });
        }
        // Debian puts it in /usr/sbin, which a non-root PATH may lack.
        let binary = if std::path::Path::new("/usr/sbin/pcscd").exists() { "/usr/sbin/pcscd" } else { "pcscd" };
        let child = Command::new(binary)
            .args(["--foreground"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let mut guard = Pcscd { child: Some(child), reader: String::new() };
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Some(reader) = virtual_reader() {
                guard.reader = reader;
                return Some(guard);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        None
    }
}

impl Drop for Pcscd {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

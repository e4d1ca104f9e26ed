//! The card side of the vsmartcard vpcd protocol: the `vpcd` pcscd driver listens on 127.0.0.1:35963 and a
//! card connects to it. Each message is a 2-byte big-endian length and a payload; a 1-byte payload is a control
//! code (0 power off, 1 power on, 2 reset, 4 send the ATR), anything longer an APDU to answer. Closing the
//! connection is taking the card off the reader.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::chip::EmulatedChip;

pub const DEFAULT_PORT: u16 = 35963;
const POLL: Duration = Duration::from_millis(50);

/// Controls for a running emulator, shared with its thread.
#[derive(Default)]
pub struct Controls {
    stop: AtomicBool,
    present: AtomicBool,
    /// Take the card off after this many more APDUs (0: never): a lift-off in the middle of a read.
    remove_after: AtomicUsize,
    apdus: AtomicUsize,
    connected: AtomicBool,
}

impl Controls {
    pub fn apdus(&self) -> usize {
        self.apdus.load(Ordering::SeqCst)
    }
    pub fn connected(&self) -> bool {
        self.connected.load(Ordering::SeqCst)
    }
}

/// An emulator serving one chip on a vpcd slot until stopped; the card can be removed and put back.
pub struct Emulator {
    controls: Arc<Controls>,
    chip: Arc<Mutex<EmulatedChip>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Emulator {
    pub fn start(chip: EmulatedChip, port: u16) -> Emulator {
        let controls = Arc::new(Controls::default());
        controls.present.store(true, Ordering::SeqCst);
        let chip = Arc::new(Mutex::new(chip));
        let (c, ch) = (controls.clone(), chip.clone());
        let thread = std::thread::spawn(move || run(&c, &ch, port));
        Emulator { controls, chip, thread: Some(thread) }
    }

    pub fn controls(&self) -> &Controls {
        &self.controls
    }

    /// Swaps the chip (another passport) while the card is off the reader.
    pub fn replace_chip(&self, chip: EmulatedChip) {
        if let Ok(mut current) = self.chip.lock() {
            *current = chip;
        }
    }

    pub fn remove(&self) {
        self.controls.present.store(false, Ordering::SeqCst);
    }

    pub fn insert(&self) {
        self.controls.present.store(true, Ordering::SeqCst);
    }

    pub fn remove_after(&self, apdus: usize) {
        self.controls.remove_after.store(apdus, Ordering::SeqCst);
    }

    /// Waits until vpcd has the card (or `timeout` passes).
    pub fn wait_connected(&self, timeout: Duration) -> bool {
        let deadline = std::time::Instant::now() + timeout;
        while std::time::Instant::now() < deadline {
            if self.controls.connected() {
                return true;
            }
            std::thread::sleep(POLL);
        }
        false
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.controls.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn run(controls: &Controls, chip: &Mutex<EmulatedChip>, port: u16) {
    while !controls.stop.load(Ordering::SeqCst) {
        if !controls.present.load(Ordering::SeqCst) {
            std::thread::sleep(POLL);
            continue;
        }
        match TcpStream::connect(("127.0.0.1", port)) {
            Ok(stream) => {
                controls.connected.store(true, Ordering::SeqCst);
                if let Ok(mut c) = chip.lock() {
                    c.reset();
                }
                let _ = serve(stream, controls, chip);
                controls.connected.store(false, Ordering::SeqCst);
            }
            // vpcd is not listening yet (pcscd starting): try again.
            Err(_) => std::thread::sleep(POLL * 4),
        }
    }
}

fn read_exact_polling(stream: &mut TcpStream, buf: &mut [u8], controls: &Controls) -> std::io::Result<bool> {
    let mut filled = 0;
    while filled < buf.len() {
        if controls.stop.load(Ordering::SeqCst) || !controls.present.load(Ordering::SeqCst) {
            return Ok(false);
        }
        // vpcd writes the length and the payload separately; acknowledging at once stops its Nagle delay from
        // meeting our delayed ACK (40 ms an APDU otherwise).
        quickack(stream);
        match stream.read(buf.get_mut(filled..).unwrap_or(&mut [])) {
            Ok(0) => return Ok(false),
            Ok(n) => filled += n,
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(true)
}

#[cfg(target_os = "linux")]
fn quickack(stream: &TcpStream) {
    let _ = socket2::SockRef::from(stream).set_quickack(true);
}

#[cfg(not(target_os = "linux"))]
fn quickack(_: &TcpStream) {}

fn send(stream: &mut TcpStream, payload: &[u8]) -> std::io::Result<()> {
    let len = u16::try_from(payload.len()).map_err(|_| std::io::Error::other("payload over 64 KB"))?;
    let mut msg = len.to_be_bytes().to_vec();
    msg.extend_from_slice(payload);
    stream.write_all(&msg)
}

fn serve(mut stream: TcpStream, controls: &Controls, chip: &Mutex<EmulatedChip>) -> std::io::Result<()> {
    stream.set_read_timeout(Some(POLL))?;
    stream.set_nodelay(true)?;
    loop {
        let mut len = [0u8; 2];
        if !read_exact_polling(&mut stream, &mut len, controls)? {
            return Ok(());
        }
        let mut payload = vec![0u8; usize::from(u16::from_be_bytes(len))];
        if !read_exact_polling(&mut stream, &mut payload, controls)? {
            return Ok(());
        }
        let mut chip = chip.lock().map_err(|_| std::io::Error::other("chip lock poisoned"))?;
        match payload.as_slice() {
            [0] | [1] | [2] => chip.reset(),
            [4] => send(&mut stream, &chip.atr())?,
            [_] => {}
            apdu => {
                let answer = chip.process(apdu);
                controls.apdus.fetch_add(1, Ordering::SeqCst);
                let left = controls.remove_after.load(Ordering::SeqCst);
                if left == 1 {
                    // Lift-off: the answer never arrives.
                    controls.remove_after.store(0, Ordering::SeqCst);
                    controls.present.store(false, Ordering::SeqCst);
                    return Ok(());
                }
                if left > 1 {
                    controls.remove_after.store(left - 1, Ordering::SeqCst);
                }
                send(&mut stream, &answer)?;
            }
        }
    }
}

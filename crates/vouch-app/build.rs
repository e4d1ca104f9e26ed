//! The proof-of-identity PDF embeds DejaVu (Debian's `fonts-dejavu-core`, which `scripts/setup` installs): the
//! font files are compiled in, so a kiosk prints every name whether or not it has fonts installed.
//! `VOUCH_FONT_DIR` names another folder holding the same three files.

use std::path::PathBuf;

const FILES: [&str; 3] = ["DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSansMono.ttf"];

fn main() {
    println!("cargo:rerun-if-env-changed=VOUCH_FONT_DIR");
    let dir = std::env::var_os("VOUCH_FONT_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/share/fonts/truetype/dejavu"));
    for file in FILES {
        let path = dir.join(file);
        if !path.is_file() {
            eprintln!(
                "error: {} is missing: install Debian's fonts-dejavu-core (scripts/setup does) or set VOUCH_FONT_DIR",
                path.display()
            );
            std::process::exit(1);
        }
        println!("cargo:rerun-if-changed={}", path.display());
    }
    println!("cargo:rustc-env=VOUCH_FONT_DIR={}", dir.display());
}

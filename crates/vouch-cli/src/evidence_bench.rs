//! `vouch bench --evidence N`: storing and reading evidence blobs (sealed with the data key) in the data
//! directory and, with `--blobs s3://...`, in that object storage, side by side in one run.

use std::time::{Duration, Instant};

use anyhow::Context;
use rand::RngCore;
use vouch_store::{BlobLocation, BlobStore, DataKey};

struct Timings {
    put: Vec<Duration>,
    get: Vec<Duration>,
    wall_put: Duration,
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(index).copied().unwrap_or_default()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Puts `count` distinct blobs of `size` random bytes one after another, reads each back, then deletes them.
fn run_on(location: &BlobLocation, count: usize, size: usize) -> anyhow::Result<Timings> {
    let dir = tempfile::tempdir()?;
    let mut key = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut key);
    let blobs = BlobStore::open_at(location, dir.path(), DataKey::from_bytes(&key)?)
        .with_context(|| format!("opening {location}"))?;
    blobs.set_fresh_grace(Duration::ZERO);
    let mut payload = vec![0u8; size];
    let (mut put, mut get, mut names) = (Vec::new(), Vec::new(), Vec::new());
    let started = Instant::now();
    for _ in 0..count {
        rand::thread_rng().fill_bytes(&mut payload);
        let at = Instant::now();
        names.push(blobs.put(&payload)?);
        put.push(at.elapsed());
    }
    let wall_put = started.elapsed();
    for name in &names {
        let at = Instant::now();
        let read = blobs.get(name)?;
        get.push(at.elapsed());
        anyhow::ensure!(read.len() == size, "blob {name} came back with {} bytes", read.len());
    }
    for name in &names {
        blobs.remove(name)?;
    }
    put.sort();
    get.sort();
    Ok(Timings { put, get, wall_put })
}

pub fn run(count: usize, size_kb: usize, object_storage: &BlobLocation) -> anyhow::Result<()> {
    anyhow::ensure!(count > 0 && size_kb > 0, "--evidence and --evidence-kb must be positive");
    let size = size_kb * 1024;
    let mut places = vec![("files in the data directory (fsync'd)".to_string(), BlobLocation::DataDir)];
    if let BlobLocation::S3(at) = object_storage {
        places.push((format!("object storage {at}"), object_storage.clone()));
    }
    println!(
        "Evidence blobs of {size_kb} KB, {count} stored one after another, then read back (sealed with AES-256-GCM):"
    );
    let width = places.iter().map(|(name, _)| name.len()).max().unwrap_or(5);
    println!("{:<width$} {:>9} {:>9} {:>9} {:>9} {:>8}", "where", "put p50", "put p99", "get p50", "get p99", "puts/s");
    for (name, location) in places {
        let t = run_on(&location, count, size)?;
        println!(
            "{:<width$} {:>6.2} ms {:>6.2} ms {:>6.2} ms {:>6.2} ms {:>8.0}",
            name,
            ms(percentile(&t.put, 0.5)),
            ms(percentile(&t.put, 0.99)),
            ms(percentile(&t.get, 0.5)),
            ms(percentile(&t.get, 0.99)),
            count as f64 / t.wall_put.as_secs_f64()
        );
    }
    Ok(())
}

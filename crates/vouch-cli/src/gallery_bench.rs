//! `vouch faces gallery-bench`: 1:N search over synthetic unit vectors (512 values, as the face engine's
//! templates), the gallery's int8 scan with f32 re-ranking beside a plain f32 scan of the same vectors in the
//! same run: enrolment rate, memory per template, latency p50/p99, and recall@1 and @10 against the f32 answer.

use std::time::Instant;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use vouch_gallery::sketch::SketchParams;
use vouch_gallery::{dot, Gallery, Hit};

const DIM: usize = 512;

fn unit(rng: &mut StdRng) -> Vec<f32> {
    let v: Vec<f32> = (0..DIM).map(|_| (0..4).map(|_| rng.gen_range(-1.0f32..1.0)).sum()).collect();
    let n = dot(&v, &v).sqrt();
    v.iter().map(|x| x / n).collect()
}

/// Another "photo" of the same face: the template moved by noise, cosine about 0.78 to the original.
fn near(v: &[f32], rng: &mut StdRng) -> Vec<f32> {
    let noise = unit(rng);
    let moved: Vec<f32> = v.iter().zip(&noise).map(|(a, b)| a + 0.8 * b).collect();
    let n = dot(&moved, &moved).sqrt();
    moved.iter().map(|x| x / n).collect()
}

/// A probe at exactly cosine `c` to `v` (a unit vector): `v` turned by a random direction orthogonal to it.
fn at_cosine(v: &[f32], c: f32, rng: &mut StdRng) -> Vec<f32> {
    let u = unit(rng);
    let along = dot(&u, v);
    let across: Vec<f32> = u.iter().zip(v).map(|(a, b)| a - along * b).collect();
    let n = dot(&across, &across).sqrt().max(f32::MIN_POSITIVE);
    let s = (1.0 - c * c).max(0.0).sqrt();
    v.iter().zip(&across).map(|(a, b)| c * a + s * b / n).collect()
}

/// Genuine probes at fixed cosines to their enrolled template, `per_level` of each: how often the approximate
/// index answers the enrolled template first. Above cosine 0.3 the exact scan answers it first (a stranger among a
/// million random templates sits near 0.2), so this is recall@1 against the exact scan for a face search's
/// genuine probes, at each similarity a real second photo has.
fn genuine_recall(graph: &Gallery, all: &[f32], per_level: usize, rng: &mut StdRng) -> anyhow::Result<()> {
    let templates = all.len() / DIM;
    let fetch = |key: u64| all.get(key as usize * DIM..(key as usize + 1) * DIM).map(<[f32]>::to_vec);
    let mut line = String::from("    genuine probes found first, by cosine to the enrolled template:");
    for c in [0.45f32, 0.5, 0.6, 0.7, 0.8] {
        let mut found = 0;
        for _ in 0..per_level {
            let key = rng.gen_range(0..templates) as u64;
            let probe = at_cosine(fetch(key).as_deref().unwrap_or(&[]), c, rng);
            found += usize::from(graph.search(&probe, 10, 90, fetch)?.first().map(|h| h.key) == Some(key));
        }
        line.push_str(&format!(
            "  {c:.2}: {:.2} % ({found}/{per_level})",
            100.0 * found as f64 / per_level.max(1) as f64
        ));
    }
    println!("{line}");
    Ok(())
}

/// The plain f32 scan: every template's cosine, the best `k` kept.
fn f32_scan(all: &[f32], query: &[f32], k: usize) -> Vec<Hit> {
    let mut hits: Vec<Hit> =
        all.chunks_exact(DIM).enumerate().map(|(i, t)| Hit { key: i as u64, cosine: dot(query, t) }).collect();
    let nth = k.min(hits.len().saturating_sub(1));
    hits.select_nth_unstable_by(nth, |a, b| b.cosine.total_cmp(&a.cosine));
    hits.truncate(k);
    hits.sort_by(|a, b| b.cosine.total_cmp(&a.cosine));
    hits
}

fn ms(samples: &mut [f64], p: f64) -> f64 {
    samples.sort_by(f64::total_cmp);
    crate::faces::percentile(samples, p)
}

/// Writes `values` as raw little-endian numbers (numpy's `fromfile` reads them).
fn write_raw(path: &std::path::Path, bytes: impl Iterator<Item = [u8; 4]>) -> anyhow::Result<()> {
    use std::io::Write;
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    for b in bytes {
        out.write_all(&b)?;
    }
    Ok(out.flush()?)
}

/// FAISS on the same vectors and queries, through `scripts/gallery-faiss` (it installs faiss-cpu once).
fn faiss(all: &[f32], queries: &[Vec<f32>], want: &[Vec<u64>], threads: usize) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    write_raw(&dir.path().join("templates.f32"), all.iter().map(|v| v.to_le_bytes()))?;
    write_raw(&dir.path().join("queries.f32"), queries.iter().flatten().map(|v| v.to_le_bytes()))?;
    let ids = want.iter().flat_map(|w| (0..10).map(move |i| w.get(i).map_or(-1, |k| *k as i64)));
    {
        use std::io::Write;
        let mut out = std::io::BufWriter::new(std::fs::File::create(dir.path().join("want.i64"))?);
        for id in ids {
            out.write_all(&id.to_le_bytes())?;
        }
        out.flush()?;
    }
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/gallery-faiss");
    let status = std::process::Command::new(script).arg(dir.path()).arg(threads.to_string()).status()?;
    anyhow::ensure!(status.success(), "scripts/gallery-faiss failed");
    Ok(())
}

/// `BITS,SHORTLIST`, or `default`.
pub fn parse_sketch(text: &str) -> anyhow::Result<SketchParams> {
    if text == "default" {
        return Ok(SketchParams::default());
    }
    let parts: Vec<usize> = text.split(',').map(str::parse).collect::<Result<_, _>>()?;
    let [bits, shortlist] = parts.as_slice() else {
        anyhow::bail!("--approximate is BITS,SHORTLIST (for example 256,1000) or default");
    };
    Ok(SketchParams { bits: *bits, shortlist: *shortlist })
}

/// The approximate index (sketches) on the same vectors and queries: build rate, memory, latency, and recall against the f32
/// scan, over all queries and over those of an enrolled face (the even ones), whose best match is what a search is
/// for; a stranger's best match is noise far below any threshold.
fn approximate(
    all: &[f32],
    queries: &[Vec<f32>],
    want: &[Vec<u64>],
    threads: usize,
    params: SketchParams,
) -> anyhow::Result<()> {
    let mut graph = Gallery::approximate(DIM, threads, params)?;
    let started = Instant::now();
    for (key, t) in all.chunks_exact(DIM).enumerate() {
        graph.insert(key as u64, t)?;
    }
    let build_s = started.elapsed().as_secs_f64();
    let fetch = |key: u64| all.get(key as usize * DIM..(key as usize + 1) * DIM).map(<[f32]>::to_vec);
    let (mut times, mut top1, mut top10, mut mates, mut mates_found) = (Vec::new(), 0, 0, 0, 0);
    for (q, (query, want)) in queries.iter().zip(want).enumerate() {
        let t = Instant::now();
        let got = graph.search(query, 10, 90, fetch)?;
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        let hit = got.first().map(|h| h.key) == want.first().copied();
        top1 += usize::from(hit);
        top10 += want.iter().filter(|w| got.iter().any(|g| g.key == **w)).count();
        if q % 2 == 0 {
            mates += 1;
            mates_found += usize::from(hit);
        }
    }
    let n = queries.len().max(1) as f64;
    println!(
        "  approximate ({}-bit sketches, int8 scoring of {}, f32 re-rank of 100):  p50 {:7.2} ms  p99 {:7.2} ms",
        params.bits,
        params.shortlist,
        ms(&mut times, 0.5),
        ms(&mut times, 0.99)
    );
    println!(
        "    recall against the f32 scan: enrolled faces @1 {:.2} % ({mates_found}/{mates}); all queries @1 {:.2} %, \
         @10 {:.2} %",
        100.0 * mates_found as f64 / mates.max(1) as f64,
        100.0 * top1 as f64 / n,
        100.0 * top10 as f64 / (10.0 * n)
    );
    println!(
        "    built at {:.0} templates/s ({:.1} s on one thread: the load time after a restart); {} bytes a \
         template",
        (all.len() / DIM) as f64 / build_s,
        build_s,
        graph.bytes_per_template()
    );
    genuine_recall(&graph, all, 1000, &mut StdRng::seed_from_u64(11))
}

/// Runs the whole benchmark; the scans themselves block this (otherwise idle) runtime thread.
pub async fn bench(
    templates: usize,
    queries: usize,
    threads: usize,
    with_faiss: bool,
    real: Option<(std::path::PathBuf, std::path::PathBuf)>,
    approximate_index: Option<SketchParams>,
) -> anyhow::Result<()> {
    println!(
        "vouch gallery bench: {templates} synthetic templates of {DIM} values, {queries} queries, {threads} threads"
    );
    let mut rng = StdRng::seed_from_u64(7);
    let mut all = Vec::with_capacity(templates * DIM);
    for _ in 0..templates {
        all.extend(unit(&mut rng));
    }
    let mut gallery = Gallery::new(DIM, threads);
    let started = Instant::now();
    for (key, t) in all.chunks_exact(DIM).enumerate() {
        gallery.insert(key as u64, t)?;
    }
    let enrol_s = started.elapsed().as_secs_f64();
    println!(
        "  enrolment: {:.0} templates/s; {} bytes a template in the index ({:.0} MiB in all)",
        templates as f64 / enrol_s,
        gallery.bytes_per_template(),
        (gallery.bytes_per_template() * templates) as f64 / 1048576.0
    );
    let fetch = |key: u64| all.get(key as usize * DIM..(key as usize + 1) * DIM).map(<[f32]>::to_vec);
    let (mut exact_ms, mut f32_ms) = (Vec::new(), Vec::new());
    let (mut top1, mut top10) = (0usize, 0usize);
    let (mut asked, mut answers) = (Vec::new(), Vec::new());
    for q in 0..queries {
        let enrolled = rng.gen_range(0..templates);
        let query =
            if q % 2 == 0 { near(fetch(enrolled as u64).as_deref().unwrap_or(&[]), &mut rng) } else { unit(&mut rng) };
        let t = Instant::now();
        let got = gallery.search(&query, 10, 90, fetch)?;
        exact_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        let t = Instant::now();
        let want = f32_scan(&all, &query, 10);
        f32_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        top1 += usize::from(got.first().map(|h| h.key) == want.first().map(|h| h.key));
        top10 += want.iter().filter(|w| got.iter().any(|g| g.key == w.key)).count();
        answers.push(want.iter().map(|h| h.key).collect::<Vec<_>>());
        asked.push(query);
    }
    println!(
        "  gallery (int8 scan, f32 re-rank of 100):  p50 {:7.2} ms  p99 {:7.2} ms",
        ms(&mut exact_ms, 0.5),
        ms(&mut exact_ms, 0.99)
    );
    println!(
        "  plain f32 scan, one thread (reference):  p50 {:7.2} ms  p99 {:7.2} ms",
        ms(&mut f32_ms, 0.5),
        ms(&mut f32_ms, 0.99)
    );
    println!(
        "  recall against the f32 scan: @1 {:.2} %, @10 {:.2} %",
        100.0 * top1 as f64 / queries as f64,
        100.0 * top10 as f64 / (10 * queries) as f64
    );
    if let Some(params) = approximate_index {
        approximate(&all, &asked, &answers, threads, params)?;
    }
    if with_faiss {
        faiss(&all, &asked, &answers, threads)?;
    }
    if let Some((models, dir)) = real {
        let identities = crate::gallery_real::load(&models, &dir)?;
        let probes = crate::gallery_real::enrol(&identities, &mut gallery, &mut all, templates as u64)?;
        println!("  + the first photo of {} labelled identities of {}", all.len() / DIM - templates, dir.display());
        crate::gallery_real::search(&gallery, &all, &probes, f32_scan)?;
        if let Some(params) = approximate_index {
            let mut sketched = Gallery::approximate(DIM, threads, params)?;
            for (key, t) in all.chunks_exact(DIM).enumerate() {
                sketched.insert(key as u64, t)?;
            }
            println!("  the same real search with the approximate index ({}-bit sketches):", params.bits);
            crate::gallery_real::search(&sketched, &all, &probes, f32_scan)?;
        }
    }
    load_from_store(&all, templates.min(100_000), threads).await
}

/// How long the gallery takes to come back after a restart: `n` templates sealed in a fresh store, then a new
/// gallery over it answers its first search (which builds the index from the store).
async fn load_from_store(all: &[f32], n: usize, threads: usize) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let store = vouch_store::Store::open(dir.path())?;
    let tag = *b"bench512";
    let started = Instant::now();
    // A thousand templates a transaction (under one subject each time): the load, not the writes, is measured.
    let templates: Vec<&[f32]> = all.chunks_exact(DIM).take(n).collect();
    for (i, batch) in templates.chunks(1000).enumerate() {
        let sealed: Vec<Vec<u8>> =
            batch.iter().map(|t| vouch_vision::FaceTemplate::new(tag, t.to_vec()).to_bytes()).collect();
        store.add_gallery_templates("bench", &format!("subject-{i}"), &sealed)?;
    }
    let stored_s = started.elapsed().as_secs_f64();
    drop(store);
    let store = vouch_store::Store::open(dir.path())?;
    let gallery = vouch_app::gallery::GalleryService::new(store, tag, threads);
    let probe = vouch_vision::FaceTemplate::new(tag, all.get(..DIM).unwrap_or_default().to_vec()).to_bytes();
    let started = Instant::now();
    let found = gallery.search("bench", &probe, 1, 0.0).await?;
    let loaded_s = started.elapsed().as_secs_f64();
    anyhow::ensure!(
        found.first().map(|m| m.subject.as_str()) == Some("subject-0"),
        "the reloaded gallery lost a template"
    );
    println!(
        "  the store: {n} templates sealed and written at {:.0}/s; after a restart the index is rebuilt from it and \
         searched in {:.2} s ({:.0} templates/s)",
        n as f64 / stored_s,
        loaded_s,
        n as f64 / loaded_s
    );
    Ok(())
}

//! `vouch faces gallery-bench`: 1:N search over synthetic unit vectors (512 values, as the face engine's
//! templates), the gallery's int8 scan with f32 re-ranking beside a plain f32 scan of the same vectors in the
//! same run: enrolment rate, memory per template, latency p50/p99, and recall@1 and @10 against the f32 answer.

use std::time::Instant;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
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

pub fn bench(templates: usize, queries: usize, threads: usize) -> anyhow::Result<()> {
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
    Ok(())
}

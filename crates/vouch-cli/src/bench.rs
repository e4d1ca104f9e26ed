//! `vouch bench`: throughput and latency of token issuance and identification-request creation, each
//! against `/healthz` (a hello-world route) served by the same binary, on loopback, with a fresh store.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use base64::Engine;
use vouch_core::Scope;
use vouch_server::ServerConfig;
use vouch_store::clients::NewClient;
use vouch_store::Store;

pub(crate) struct Stats {
    pub(crate) name: &'static str,
    pub(crate) requests: usize,
    pub(crate) wall: Duration,
    pub(crate) p50: Duration,
    pub(crate) p99: Duration,
}

impl Stats {
    pub(crate) fn throughput(&self) -> f64 {
        self.requests as f64 / self.wall.as_secs_f64()
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(idx.min(sorted.len() - 1)).copied().unwrap_or_default()
}

pub(crate) async fn measure<F, Fut>(
    name: &'static str,
    requests: usize,
    concurrency: usize,
    make: F,
) -> anyhow::Result<Stats>
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = anyhow::Result<()>> + Send,
{
    let make = Arc::new(make);
    // Warm-up: connections, caches, the first argon2 allocation.
    for _ in 0..concurrency.min(requests) {
        make().await?;
    }
    let started = Instant::now();
    let mut tasks = Vec::new();
    for worker in 0..concurrency {
        let share = requests / concurrency + usize::from(worker < requests % concurrency);
        let make = make.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(share);
            for _ in 0..share {
                let t = Instant::now();
                make().await?;
                latencies.push(t.elapsed());
            }
            anyhow::Ok(latencies)
        }));
    }
    let mut all = Vec::with_capacity(requests);
    for t in tasks {
        all.extend(t.await??);
    }
    let wall = started.elapsed();
    all.sort();
    Ok(Stats { name, requests, wall, p50: percentile(&all, 0.5), p99: percentile(&all, 0.99) })
}

/// Opens one eeID identification request with `bearer` (`Bearer …`) and returns its id.
pub(crate) async fn create_request(http: &reqwest::Client, base: &str, bearer: &str) -> anyhow::Result<String> {
    let resp = http
        .post(format!("{base}/eeid/api/ident/v1/identification_requests"))
        .header("Authorization", bearer)
        .json(&serde_json::json!({"claims_required": [{"type": "sub", "value": "EE30303039914"}], "reason": "bench"}))
        .send()
        .await?;
    anyhow::ensure!(resp.status().as_u16() == 201, "unexpected status {}", resp.status());
    let body: serde_json::Value = resp.json().await?;
    Ok(body.get("id").and_then(|i| i.as_str()).unwrap_or_default().to_string())
}

pub(crate) fn token_request(http: &reqwest::Client, base: &str, basic_auth: String) -> reqwest::RequestBuilder {
    http.post(format!("{base}/oauth/token"))
        .header("Authorization", basic_auth)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials")
}

pub async fn run(requests: usize, concurrency: usize, open_requests: usize) -> anyhow::Result<()> {
    anyhow::ensure!(requests > 0 && concurrency > 0, "--requests and --concurrency must be positive");
    let dir = tempfile::tempdir()?;
    let store = Store::open(&dir.path().join("data"))?;
    let client = store.create_client(
        &NewClient { name: "bench".into(), scope: Scope::Integrator, token_ttl_secs: Some(3600), webhook_url: None },
        "bench",
    )?;
    let models_dir = vouch_server::config_file::default_models_dir();
    let cfg =
        ServerConfig { bind: ([127, 0, 0, 1], 0).into(), models_dir: models_dir.clone(), ..ServerConfig::default() };
    let image_places = cfg.image_concurrency;
    let running = vouch_server::start(cfg, store).await?;
    let base = Arc::<str>::from(running.public_url.clone());
    let http = reqwest::Client::builder().pool_max_idle_per_host(concurrency).build()?;
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", client.client.id, client.secret))
    );

    let ok = |resp: reqwest::Response, want: u16| -> anyhow::Result<()> {
        anyhow::ensure!(resp.status().as_u16() == want, "unexpected status {}", resp.status());
        Ok(())
    };

    let (h, b) = (http.clone(), base.clone());
    let hello = measure("GET /healthz (hello world)", requests, concurrency, move || {
        let (h, b) = (h.clone(), b.clone());
        async move { ok(h.get(format!("{b}/healthz")).send().await?, 200) }
    })
    .await?;

    // Client secrets are a keyed SHA-256 (not argon2), so a token costs about what any small request does.
    let (h, b, auth) = (http.clone(), base.clone(), basic.clone());
    let token = measure("POST /oauth/token", requests, concurrency, move || {
        let (h, b, auth) = (h.clone(), b.clone(), auth.clone());
        async move { ok(token_request(&h, &b, auth).send().await?, 200) }
    })
    .await?;

    let bearer: serde_json::Value = token_request(&http, &base, basic).send().await?.json().await?;
    let bearer = format!("Bearer {}", bearer.get("access_token").and_then(|t| t.as_str()).context("no access_token")?);
    let (h, b, creator) = (http.clone(), base.clone(), bearer.clone());
    let create = measure("POST /eeid/.../identification_requests", requests, concurrency, move || {
        let (h, b, bearer) = (h.clone(), b.clone(), creator.clone());
        async move {
            let resp = h
                .post(format!("{b}/eeid/api/ident/v1/identification_requests"))
                .header("Authorization", bearer)
                .json(&serde_json::json!({"claims_required": [{"type": "sub", "value": "EE30303039914"}], "reason": "bench"}))
                .send()
                .await?;
            ok(resp, 201)
        }
    })
    .await?;
    let reads = if open_requests > 0 {
        Some(reads_among(&http, &base, &bearer, requests, concurrency, open_requests).await?)
    } else {
        None
    };
    let saturation = match models_dir {
        Some(_) => {
            Some(saturation(&http, &base, &bearer_for(&http, &base, &client).await?, requests, image_places).await?)
        }
        None => None,
    };
    running.shutdown().await;

    println!("vouch bench: {} concurrent connections on loopback, debug={}", concurrency, cfg!(debug_assertions));
    println!();
    println!("| scenario | requests | throughput (req/s) | p50 (ms) | p99 (ms) | throughput vs hello | p50 vs hello |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    let mut rows = vec![&hello, &token, &create];
    if let Some((one, page)) = &reads {
        rows.extend([one, page]);
    }
    for s in rows {
        println!(
            "| {} | {} | {:.0} | {:.2} | {:.2} | {:.3} | {:.1}x |",
            s.name,
            s.requests,
            s.throughput(),
            s.p50.as_secs_f64() * 1000.0,
            s.p99.as_secs_f64() * 1000.0,
            s.throughput() / hello.throughput(),
            s.p50.as_secs_f64() / hello.p50.as_secs_f64().max(1e-9),
        );
    }
    println!();
    match saturation {
        Some(s) => {
            println!(
                "Saturation: {} workers send DIS face detections (a 640x480 JPEG) without pause, beyond the {} image places.",
                s.heavy_workers, image_places
            );
            println!("| light request (GET /healthz) | requests | p50 (ms) | p99 (ms) |");
            println!("|---|---:|---:|---:|");
            for (label, stats) in [("unloaded", &s.unloaded), ("while images saturate", &s.loaded)] {
                println!(
                    "| {label} | {} | {:.2} | {:.2} |",
                    stats.requests,
                    stats.p50.as_secs_f64() * 1000.0,
                    stats.p99.as_secs_f64() * 1000.0
                );
            }
            println!(
                "light p99 under load / unloaded: {:.1}x (goal: under 10x); heavy answers: {} served, {} turned away with 503",
                s.loaded.p99.as_secs_f64() / s.unloaded.p99.as_secs_f64().max(1e-9),
                s.heavy_served,
                s.heavy_busy
            );
        }
        None => println!("Saturation: skipped, no models folder (set VOUCH_MODELS_DIR)."),
    }
    Ok(())
}

/// Opens `open` identification requests (beyond those the create scenario made), then measures reading the first
/// one and a deep page of the list among them: what a read costs as the store grows.
pub(crate) async fn reads_among(
    http: &reqwest::Client,
    base: &Arc<str>,
    bearer: &str,
    requests: usize,
    concurrency: usize,
    open: usize,
) -> anyhow::Result<(Stats, Stats)> {
    let create = |h: reqwest::Client, b: Arc<str>, bearer: String| async move { create_request(&h, &b, &bearer).await };
    let first = create(http.clone(), base.clone(), bearer.to_string()).await?;
    let (h, b, t) = (http.clone(), base.clone(), bearer.to_string());
    measure("(opening the requests)", open.saturating_sub(1), concurrency, move || {
        let (h, b, t) = (h.clone(), b.clone(), t.clone());
        async move { create(h, b, t).await.map(|_| ()) }
    })
    .await?;
    let list = format!("{base}/eeid/api/ident/v1/identification_requests");
    let by_id = format!("{list}/{first}");
    let name = "GET /eeid/.../identification_requests/{id}, among the open";
    let one = measure_get(name, http, by_id, bearer, requests, concurrency).await?;
    let deep = (open / 10).max(1);
    let last_page = format!("{list}?page={deep}&page_size=10");
    let name = "GET /eeid/.../identification_requests, a deep page";
    let page = measure_get(name, http, last_page, bearer, requests, concurrency).await?;
    println!("(reads measured among {open} open identification requests; the deep page is page {deep}, 10 a page)");
    Ok((one, page))
}

/// `requests` authorised GETs of `url`, each of which must succeed.
async fn measure_get(
    name: &'static str,
    http: &reqwest::Client,
    url: String,
    bearer: &str,
    requests: usize,
    concurrency: usize,
) -> anyhow::Result<Stats> {
    let (h, t) = (http.clone(), bearer.to_string());
    measure(name, requests, concurrency, move || {
        let (h, url, t) = (h.clone(), url.clone(), t.clone());
        async move {
            let resp = h.get(url).header("Authorization", t).send().await?;
            anyhow::ensure!(resp.status().is_success(), "unexpected status {}", resp.status());
            Ok(())
        }
    })
    .await
}

struct Saturation {
    heavy_workers: usize,
    unloaded: Stats,
    loaded: Stats,
    heavy_served: usize,
    heavy_busy: usize,
}

/// A client's access token, taken at `base`'s `/oauth/token`.
pub(crate) async fn bearer_for(
    http: &reqwest::Client,
    base: &str,
    client: &vouch_store::clients::CreatedClient,
) -> anyhow::Result<String> {
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", client.client.id, client.secret))
    );
    let token: serde_json::Value = token_request(http, base, basic).send().await?.json().await?;
    Ok(token.get("access_token").and_then(|t| t.as_str()).context("no access_token")?.to_string())
}

/// Light requests' latency alone, then while more heavy image requests arrive than there are places for them.
async fn saturation(
    http: &reqwest::Client,
    base: &Arc<str>,
    bearer: &str,
    requests: usize,
    image_places: usize,
) -> anyhow::Result<Saturation> {
    let photo = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../../assets/demo-camera/frame-000.jpg"))
        .context("reading the demo camera's first frame")?;
    let body = serde_json::json!({"image": {"data": base64::engine::general_purpose::STANDARD.encode(&photo)}});
    let light_requests = (requests / 4).max(200);
    let (h, b) = (http.clone(), base.clone());
    let light = move || {
        let (h, b) = (h.clone(), b.clone());
        async move {
            let resp = h.get(format!("{b}/healthz")).send().await?;
            anyhow::ensure!(resp.status().is_success(), "unexpected status {}", resp.status());
            Ok(())
        }
    };
    let unloaded = measure("GET /healthz, unloaded", light_requests, 2, light.clone()).await?;
    let heavy_workers = image_places * 3;
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut heavy = Vec::new();
    for _ in 0..heavy_workers {
        let (h, url, bearer, body, stop) =
            (http.clone(), format!("{base}/identity/api/v1/faces"), bearer.to_string(), body.clone(), stop.clone());
        heavy.push(tokio::spawn(async move {
            let (mut served, mut busy) = (0usize, 0usize);
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let resp = h.post(&url).bearer_auth(&bearer).json(&body).send().await?;
                match resp.status().as_u16() {
                    503 => busy += 1,
                    _ => served += 1,
                }
            }
            anyhow::Ok((served, busy))
        }));
    }
    // Let the heavy requests fill every place first.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let loaded = measure("GET /healthz, images saturated", light_requests, 2, light).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let (mut heavy_served, mut heavy_busy) = (0, 0);
    for task in heavy {
        let (served, busy) = task.await??;
        heavy_served += served;
        heavy_busy += busy;
    }
    Ok(Saturation { heavy_workers, unloaded, loaded: loaded?, heavy_served, heavy_busy })
}

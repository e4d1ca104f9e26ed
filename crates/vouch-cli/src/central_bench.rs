//! `vouch bench --database postgres://… [--blobs s3://…]`: eeID create and read throughput and latency on SQLite,
//! on one instance on PostgreSQL and on two instances sharing it (requests spread over both), each beside `/healthz`
//! (hello world) served the same way, in one run; and the sync of one kiosk: cases claimed and pushed with a 200 KB
//! selfie and a decision, one after another as a kiosk's outbox sends them. The instances run in this process on loopback; PostgreSQL is wherever the URL
//! says. The bench writes a client and its cases into that database: give it a throwaway one.

use std::sync::Arc;

use anyhow::Context;
use base64::Engine;
use vouch_core::Scope;
use vouch_server::ServerConfig;
use vouch_store::clients::NewClient;
use vouch_store::{BlobLocation, Store};

use crate::bench::{bearer_for, create_request, measure, Stats};

struct Setup {
    label: String,
    bases: Vec<Arc<str>>,
    bearer: String,
    running: Vec<vouch_server::Running>,
    _dir: tempfile::TempDir,
}

async fn start(stores: Vec<Store>, label: String, dir: tempfile::TempDir) -> anyhow::Result<Setup> {
    let first = stores.first().context("no store")?.clone();
    let client = first.create_client(
        &NewClient { name: "bench".into(), scope: Scope::Integrator, token_ttl_secs: Some(3600), webhook_url: None },
        "bench",
    )?;
    let mut running = Vec::new();
    for store in stores {
        running.push(
            vouch_server::start(ServerConfig { bind: ([127, 0, 0, 1], 0).into(), ..Default::default() }, store).await?,
        );
    }
    let bases: Vec<Arc<str>> = running.iter().map(|r| Arc::<str>::from(r.public_url.clone())).collect();
    let base = bases.first().context("no instance")?;
    let bearer = format!("Bearer {}", bearer_for(&reqwest::Client::new(), base, &client).await?);
    Ok(Setup { label, bases, bearer, running, _dir: dir })
}

/// Two instances' stores on one database: the second gets the first's data key, as an operator deploys them.
fn postgres_stores(
    url: &str,
    blobs: &BlobLocation,
    instances: usize,
    dir: &std::path::Path,
) -> anyhow::Result<Vec<Store>> {
    let mut stores = Vec::new();
    for n in 0..instances {
        let data = dir.join(format!("instance-{n}"));
        if n > 0 {
            std::fs::create_dir_all(&data)?;
            std::fs::copy(dir.join("instance-0").join("data.key"), data.join("data.key"))?;
        }
        stores.push(Store::open_postgres(url, &data, blobs)?);
    }
    Ok(stores)
}

/// Requests spread over the instances: the n-th goes to instance n mod count.
fn spread(bases: &[Arc<str>]) -> impl Fn() -> Arc<str> + Send + Sync + Clone + 'static {
    let (bases, next) = (bases.to_vec(), Arc::new(std::sync::atomic::AtomicUsize::new(0)));
    move || {
        let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        bases.get(n % bases.len().max(1)).cloned().unwrap_or_else(|| Arc::from(""))
    }
}

/// The size of the selfie each synced case carries.
const SYNC_EVIDENCE_BYTES: usize = 200 * 1024;

/// How many times the kiosk's listing is read.
const LISTINGS: usize = 100;

/// One paired kiosk reading its listing of the open cases (`cases` of them and more), as every sync round does,
/// then pushing `cases` cases to the instances (spread over them), one after another: each claimed, its selfie step
/// pushed with 200 KB of evidence, then its decision.
async fn sync_one_kiosk(setup: &Setup, store: &Store, cases: usize) -> anyhow::Result<Vec<Stats>> {
    let steps = [vouch_core::flow::Step::Selfie {}, vouch_core::flow::Step::Result {}];
    // The instances on PostgreSQL share the database, so the flow is there from the run before.
    if store.latest_flow("bench-sync").is_err() {
        store.save_flow("bench-sync", "Bench sync", &steps, "bench", true)?;
    }
    store.set_default_flow("bench-sync", "bench")?;
    let code = store.create_pairing_code("Bench kiosk", None, "bench")?;
    let kiosk = store.pair_kiosk(&code.code)?;
    let http = reqwest::Client::new();
    let base = setup.bases.first().context("no instance")?.clone();
    let kiosk_bearer = format!("Bearer {}", bearer_for(&http, &base, &kiosk.credentials).await?);
    let mut ids = Vec::new();
    for _ in 0..=cases {
        ids.push(create_request(&http, &base, &setup.bearer).await?);
    }
    let (h, p, t) = (http.clone(), spread(&setup.bases), kiosk_bearer.clone());
    let limit = vouch_store::sync::MOST_LISTED;
    let listing = measure("kiosk listing: GET /vouch/v1/sync/cases (its open cases)", LISTINGS, 1, move || {
        let (h, b, t) = (h.clone(), p(), t.clone());
        async move {
            let resp =
                h.get(format!("{b}/vouch/v1/sync/cases?limit={limit}")).header("Authorization", t).send().await?;
            anyhow::ensure!(resp.status().is_success(), "unexpected status {}", resp.status());
            let listed: Vec<serde_json::Value> = resp.json().await?;
            anyhow::ensure!(listed.len() > cases.min(limit as usize) / 2, "only {} cases listed", listed.len());
            Ok(())
        }
    })
    .await?;
    let selfie: Vec<u8> = (0..SYNC_EVIDENCE_BYTES).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    let selfie = Arc::<str>::from(base64::engine::general_purpose::STANDARD.encode(selfie));
    let queue = Arc::new(std::sync::Mutex::new(ids));
    let pick = spread(&setup.bases);
    let sync = measure("kiosk sync: claim, 200 KB selfie, decision", cases, 1, move || {
        let (h, b, t, selfie, queue) = (http.clone(), pick(), kiosk_bearer.clone(), selfie.clone(), queue.clone());
        async move {
            let id = queue.lock().map_err(|_| anyhow::anyhow!("queue"))?.pop().context("no case left")?;
            let send = |path: String, body: serde_json::Value| {
                let (h, t) = (h.clone(), t.clone());
                async move {
                    let resp = h.post(path).header("Authorization", t).json(&body).send().await?;
                    anyhow::ensure!(resp.status().is_success(), "unexpected status {}", resp.status());
                    Ok(())
                }
            };
            let case = format!("{b}/vouch/v1/sync/cases/{id}");
            send(format!("{case}/claim"), serde_json::json!({})).await?;
            let step = serde_json::json!({"item_id": format!("{id}-step-0"), "index": 0, "kind": "selfie",
                "outcome": "passed", "detail": {},
                "captures": [{"kind": "selfie", "media_type": "image/jpeg", "data": &*selfie}]});
            send(format!("{case}/steps"), step).await?;
            let decision = serde_json::json!({"item_id": format!("{id}-decision"), "outcome": "rejected",
                "reason": "bench"});
            send(format!("{case}/decision"), decision).await
        }
    })
    .await?;
    Ok(vec![listing, sync])
}

async fn scenarios(setup: &Setup, requests: usize, concurrency: usize) -> anyhow::Result<Vec<Stats>> {
    let http = reqwest::Client::builder().pool_max_idle_per_host(concurrency).build()?;
    let pick = spread(&setup.bases);
    let (h, p) = (http.clone(), pick.clone());
    let hello = measure("GET /healthz (hello world)", requests, concurrency, move || {
        let (h, b) = (h.clone(), p());
        async move {
            let resp = h.get(format!("{b}/healthz")).send().await?;
            anyhow::ensure!(resp.status().is_success(), "unexpected status {}", resp.status());
            Ok(())
        }
    })
    .await?;
    let create_one =
        |h: reqwest::Client, b: Arc<str>, bearer: String| async move { create_request(&h, &b, &bearer).await };
    let (h, p, t) = (http.clone(), pick.clone(), setup.bearer.clone());
    let create = measure("POST /eeid/.../identification_requests", requests, concurrency, move || {
        let (h, b, t) = (h.clone(), p(), t.clone());
        async move { create_one(h, b, t).await.map(|_| ()) }
    })
    .await?;
    let first = create_one(http.clone(), pick(), setup.bearer.clone()).await?;
    let (h, p, t) = (http.clone(), pick.clone(), setup.bearer.clone());
    let read = measure("GET /eeid/.../identification_requests/{id}", requests, concurrency, move || {
        let (h, b, t, id) = (h.clone(), p(), t.clone(), first.clone());
        async move {
            let resp = h
                .get(format!("{b}/eeid/api/ident/v1/identification_requests/{id}"))
                .header("Authorization", t)
                .send()
                .await?;
            anyhow::ensure!(resp.status().is_success(), "unexpected status {}", resp.status());
            Ok(())
        }
    })
    .await?;
    Ok(vec![hello, create, read])
}

pub async fn run(
    database: &str,
    blobs: &BlobLocation,
    requests: usize,
    concurrency: usize,
    open_requests: usize,
) -> anyhow::Result<()> {
    anyhow::ensure!(requests > 0 && concurrency > 0, "--requests and --concurrency must be positive");
    let mut results = Vec::new();
    for (label, instances) in [("SQLite", 0usize), ("PostgreSQL", 1), ("PostgreSQL", 2)] {
        let dir = tempfile::tempdir()?;
        let stores = if instances == 0 {
            vec![Store::open(&dir.path().join("data"))?]
        } else {
            let (url, blobs) = (database.to_string(), blobs.clone());
            let path = dir.path().to_path_buf();
            tokio::task::spawn_blocking(move || postgres_stores(&url, &blobs, instances, &path)).await??
        };
        let count = stores.len();
        let first = stores.first().context("no store")?.clone();
        let setup =
            start(stores, format!("{label}, {count} instance{}", if count > 1 { "s" } else { "" }), dir).await?;
        let mut stats = scenarios(&setup, requests, concurrency).await?;
        stats.extend(sync_one_kiosk(&setup, &first, (requests / 20).max(10)).await?);
        if open_requests > 0 && instances == 1 {
            // Reads as the store grows, on one instance: the others would only repeat it.
            let (http, base) = (reqwest::Client::new(), setup.bases.first().context("no instance")?.clone());
            let (one, page) =
                crate::bench::reads_among(&http, &base, &setup.bearer, requests, concurrency, open_requests).await?;
            stats.extend([one, page]);
        }
        for running in setup.running {
            running.shutdown().await;
        }
        results.push((setup.label, stats));
    }
    println!(
        "vouch bench --database {} --blobs {blobs} (for PostgreSQL): {concurrency} concurrent connections on loopback \
         (the kiosk sync: one), debug={}",
        vouch_store::postgres::describe(database),
        cfg!(debug_assertions)
    );
    println!();
    println!("| store | scenario | requests | throughput (req/s) | p50 (ms) | p99 (ms) | throughput vs hello |");
    println!("|---|---|---:|---:|---:|---:|---:|");
    for (label, stats) in &results {
        let hello = stats.first().map_or(1.0, Stats::throughput);
        for s in stats {
            println!(
                "| {label} | {} | {} | {:.0} | {:.2} | {:.2} | {:.3} |",
                s.name,
                s.requests,
                s.throughput(),
                s.p50.as_secs_f64() * 1000.0,
                s.p99.as_secs_f64() * 1000.0,
                s.throughput() / hello
            );
        }
    }
    Ok(())
}

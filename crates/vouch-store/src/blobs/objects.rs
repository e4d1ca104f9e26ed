//! Blobs in S3-compatible object storage (`object_store`), for central deployments: `<prefix>/ab/abcdef…`. The
//! store is synchronous, so its calls run on a small runtime of their own and the caller waits for the answer.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use object_store::aws::AmazonS3Builder;
use object_store::path::Path as ObjectPath;
use object_store::{ClientOptions, ObjectStore, PutPayload, RetryConfig};

use crate::dedicated::Dedicated;
use crate::error::{Result, StoreError};

/// Where evidence goes in object storage: `s3://BUCKET[/PREFIX]?endpoint=URL&region=REGION`.
#[derive(Clone, PartialEq, Eq)]
pub struct S3Location {
    pub bucket: String,
    pub prefix: String,
    /// An S3-compatible server's address; none means AWS itself.
    pub endpoint: Option<String>,
    pub region: String,
    /// Access key id and secret; none reads `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY`.
    pub credentials: Option<(String, String)>,
}

impl std::fmt::Debug for S3Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{self}")
    }
}

/// The location as it was given, never with the credentials.
impl std::fmt::Display for S3Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "s3://{}", self.bucket)?;
        if !self.prefix.is_empty() {
            write!(f, "/{}", self.prefix)?;
        }
        write!(f, "?region={}", self.region)?;
        if let Some(endpoint) = &self.endpoint {
            write!(f, "&endpoint={endpoint}")?;
        }
        Ok(())
    }
}

const DEFAULT_REGION: &str = "us-east-1";

impl S3Location {
    /// Parses `s3://BUCKET[/PREFIX][?endpoint=URL&region=REGION]`. Plain http is accepted for a loopback
    /// endpoint only: credentials and evidence (sealed as it is) do not cross a network in the clear.
    pub fn parse(text: &str) -> Result<S3Location> {
        let bad = |why: &str| StoreError::Invalid(format!("blobs location {text:?}: {why}"));
        let rest = text.strip_prefix("s3://").ok_or_else(|| bad("it must start with s3://"))?;
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        let (bucket, prefix) = path.split_once('/').unwrap_or((path, ""));
        let valid_bucket = (3..=63).contains(&bucket.len())
            && bucket.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.');
        if !valid_bucket {
            return Err(bad("the bucket name must be 3 to 63 lowercase letters, digits, dots or dashes"));
        }
        let mut location = S3Location {
            bucket: bucket.to_string(),
            prefix: prefix.trim_matches('/').to_string(),
            endpoint: None,
            region: DEFAULT_REGION.to_string(),
            credentials: None,
        };
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            match pair.split_once('=') {
                Some(("endpoint", value)) => location.endpoint = Some(value.trim_end_matches('/').to_string()),
                Some(("region", value)) if !value.is_empty() => location.region = value.to_string(),
                _ => return Err(bad("only endpoint= and region= may follow the ?")),
            }
        }
        if let Some(endpoint) = &location.endpoint {
            check_endpoint(endpoint).map_err(|why| bad(&why))?;
        }
        Ok(location)
    }

    fn allows_http(&self) -> bool {
        self.endpoint.as_deref().is_some_and(|e| e.starts_with("http://"))
    }
}

fn check_endpoint(endpoint: &str) -> std::result::Result<(), String> {
    if endpoint.starts_with("https://") {
        return Ok(());
    }
    let Some(authority) = endpoint.strip_prefix("http://") else {
        return Err("the endpoint must be an http(s):// address".into());
    };
    let host = authority.split('/').next().unwrap_or_default();
    let host = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => host.rsplit_once(':').map_or(host, |(h, _)| h),
    };
    let loopback = host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
    if loopback {
        Ok(())
    } else {
        Err("plain http is allowed on loopback only: use https".into())
    }
}

/// The object store and the runtime its calls run on.
pub(crate) struct ObjectBlobs {
    store: Arc<dyn ObjectStore>,
    prefix: String,
    runtime: Dedicated,
}

impl std::fmt::Debug for ObjectBlobs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObjectBlobs").field("prefix", &self.prefix).finish_non_exhaustive()
    }
}

fn failed(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::ObjectStorage(format!("{what}: {e}"))
}

impl ObjectBlobs {
    /// Connects and lists the prefix once, so that a wrong endpoint, bucket or key fails here, at start.
    pub(crate) fn open(location: &S3Location) -> Result<ObjectBlobs> {
        // A customer waits on a put: fail within half a minute rather than object_store's three minutes of retries.
        let retry = RetryConfig { max_retries: 4, retry_timeout: Duration::from_secs(30), ..RetryConfig::default() };
        let client = ClientOptions::new()
            .with_connect_timeout(Duration::from_secs(5))
            .with_timeout(Duration::from_secs(30))
            .with_allow_http(location.allows_http());
        let mut builder = AmazonS3Builder::from_env()
            .with_client_options(client)
            .with_retry(retry)
            .with_bucket_name(&location.bucket)
            .with_region(&location.region)
            .with_allow_http(location.allows_http());
        if let Some(endpoint) = &location.endpoint {
            builder = builder.with_endpoint(endpoint).with_virtual_hosted_style_request(false);
        }
        if let Some((id, secret)) = &location.credentials {
            builder = builder.with_access_key_id(id).with_secret_access_key(secret);
        }
        let store = builder.build().map_err(|e| failed("configuring object storage", e))?;
        let runtime = Dedicated::new("vouch-blobs").map_err(|e| failed("object storage", e))?;
        let blobs = ObjectBlobs { store: Arc::new(store), prefix: location.prefix.clone(), runtime };
        let probe = blobs.store.clone();
        let root = blobs.root();
        blobs
            .run(async move { probe.list_with_delimiter(root.as_ref()).await })?
            .map_err(|e| failed(&format!("reaching {location}"), e))?;
        Ok(blobs)
    }

    /// Runs `future` on the store's runtime and waits for it; works from any thread, async or not.
    fn run<T: Send + 'static>(&self, future: impl Future<Output = T> + Send + 'static) -> Result<T> {
        self.runtime.run(future).map_err(|e| failed("object storage", e))
    }

    fn root(&self) -> Option<ObjectPath> {
        (!self.prefix.is_empty()).then(|| ObjectPath::from(self.prefix.as_str()))
    }

    fn path_of(&self, name: &str) -> ObjectPath {
        let shard = name.get(..2).unwrap_or_default();
        match self.prefix.as_str() {
            "" => ObjectPath::from(format!("{shard}/{name}")),
            prefix => ObjectPath::from(format!("{prefix}/{shard}/{name}")),
        }
    }

    /// An object PUT is atomic: it is there whole or not at all. Writing again renews its age for the orphan sweep.
    pub(crate) fn write(&self, name: &str, stored: &[u8]) -> Result<()> {
        let (store, path, payload) = (self.store.clone(), self.path_of(name), PutPayload::from(stored.to_vec()));
        self.run(async move { store.put(&path, payload).await })?.map_err(|e| failed("storing a blob", e))?;
        Ok(())
    }

    pub(crate) fn read(&self, name: &str) -> Result<Option<Vec<u8>>> {
        let (store, path) = (self.store.clone(), self.path_of(name));
        let read = self.run(async move {
            match store.get(&path).await {
                Ok(got) => got.bytes().await.map(|b| Some(b.to_vec())),
                Err(object_store::Error::NotFound { .. }) => Ok(None),
                Err(e) => Err(e),
            }
        })?;
        read.map_err(|e| failed("reading a blob", e))
    }

    pub(crate) fn delete(&self, name: &str) -> Result<()> {
        let (store, path) = (self.store.clone(), self.path_of(name));
        let deleted = self.run(async move {
            match store.delete(&path).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
                Err(e) => Err(e),
            }
        })?;
        deleted.map_err(|e| failed("deleting a blob", e))
    }

    /// Every object that `is_name` accepts, where a blob of that name belongs, with its last write time.
    pub(crate) fn list(&self, is_name: impl Fn(&str) -> bool) -> Result<Vec<(String, SystemTime)>> {
        let (store, root) = (self.store.clone(), self.root());
        let shards = self
            .run(async move { store.list_with_delimiter(root.as_ref()).await })?
            .map_err(|e| failed("listing blobs", e))?
            .common_prefixes;
        let mut found = Vec::new();
        for shard in shards {
            let store = self.store.clone();
            let listed = self
                .run(async move { store.list_with_delimiter(Some(&shard)).await })?
                .map_err(|e| failed("listing blobs", e))?;
            for object in listed.objects {
                let Some(name) = object.location.filename().map(str::to_string) else { continue };
                if is_name(&name) && self.path_of(&name) == object.location {
                    found.push((name, SystemTime::from(object.last_modified)));
                }
            }
        }
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_form_and_refuses_the_rest() {
        let at = S3Location::parse("s3://vouch-evidence/kiosks/eu?endpoint=http://127.0.0.1:8333&region=eu-1");
        let at = at.unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(
            (at.bucket.as_str(), at.prefix.as_str(), at.region.as_str()),
            ("vouch-evidence", "kiosks/eu", "eu-1")
        );
        assert_eq!(at.endpoint.as_deref(), Some("http://127.0.0.1:8333"));
        let aws = S3Location::parse("s3://evidence").unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!((aws.endpoint, aws.region.as_str()), (None, DEFAULT_REGION));
        for bad in [
            "evidence",
            "s3://",
            "s3://Evidence",
            "s3://evidence?endpoint=http://10.0.0.5:8333",
            "s3://evidence?endpoint=ftp://127.0.0.1",
            "s3://evidence?access_key=x",
        ] {
            assert!(matches!(S3Location::parse(bad), Err(StoreError::Invalid(_))), "{bad} was accepted");
        }
        let v6 = S3Location::parse("s3://evidence?endpoint=http://[::1]:8333");
        assert!(v6.is_ok(), "{v6:?}");
    }

    #[test]
    fn never_shows_its_credentials() {
        let mut at = S3Location::parse("s3://evidence").unwrap_or_else(|e| unreachable!("{e}"));
        at.credentials = Some(("AKID".into(), "very-secret".into()));
        assert!(!format!("{at} {at:?}").contains("very-secret"));
    }
}

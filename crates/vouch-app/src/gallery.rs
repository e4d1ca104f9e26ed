//! 1:N face search: enrolled subjects' templates, kept sealed in the store and indexed in memory
//! (`vouch_gallery`), one index a collection. The index is built from the store on first use, so it survives a
//! restart; enrolment and removal write the store first and then the index, so a search never finds what is not
//! stored.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

pub use vouch_gallery::sketch::SketchParams;
use vouch_gallery::Gallery;
use vouch_store::Store;
use vouch_vision::score::similarity_score;
use vouch_vision::FaceTemplate;

use crate::AppError;

/// The face engine's template length.
const DIM: usize = 512;
/// Candidates of the int8 scan re-ranked with their exact templates, beyond those asked for.
const RERANK_EXTRA: usize = 90;

/// A subject found by a search, with its best template's calibrated score (0..1; 0.5 is the 1:1 match point).
#[derive(Debug, Clone, PartialEq)]
pub struct SubjectMatch {
    pub subject: String,
    pub score: f32,
}

/// How a collection's templates are searched: the exact int8 scan, or (for galleries beyond a million
/// templates) a shortlist by binary sketches first (`vouch_gallery::sketch`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IndexKind {
    #[default]
    Exact,
    Approximate(SketchParams),
}

#[derive(Default)]
struct Index {
    kind: IndexKind,
    collections: HashMap<String, Gallery>,
    /// Each key's collection and subject.
    owners: HashMap<u64, (String, String)>,
}

/// An empty gallery of `kind`.
fn new_gallery(kind: IndexKind, threads: usize) -> Gallery {
    match kind {
        IndexKind::Exact => Gallery::new(DIM, threads),
        IndexKind::Approximate(params) => Gallery::approximate(DIM, threads, params).unwrap_or_else(|e| {
            tracing::warn!(error = %e, "the approximate index's settings are refused; this collection is scanned");
            Gallery::new(DIM, threads)
        }),
    }
}

impl Index {
    fn insert(&mut self, key: u64, collection: &str, subject: &str, values: &[f32], threads: usize) {
        let kind = self.kind;
        let gallery = self.collections.entry(collection.to_string()).or_insert_with(|| new_gallery(kind, threads));
        match gallery.insert(key, values) {
            Ok(()) => {
                self.owners.insert(key, (collection.to_string(), subject.to_string()));
            }
            Err(e) => tracing::warn!(key, error = %e, "a stored gallery template is not indexed"),
        }
    }

    fn remove(&mut self, key: u64) {
        if let Some((collection, _)) = self.owners.remove(&key) {
            if let Some(gallery) = self.collections.get_mut(&collection) {
                gallery.remove(key);
            }
        }
    }
}

/// The gallery of one Vouch: its store, the engine's template tag, and the index once loaded.
pub struct GalleryService {
    store: Store,
    tag: [u8; 8],
    threads: usize,
    kind: IndexKind,
    index: RwLock<Option<Index>>,
    /// What other instances of a central service change in the gallery: the index is built again after.
    changes: std::sync::Mutex<vouch_store::changes::Changes>,
}

impl GalleryService {
    /// A gallery over `store` for templates of the model `tag`, scanned exactly on `threads` threads.
    pub fn new(store: Store, tag: [u8; 8], threads: usize) -> Arc<GalleryService> {
        Self::with_index(store, tag, threads, IndexKind::Exact)
    }

    /// A gallery searched as `kind` says.
    pub fn with_index(store: Store, tag: [u8; 8], threads: usize, kind: IndexKind) -> Arc<GalleryService> {
        let changes = std::sync::Mutex::new(store.changes());
        Arc::new(GalleryService { store, tag, threads: threads.max(1), kind, index: RwLock::new(None), changes })
    }

    /// Stores `templates` (the face engine's encoding) of `subject` in `collection`, then indexes them.
    pub async fn enrol(
        self: &Arc<Self>,
        collection: &str,
        subject: &str,
        templates: Vec<Vec<u8>>,
    ) -> Result<(), AppError> {
        let values: Vec<Vec<f32>> = templates
            .iter()
            .map(|t| FaceTemplate::from_bytes(t, &self.tag).map(|t| t.values))
            .collect::<Result<_, _>>()
            .map_err(|e| AppError::vision("face engine", e))?;
        let (this, collection, subject) = (self.clone(), collection.to_string(), subject.to_string());
        blocking(move || {
            this.loaded()?;
            let keys = this.store.add_gallery_templates(&collection, &subject, &templates)?;
            let mut index = this.index.write().map_err(|_| AppError::internal("gallery index lock poisoned"))?;
            if let Some(index) = index.as_mut() {
                for (key, v) in keys.iter().zip(&values) {
                    index.insert(*key, &collection, &subject, v, this.threads);
                }
            }
            Ok(())
        })
        .await
    }

    /// Removes `subject`'s templates from `collection` (from all when `None`); how many were removed.
    pub async fn remove(self: &Arc<Self>, collection: Option<&str>, subject: &str) -> Result<usize, AppError> {
        let (this, collection, subject) = (self.clone(), collection.map(str::to_string), subject.to_string());
        blocking(move || {
            this.loaded()?;
            let keys = this.store.remove_gallery_subject(collection.as_deref(), &subject)?;
            let mut index = this.index.write().map_err(|_| AppError::internal("gallery index lock poisoned"))?;
            if let Some(index) = index.as_mut() {
                keys.iter().for_each(|key| index.remove(*key));
            }
            Ok(keys.len())
        })
        .await
    }

    /// The subjects of `collection` most like `probe` (the face engine's encoding), best first: at most
    /// `max`, each scoring at least `min_score`, each subject once (its best template).
    pub async fn search(
        self: &Arc<Self>,
        collection: &str,
        probe: &[u8],
        max: usize,
        min_score: f32,
    ) -> Result<Vec<SubjectMatch>, AppError> {
        let probe = FaceTemplate::from_bytes(probe, &self.tag).map_err(|e| AppError::vision("face engine", e))?;
        let (this, collection) = (self.clone(), collection.to_string());
        blocking(move || {
            this.loaded()?;
            let index = this.index.read().map_err(|_| AppError::internal("gallery index lock poisoned"))?;
            let Some(index) = index.as_ref() else { return Ok(Vec::new()) };
            let Some(gallery) = index.collections.get(&collection) else { return Ok(Vec::new()) };
            // A subject has up to a few templates: ask for enough hits to fill `max` subjects.
            let hits = gallery
                .search(&probe.values, max.saturating_mul(3), RERANK_EXTRA, |key| this.exact(key))
                .map_err(|e| AppError::invalid(e.to_string()))?;
            let mut found: Vec<SubjectMatch> = Vec::new();
            for hit in hits {
                let Some((_, subject)) = index.owners.get(&hit.key) else { continue };
                let score = similarity_score(hit.cosine);
                if score < min_score || found.iter().any(|m| &m.subject == subject) {
                    continue;
                }
                found.push(SubjectMatch { subject: subject.clone(), score });
            }
            found.truncate(max);
            Ok(found)
        })
        .await
    }

    /// A stored template's values, for re-ranking; `None` when it cannot be read (it keeps its int8 score).
    fn exact(&self, key: u64) -> Option<Vec<f32>> {
        let bytes = self.store.gallery_template(key).ok()??;
        FaceTemplate::from_bytes(&bytes, &self.tag).ok().map(|t| t.values)
    }

    /// Builds the index from the store the first time it is needed, and again once another instance changed the
    /// gallery.
    fn loaded(&self) -> Result<(), AppError> {
        let mut changed = self.changes.lock().map_err(|_| AppError::internal("gallery changes lock poisoned"))?;
        if changed.any_about(vouch_store::changes::GALLERY) {
            *self.index.write().map_err(|_| AppError::internal("gallery index lock poisoned"))? = None;
        }
        drop(changed);
        if self.index.read().map_err(|_| AppError::internal("gallery index lock poisoned"))?.is_some() {
            return Ok(());
        }
        let mut slot = self.index.write().map_err(|_| AppError::internal("gallery index lock poisoned"))?;
        if slot.is_some() {
            return Ok(());
        }
        let mut index = Index { kind: self.kind, ..Index::default() };
        let stored = self.store.gallery_templates()?;
        let count = stored.len();
        for row in stored {
            match FaceTemplate::from_bytes(&row.template, &self.tag) {
                Ok(t) => index.insert(row.key, &row.collection, &row.subject, &t.values, self.threads),
                Err(e) => tracing::warn!(key = row.key, error = %e, "a gallery template of another model is left out"),
            }
        }
        let approximate = matches!(self.kind, IndexKind::Approximate(_));
        tracing::info!(templates = count, collections = index.collections.len(), approximate, "gallery index built");
        *slot = Some(index);
        Ok(())
    }
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T, AppError> + Send + 'static) -> Result<T, AppError> {
    tokio::task::spawn_blocking(f).await.map_err(|e| AppError::task("gallery", e))?
}

impl GalleryService {
    /// Brings the index in line with a change already committed to the store. When the index is not built
    /// yet nothing is done: it is built from the store, which holds the change.
    pub fn apply(&self, change: &vouch_store::gallery_persons::IndexChange) -> Result<(), AppError> {
        let mut index = self.index.write().map_err(|_| AppError::internal("gallery index lock poisoned"))?;
        let Some(index) = index.as_mut() else { return Ok(()) };
        change.removed.iter().for_each(|key| index.remove(*key));
        for row in &change.added {
            match FaceTemplate::from_bytes(&row.template, &self.tag) {
                Ok(t) => index.insert(row.key, &row.index, &row.subject, &t.values, self.threads),
                Err(e) => tracing::warn!(key = row.key, error = %e, "a gallery template of another model is left out"),
            }
        }
        Ok(())
    }

    /// The template tag of the engine this gallery holds templates of.
    pub fn tag(&self) -> [u8; 8] {
        self.tag
    }
}

//! Face recognition on photos an integrator sends (Verifik's face-recognition API runs on it): what a photo
//! shows, 1:1 comparison of photos, passive liveness, and a gallery of persons in collections searched 1:N.
//! Persons and collections belong to one API client; nothing here crosses from one client to another.

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::OnceCell;
use vouch_store::gallery_persons::{
    client_index, collection_index, EnrolledFace, GalleryCollection, GalleryPerson, PersonChanges, PersonCreated,
    PersonFacts, PersonQuery,
};
use vouch_store::Store;
use vouch_vision::geometry::{resize_region, Rect};
use vouch_vision::image::RgbImage;
use vouch_vision::score::similarity_score;
use vouch_vision::{Face, FaceEngine, FaceTemplate, ImageLimits};

use crate::faces::FaceService;
use crate::gallery::{GalleryService, IndexKind};
use crate::{AppCode, AppError};

/// The longest side of a stored thumbnail, in pixels.
const THUMBNAIL_SIDE: u32 = 120;

/// A face a photo shows.
#[derive(Debug, Clone)]
pub struct SeenFace {
    pub rect: Rect,
    pub confidence: f32,
    /// The face engine's template.
    pub template: Vec<u8>,
}

/// The face a photo presents (the largest, most central one), with what Vouch measures of it.
#[derive(Debug, Clone)]
pub struct Subject {
    pub face: SeenFace,
    /// Passive liveness (0..1): the probability that the photo was taken of a live person.
    pub liveness: f32,
    /// How many other faces the photo shows.
    pub others: usize,
    pub thumbnail_jpeg: Vec<u8>,
}

/// A person a search found, with the best score of any of their faces.
#[derive(Debug, Clone)]
pub struct PersonMatch {
    pub person: GalleryPerson,
    pub score: f32,
}

pub struct Recognition {
    pub store: Store,
    pub faces: Arc<FaceService>,
    threads: usize,
    index: IndexKind,
    gallery: OnceCell<Arc<GalleryService>>,
}

impl Recognition {
    pub fn new(store: Store, faces: Arc<FaceService>, threads: usize) -> Recognition {
        Self::with_index(store, faces, threads, IndexKind::Exact)
    }

    /// Recognition whose gallery is searched as `index` says.
    pub fn with_index(store: Store, faces: Arc<FaceService>, threads: usize, index: IndexKind) -> Recognition {
        Recognition { store, faces, threads, index, gallery: OnceCell::new() }
    }

    /// The gallery, for templates of the loaded engine.
    pub async fn gallery(&self) -> Result<Arc<GalleryService>, AppError> {
        self.gallery
            .get_or_try_init(|| async {
                let tag = self.faces.engine().await?.template_tag();
                Ok(GalleryService::with_index(self.store.clone(), tag, self.threads, self.index))
            })
            .await
            .cloned()
    }

    /// The face `photo` presents; [`AppCode::NoFace`] when it shows none.
    pub async fn subject(&self, photo: Vec<u8>) -> Result<Subject, AppError> {
        let limits = self.faces.limits;
        self.faces.run(move |engine| read_subject(engine, &photo, limits)).await?.ok_or_else(no_face)
    }

    /// Every face `photo` shows, largest first.
    pub async fn all_faces(&self, photo: Vec<u8>) -> Result<Vec<SeenFace>, AppError> {
        let limits = self.faces.limits;
        self.faces
            .run(move |engine| {
                let img = vouch_vision::decode(&photo, limits)?;
                let mut faces = engine.detect(&img)?.faces;
                faces.sort_by(|a, b| b.rect.area().total_cmp(&a.rect.area()));
                faces.iter().map(|face| seen(engine, &img, face)).collect()
            })
            .await
    }

    /// The best similarity score (0..1; 0.5 is the 1:1 match point) between a face of `probes` and a face of
    /// `references`; every photo must show a face.
    pub async fn compare(&self, probes: Vec<Vec<u8>>, references: Vec<Vec<u8>>) -> Result<f32, AppError> {
        let probes = self.templates(probes).await?;
        let references = self.templates(references).await?;
        Ok(best_score(&probes, &references))
    }

    /// The best similarity between the face a photo presented (`subject`) and a face of `references`.
    pub async fn compare_subject(&self, subject: &Subject, references: Vec<Vec<u8>>) -> Result<f32, AppError> {
        let probe = self.template_of(subject).await?;
        let references = self.templates(references).await?;
        Ok(best_score(&[probe], &references))
    }

    /// A subject's template, read back for comparison and search.
    pub async fn template_of(&self, subject: &Subject) -> Result<FaceTemplate, AppError> {
        let tag = self.faces.engine().await?.template_tag();
        FaceTemplate::from_bytes(&subject.face.template, &tag).map_err(|e| AppError::vision("face engine", e))
    }

    /// The subject templates of `photos`, in order.
    pub async fn templates(&self, photos: Vec<Vec<u8>>) -> Result<Vec<FaceTemplate>, AppError> {
        let tag = self.faces.engine().await?.template_tag();
        let mut templates = Vec::with_capacity(photos.len());
        for photo in photos {
            let subject = self.subject(photo).await?;
            templates.push(
                FaceTemplate::from_bytes(&subject.face.template, &tag)
                    .map_err(|e| AppError::vision("face engine", e))?,
            );
        }
        Ok(templates)
    }

    pub async fn create_collection(
        &self,
        client: &str,
        name: String,
        description: String,
        project: Option<String>,
    ) -> Result<GalleryCollection, AppError> {
        let client = client.to_string();
        self.db(move |s| s.create_gallery_collection(&client, &name, &description, project.as_deref())).await
    }

    pub async fn collection(&self, client: &str, id_or_code: &str) -> Result<GalleryCollection, AppError> {
        let (client, id) = (client.to_string(), id_or_code.to_string());
        self.db(move |s| s.gallery_collection(&client, &id)).await.map_err(|e| e.with_not_found("No such collection"))
    }

    pub async fn collections(
        &self,
        client: &str,
        name_contains: Option<String>,
    ) -> Result<Vec<GalleryCollection>, AppError> {
        let client = client.to_string();
        self.db(move |s| s.gallery_collections(&client, name_contains.as_deref())).await
    }

    pub async fn update_collection(
        &self,
        client: &str,
        id_or_code: &str,
        name: Option<String>,
        description: Option<String>,
        people: Option<Vec<String>>,
    ) -> Result<GalleryCollection, AppError> {
        let gallery = self.gallery().await?;
        let (client, id) = (client.to_string(), id_or_code.to_string());
        let (collection, change) = self
            .db(move |s| {
                s.update_gallery_collection(&client, &id, name.as_deref(), description.as_deref(), people.as_deref())
            })
            .await
            .map_err(|e| e.with_not_found("No such collection or person"))?;
        gallery.apply(&change)?;
        Ok(collection)
    }

    pub async fn delete_collection(
        &self,
        client: &str,
        id_or_code: &str,
        actor: &str,
    ) -> Result<GalleryCollection, AppError> {
        let gallery = self.gallery().await?;
        let (client, id, actor) = (client.to_string(), id_or_code.to_string(), actor.to_string());
        let (collection, change) = self
            .db(move |s| s.delete_gallery_collection(&client, &id, &actor))
            .await
            .map_err(|e| e.with_not_found("No such collection"))?;
        gallery.apply(&change)?;
        Ok(collection)
    }

    /// Enrols a person from 1 to 3 photos (the face each presents), unless the same person is already set.
    pub async fn enrol_person(
        &self,
        client: &str,
        facts: PersonFacts,
        collections: Vec<String>,
        photos: Vec<Vec<u8>>,
        actor: &str,
    ) -> Result<PersonCreated, AppError> {
        let subjects = self.subjects(photos).await?;
        self.enrol_subjects(client, facts, collections, &subjects, actor).await
    }

    /// Enrols a person with faces already read ([`Recognition::subjects`]).
    pub async fn enrol_subjects(
        &self,
        client: &str,
        facts: PersonFacts,
        collections: Vec<String>,
        subjects: &[Subject],
        actor: &str,
    ) -> Result<PersonCreated, AppError> {
        self.enrol(None, client, facts, collections, subjects, actor).await
    }

    /// Enrols the person case `case_id` onboards from its photo, and names them in the case's subject in the same
    /// transaction ([`vouch_store::Store::create_gallery_person_for_case`]).
    pub async fn enrol_for_case(
        &self,
        case_id: vouch_core::CaseId,
        client: &str,
        facts: PersonFacts,
        collections: Vec<String>,
        photo: Vec<u8>,
    ) -> Result<PersonCreated, AppError> {
        let subject = self.subject(photo).await?;
        let actor = format!("case:{case_id}");
        self.enrol(Some(case_id), client, facts, collections, std::slice::from_ref(&subject), &actor).await
    }

    async fn enrol(
        &self,
        for_case: Option<vouch_core::CaseId>,
        client: &str,
        facts: PersonFacts,
        collections: Vec<String>,
        subjects: &[Subject],
        actor: &str,
    ) -> Result<PersonCreated, AppError> {
        let gallery = self.gallery().await?;
        let faces: Vec<EnrolledFace> = subjects
            .iter()
            .map(|s| EnrolledFace { template: s.face.template.clone(), thumbnail_jpeg: s.thumbnail_jpeg.clone() })
            .collect();
        let (client, actor) = (client.to_string(), actor.to_string());
        let missing = if for_case.is_some() {
            "No such collection, or the case enrolled its person already"
        } else {
            "No such collection"
        };
        let created = self
            .db(move |s| match for_case {
                Some(case_id) => {
                    s.create_gallery_person_for_case(case_id, &client, &facts, &collections, &faces, &actor)
                }
                None => s.create_gallery_person(&client, &facts, &collections, &faces, &actor),
            })
            .await
            .map_err(|e| e.with_not_found(missing))?;
        if let PersonCreated::Created(_, change) = &created {
            gallery.apply(change)?;
        }
        Ok(created)
    }

    /// The face each photo presents, in order; [`AppCode::NoFace`] when one shows none.
    pub async fn subjects(&self, photos: Vec<Vec<u8>>) -> Result<Vec<Subject>, AppError> {
        let mut subjects = Vec::with_capacity(photos.len());
        for photo in photos {
            subjects.push(self.subject(photo).await?);
        }
        Ok(subjects)
    }

    /// The faces of `photos` as the gallery stores them.
    pub async fn enrolled_faces(&self, photos: Vec<Vec<u8>>) -> Result<Vec<EnrolledFace>, AppError> {
        Ok(self
            .subjects(photos)
            .await?
            .into_iter()
            .map(|s| EnrolledFace { template: s.face.template, thumbnail_jpeg: s.thumbnail_jpeg })
            .collect())
    }

    pub async fn person(&self, client: &str, id: &str) -> Result<GalleryPerson, AppError> {
        let (client, id) = (client.to_string(), id.to_string());
        self.db(move |s| s.gallery_person(&client, &id)).await.map_err(|e| e.with_not_found("No such person"))
    }

    pub async fn persons(&self, client: &str, query: PersonQuery) -> Result<(Vec<GalleryPerson>, u64), AppError> {
        let client = client.to_string();
        self.db(move |s| s.gallery_persons(&client, &query)).await.map_err(|e| e.with_not_found("No such collection"))
    }

    pub async fn update_person(
        &self,
        client: &str,
        id: &str,
        changes: PersonChanges,
    ) -> Result<GalleryPerson, AppError> {
        let gallery = self.gallery().await?;
        let (client, id) = (client.to_string(), id.to_string());
        let (person, change) = self
            .db(move |s| s.update_gallery_person(&client, &id, &changes))
            .await
            .map_err(|e| e.with_not_found("No such person or collection"))?;
        gallery.apply(&change)?;
        Ok(person)
    }

    /// Removes a person from one collection, or deletes them.
    pub async fn delete_person(
        &self,
        client: &str,
        id: &str,
        collection: Option<String>,
        actor: &str,
    ) -> Result<GalleryPerson, AppError> {
        let gallery = self.gallery().await?;
        let (client, id, actor) = (client.to_string(), id.to_string(), actor.to_string());
        let (person, change) = self
            .db(move |s| s.delete_gallery_person(&client, &id, collection.as_deref(), &actor))
            .await
            .map_err(|e| e.with_not_found("No such person or collection"))?;
        gallery.apply(&change)?;
        Ok(person)
    }

    /// The client's persons (in `collection` when given, its id or code) most like the faces of `photos`, best
    /// first: at most `max`, each scoring at least `min_score`.
    pub async fn search(
        &self,
        client: &str,
        collection: Option<&str>,
        photos: Vec<Vec<u8>>,
        max: usize,
        min_score: f32,
    ) -> Result<Vec<PersonMatch>, AppError> {
        let probes = self.templates(photos).await?;
        self.search_templates(client, collection, &probes, max, min_score).await
    }

    /// As [`Recognition::search`], with the probes' templates already made.
    pub async fn search_templates(
        &self,
        client: &str,
        collection: Option<&str>,
        probes: &[FaceTemplate],
        max: usize,
        min_score: f32,
    ) -> Result<Vec<PersonMatch>, AppError> {
        let index = match collection {
            Some(c) => collection_index(&self.collection(client, c).await?.id),
            None => client_index(client),
        };
        let gallery = self.gallery().await?;
        let mut best: HashMap<String, f32> = HashMap::new();
        for probe in probes {
            for hit in gallery.search(&index, &probe.to_bytes(), max, min_score).await? {
                let score = best.entry(hit.subject).or_insert(hit.score);
                *score = score.max(hit.score);
            }
        }
        let mut ranked: Vec<(String, f32)> = best.into_iter().collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
        ranked.truncate(max);
        let mut found = Vec::with_capacity(ranked.len());
        for (id, score) in ranked {
            // A person deleted since the search is left out.
            if let Ok(person) = self.person(client, &id).await {
                found.push(PersonMatch { person, score });
            }
        }
        Ok(found)
    }

    /// One template from the frames a case captured of its customer ([`crate::faces::probe_template`]);
    /// [`AppCode::NoFace`] when none shows a face.
    pub async fn probe_template(&self, frames: Vec<Vec<u8>>) -> Result<FaceTemplate, AppError> {
        let limits = self.faces.limits;
        self.faces.run(move |engine| crate::faces::probe_template(engine, &frames, limits)).await?.ok_or_else(no_face)
    }

    /// How well the faces of `photos` match the enrolled person `id` (the best of their faces).
    pub async fn verify(&self, client: &str, id: &str, photos: Vec<Vec<u8>>) -> Result<PersonMatch, AppError> {
        let person = self.person(client, id).await?;
        let probes = self.templates(photos).await?;
        self.score_person(client, person, &probes).await
    }

    /// As [`Recognition::verify`], with the probes' templates already made.
    pub async fn verify_templates(
        &self,
        client: &str,
        id: &str,
        probes: &[FaceTemplate],
    ) -> Result<PersonMatch, AppError> {
        let person = self.person(client, id).await?;
        self.score_person(client, person, probes).await
    }

    /// The best score between `probes` and the templates enrolled for `person`.
    async fn score_person(
        &self,
        client: &str,
        person: GalleryPerson,
        probes: &[FaceTemplate],
    ) -> Result<PersonMatch, AppError> {
        let tag = self.faces.engine().await?.template_tag();
        let (client_id, person_id) = (client.to_string(), person.id.clone());
        let stored = self.db(move |s| s.gallery_person_templates(&client_id, &person_id)).await?;
        let stored = stored
            .iter()
            .map(|t| FaceTemplate::from_bytes(t, &tag))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| AppError::vision("face engine", e))?;
        Ok(PersonMatch { person, score: best_score(probes, &stored) })
    }

    async fn db<T, F>(&self, f: F) -> Result<T, AppError>
    where
        T: Send + 'static,
        F: FnOnce(&Store) -> Result<T, vouch_store::StoreError> + Send + 'static,
    {
        crate::app::on_store(&self.store, f).await
    }
}

fn no_face() -> AppError {
    AppError::new(AppCode::NoFace, "No face was found in the image")
}

fn best_score(probes: &[FaceTemplate], references: &[FaceTemplate]) -> f32 {
    let mut best = 0.0f32;
    for p in probes {
        for r in references {
            best = best.max(similarity_score(p.cosine(r)));
        }
    }
    best
}

fn seen(engine: &FaceEngine, img: &RgbImage, face: &Face) -> vouch_vision::Result<SeenFace> {
    Ok(SeenFace { rect: face.rect, confidence: face.confidence, template: engine.template(img, face)?.to_bytes() })
}

/// The subject of a photo, with its liveness and thumbnail; `None` when the photo shows no face.
fn read_subject(engine: &FaceEngine, photo: &[u8], limits: ImageLimits) -> vouch_vision::Result<Option<Subject>> {
    let img = vouch_vision::decode(photo, limits)?;
    let detection = engine.detect(&img)?;
    let Some(face) = detection.subject else { return Ok(None) };
    let liveness = engine.passive_liveness(&img, &face)?;
    Ok(Some(Subject {
        face: seen(engine, &img, &face)?,
        liveness,
        others: detection.faces.len().saturating_sub(1),
        thumbnail_jpeg: thumbnail(&img, &face)?,
    }))
}

/// The face with a margin around it, at most [`THUMBNAIL_SIDE`] pixels a side, as JPEG.
fn thumbnail(img: &RgbImage, face: &Face) -> vouch_vision::Result<Vec<u8>> {
    let region = face.rect.grown_within(1.6, img.width(), img.height());
    let scale = (THUMBNAIL_SIDE as f32 / region.width().max(region.height()).max(1.0)).min(1.0);
    let (w, h) = ((region.width() * scale).round().max(1.0) as u32, (region.height() * scale).round().max(1.0) as u32);
    vouch_vision::image_io::encode_jpeg(&resize_region(img, region, w, h), 85)
}

/// A tight face crop (Verifik's `search/crops`, about 120×120) set in the middle of a plain frame three times its
/// size, so the detector sees a face with room around it as in a photo; a larger image is returned as it is.
pub async fn framed_crop(crop: Vec<u8>, limits: ImageLimits) -> Result<Vec<u8>, AppError> {
    tokio::task::spawn_blocking(move || {
        let img = vouch_vision::decode(&crop, limits)?;
        if img.width().max(img.height()) > 2 * THUMBNAIL_SIDE {
            return Ok(crop);
        }
        let (w, h) = (img.width() * 3, img.height() * 3);
        let mut frame = RgbImage::from_pixel(w, h, vouch_vision::image::Rgb([128, 128, 128]));
        vouch_vision::image::imageops::replace(&mut frame, &img, i64::from(img.width()), i64::from(img.height()));
        vouch_vision::image_io::encode_png(&frame)
    })
    .await
    .map_err(|e| AppError::task("crop framing", e))?
    .map_err(|e| AppError::vision("face engine", e))
}

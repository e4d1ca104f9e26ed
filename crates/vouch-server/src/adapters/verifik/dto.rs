//! The shapes of Verifik's collections, persons and search results, as its clients read them.

use base64::Engine;
use serde::Serialize;
use utoipa::ToSchema;
use vouch_store::gallery_persons::{GalleryCollection, GalleryPerson};

use crate::adapters::rfc3339;

#[derive(Debug, Serialize, ToSchema)]
pub struct CollectionDto {
    #[serde(rename = "_id")]
    pub id: String,
    /// A UUID; the search endpoints take it (or the `_id`) as `collection_id`.
    pub code: String,
    pub name: String,
    pub description: String,
    pub client: String,
    pub project: Option<String>,
    pub deleted: bool,
    #[serde(rename = "createdAt")]
    pub created_at: String,
    #[serde(rename = "updatedAt")]
    pub updated_at: String,
    #[serde(rename = "__v")]
    pub version: u32,
}

impl From<GalleryCollection> for CollectionDto {
    fn from(c: GalleryCollection) -> Self {
        CollectionDto {
            id: c.id,
            code: c.code,
            name: c.name,
            description: c.description,
            client: c.client_id,
            project: c.project,
            deleted: false,
            created_at: rfc3339(c.created_at),
            updated_at: rfc3339(c.updated_at),
            version: 0,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ThumbnailDto {
    pub id: String,
    /// A JPEG of the face, in base64.
    pub thumbnail: String,
}

/// `{year, month, day}`, as Verifik's person object carries a birth date.
#[derive(Debug, Serialize, ToSchema)]
pub struct DateDto {
    pub year: i32,
    pub month: u8,
    pub day: u8,
}

fn date_dto(date: Option<&str>) -> Option<DateDto> {
    let date = date?;
    let mut parts = date.splitn(3, '-');
    Some(DateDto {
        year: parts.next()?.parse().ok()?,
        month: parts.next()?.parse().ok()?,
        day: parts.next()?.parse().ok()?,
    })
}

fn thumbnails(person: &GalleryPerson) -> Vec<ThumbnailDto> {
    person
        .thumbnails
        .iter()
        .map(|t| ThumbnailDto {
            id: t.id.clone(),
            thumbnail: base64::engine::general_purpose::STANDARD.encode(&t.jpeg),
        })
        .collect()
}

/// A collection as `persons/lookup` names it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CollectionRefDto {
    #[serde(rename = "_id")]
    pub id: String,
    pub code: String,
    pub name: String,
}

/// A person; `C` is how their collections are named: their `_id`s, or [`CollectionRefDto`] in a lookup.
#[derive(Debug, Serialize, ToSchema)]
pub struct PersonDto<C = String> {
    #[serde(rename = "_id")]
    pub id: String,
    pub name: String,
    /// `M` or `F`, when given.
    pub gender: Option<String>,
    pub date_of_birth: Option<DateDto>,
    pub nationality: Option<String>,
    pub notes: Option<String>,
    /// `active`.
    pub status: String,
    pub client: String,
    /// The person's collections.
    pub collections: Vec<C>,
    pub thumbnails: Vec<ThumbnailDto>,
    #[serde(rename = "createdAt")]
    pub created_at: String,
    #[serde(rename = "updatedAt")]
    pub updated_at: String,
    #[serde(rename = "__v")]
    pub version: u32,
}

impl<C> PersonDto<C> {
    /// The person, with their collections named as `collections`.
    pub fn new(p: &GalleryPerson, collections: Vec<C>) -> PersonDto<C> {
        PersonDto {
            id: p.id.clone(),
            name: p.facts.name.clone(),
            gender: p.facts.gender.clone(),
            date_of_birth: date_dto(p.facts.date_of_birth.as_deref()),
            nationality: p.facts.nationality.clone(),
            notes: p.facts.notes.clone(),
            status: p.status.clone(),
            client: p.client_id.clone(),
            collections,
            thumbnails: thumbnails(p),
            created_at: rfc3339(p.created_at),
            updated_at: rfc3339(p.updated_at),
            version: 0,
        }
    }
}

impl From<&GalleryPerson> for PersonDto {
    fn from(p: &GalleryPerson) -> Self {
        PersonDto::new(p, p.collections.clone())
    }
}

/// A person a search found, as `/search` answers it.
#[derive(Debug, Serialize, ToSchema)]
pub struct FoundPersonDto {
    pub id: String,
    pub name: String,
    /// The similarity (0..1; 0.5 is Vouch's 1:1 match point, see docs/verifik.md).
    pub score: f64,
    pub gender: Option<String>,
    pub date_of_birth: Option<DateDto>,
    pub nationality: Option<String>,
    pub notes: Option<String>,
    pub thumbnails: Vec<ThumbnailDto>,
    pub collections: Vec<String>,
    pub create_date: String,
    pub modified_date: String,
}

impl FoundPersonDto {
    pub fn new(person: &GalleryPerson, score: f32) -> FoundPersonDto {
        let p = PersonDto::from(person);
        FoundPersonDto {
            id: p.id,
            name: p.name,
            score: round(score),
            gender: p.gender,
            date_of_birth: p.date_of_birth,
            nationality: p.nationality,
            notes: p.notes,
            thumbnails: p.thumbnails,
            collections: p.collections,
            create_date: p.created_at,
            modified_date: p.updated_at,
        }
    }
}

/// `{id, score}`, as the active-user and crop searches answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScoredIdDto {
    pub id: String,
    pub score: f64,
}

/// Scores to four places, as a person reads them (and as JSON writes them: an f32 would print 0.8500000238).
pub fn round(score: f32) -> f64 {
    (f64::from(score) * 10_000.0).round() / 10_000.0
}

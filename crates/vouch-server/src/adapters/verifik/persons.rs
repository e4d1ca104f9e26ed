//! Verifik's persons under `/verifik/v2/face-recognition/persons`: enrol with 1 to 3 photos, list with
//! Verifik's list parameters, get, update, delete (from one collection with `?collection=`), `lookup` by name,
//! and `search-live-face`, which enrols only a live face that is not already in the collection. A person of
//! the same name and birth date already in one of the collections is refused with 412 `person_already_set`
//! and that person in `data`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use utoipa_axum::{router::OpenApiRouter, routes};
use vouch_store::gallery_persons::{GalleryPerson, PersonChanges, PersonCreated, PersonFacts, PersonQuery};

use super::dto::{CollectionRefDto, PersonDto};
use super::params::{search_mode, Fields, QueryFields};
use super::{envelope, ok, record_not_found, VerifikResult};
use crate::error::ApiError;
use crate::extract::Authed;
use crate::state::AppState;

const LIST_LIMIT_DEFAULT: u32 = 20;
const LIST_LIMIT_MAX: u32 = 100;
/// `persons/search-live-face`'s minimums when the caller gives none.
const DUPLICATE_MIN_SCORE_DEFAULT: f32 = 0.85;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_person, list_persons))
        .routes(routes!(lookup_persons))
        .routes(routes!(search_live_face_person))
        .routes(routes!(get_person, update_person, delete_person))
}

/// Name, gender, birth date, nationality and notes, as given.
fn facts(fields: &Fields, name: String) -> Result<PersonFacts, ApiError> {
    Ok(PersonFacts {
        name,
        gender: fields.one_of("gender", &["M", "F"])?,
        date_of_birth: fields.date("date_of_birth")?,
        nationality: fields.text("nationality", 100)?,
        notes: fields.text("notes", 2000)?,
    })
}

fn required_name(fields: &Fields) -> Result<String, ApiError> {
    fields.text("name", 200)?.ok_or_else(|| ApiError::invalid("\"name\" is required"))
}

/// 412 `person_already_set`, with the person already enrolled in `data`.
fn already_set(person: &GalleryPerson) -> Response {
    let body = json!({"message": "person_already_set", "code": "PreconditionFailed", "data": PersonDto::from(person)});
    (StatusCode::PRECONDITION_FAILED, Json(body)).into_response()
}

fn created(result: PersonCreated) -> Response {
    match result {
        PersonCreated::Created(person, _) => ok(PersonDto::from(&person)),
        PersonCreated::AlreadySet(person) => already_set(&person),
    }
}

#[utoipa::path(post, path = "/verifik/v2/face-recognition/persons", tag = "Verifik", security(("bearer" = [])),
    request_body(content = Object, description = "name (required), images [base64, 1-3] (required), gender (M, F), date_of_birth (ISO date or {year, month, day}), nationality, collections [_id or code], notes"),
    responses((status = 200, body = PersonDto), (status = 404, description = "no such collection"),
        (status = 409, description = "a missing or bad field (MissingParameter)"),
        (status = 412, description = "person_already_set (the person in data), only_images_in_base64, or a photo without a face")))]
async fn create_person(
    State(state): State<AppState>,
    Authed(client): Authed,
    fields: Fields,
) -> VerifikResult<Response> {
    let facts = facts(&fields, required_name(&fields)?)?;
    let collections = fields.strings("collections")?.unwrap_or_default();
    let images = fields.images(&state, "images", 3).await?;
    let result = state
        .recognition
        .enrol_person(&client.id, facts, collections, images, &client.id)
        .await
        .map_err(|e| record_not_found(e.into()))?;
    Ok(created(result))
}

/// `page`, `limit` and `offset` as Verifik's lists read them.
fn paging(fields: &Fields) -> Result<(Option<u32>, u32, u32), ApiError> {
    let page = fields.integer("page", 1, 1_000_000)?;
    let limit = fields.integer("limit", 1, LIST_LIMIT_MAX)?.or(fields.integer("perPage", 1, LIST_LIMIT_MAX)?);
    let limit = limit.unwrap_or(LIST_LIMIT_DEFAULT);
    let offset = match (page, fields.integer("offset", 0, u32::MAX / 2)?) {
        (_, Some(offset)) => offset,
        (Some(page), None) => (page - 1).saturating_mul(limit),
        (None, None) => 0,
    };
    Ok((page, limit, offset))
}

fn pagination(page: u32, limit: u32, total: u64) -> Value {
    json!({"page": page, "limit": limit, "total": total, "pages": total.div_ceil(u64::from(limit))})
}

#[utoipa::path(get, path = "/verifik/v2/face-recognition/persons", tag = "Verifik", security(("bearer" = [])),
    params(("page" = Option<u32>, Query, description = "With page, data is {docs, pagination}"),
        ("limit" = Option<u32>, Query, description = "At most 100; 20 when absent"), ("offset" = Option<u32>, Query),
        ("sort" = Option<String>, Query, description = "-createdAt (newest first) or createdAt"),
        ("like_name" = Option<String>, Query), ("collection" = Option<String>, Query, description = "_id or code"),
        ("status" = Option<String>, Query)),
    responses((status = 200, body = [PersonDto])))]
async fn list_persons(
    State(state): State<AppState>,
    Authed(client): Authed,
    QueryFields(fields): QueryFields,
) -> VerifikResult<Response> {
    let (page, limit, offset) = paging(&fields)?;
    let newest_first = fields.string("sort")?.is_some_and(|s| s.starts_with('-'));
    let query = PersonQuery {
        name_contains: fields.text("like_name", 200)?,
        collection: fields.string("collection")?,
        status: fields.one_of("status", &["active", "inactive", "pending"])?.map(|s| s.to_ascii_lowercase()),
        date_of_birth: None,
        newest_first,
        offset,
        limit,
    };
    let (persons, total) =
        state.recognition.persons(&client.id, query).await.map_err(|e| record_not_found(e.into()))?;
    let docs: Vec<PersonDto> = persons.iter().map(PersonDto::from).collect();
    Ok(match page {
        Some(page) => ok(json!({"docs": docs, "pagination": pagination(page, limit, total)})),
        None => ok(docs),
    })
}

/// Persons whose name contains `name` (any case; at least 3 letters once digits are taken out).
#[utoipa::path(get, path = "/verifik/v2/face-recognition/persons/lookup", tag = "Verifik", security(("bearer" = [])),
    params(("name" = String, Query), ("date_of_birth" = Option<String>, Query), ("page" = Option<u32>, Query), ("limit" = Option<u32>, Query)),
    responses((status = 200, description = "{data: [person with collections [{_id, code, name}]], total}"), (status = 409)))]
async fn lookup_persons(
    State(state): State<AppState>,
    Authed(client): Authed,
    QueryFields(fields): QueryFields,
) -> VerifikResult<Response> {
    let name = fields.required_string("name")?;
    let name: String = name.chars().filter(|c| !c.is_ascii_digit()).collect::<String>().trim().to_string();
    if name.chars().count() < 3 {
        return Err(ApiError::invalid("\"name\" length must be at least 3 characters long").into());
    }
    let (_, limit, offset) = paging(&fields)?;
    let query = PersonQuery {
        name_contains: Some(name),
        collection: None,
        status: None,
        date_of_birth: fields.date("date_of_birth")?,
        newest_first: false,
        offset,
        limit,
    };
    let (persons, total) = state.recognition.persons(&client.id, query).await?;
    let collections: Vec<CollectionRefDto> = state
        .recognition
        .collections(&client.id, None)
        .await?
        .into_iter()
        .map(|c| CollectionRefDto { id: c.id, code: c.code, name: c.name })
        .collect();
    let named = |p: &GalleryPerson| collections.iter().filter(|c| p.collections.contains(&c.id)).cloned().collect();
    let docs: Vec<PersonDto<CollectionRefDto>> = persons.iter().map(|p| PersonDto::new(p, named(p))).collect();
    let mut answer = envelope(docs);
    answer.total = Some(total);
    Ok(Json(answer).into_response())
}

/// Enrols a live face that is not yet in the collection: 409 `liveness_failed` for a face that is not live,
/// 409 `duplicated_person` (the person found in `data`) for one already enrolled.
#[utoipa::path(post, path = "/verifik/v2/face-recognition/persons/search-live-face", tag = "Verifik", security(("bearer" = [])),
    request_body(content = Object, description = "name, images [base64, 1-3], gender, date_of_birth, nationality, collection_id (_id or code), liveness_min_score (0.5-1, default 0.6), min_score (0.5-1, default 0.85), search_mode"),
    responses((status = 200, body = PersonDto), (status = 409, description = "duplicated_person, liveness_failed or a bad field"), (status = 412)))]
async fn search_live_face_person(
    State(state): State<AppState>,
    Authed(client): Authed,
    fields: Fields,
) -> VerifikResult<Response> {
    let facts = facts(&fields, required_name(&fields)?)?;
    let liveness_min = fields.number("liveness_min_score", 0.5, 1.0)?.unwrap_or(super::faces::LIVENESS_MIN_SCORE);
    let min = fields.number("min_score", 0.5, 1.0)?.unwrap_or(DUPLICATE_MIN_SCORE_DEFAULT);
    search_mode(&fields)?;
    let collection = fields.string("collection_id")?;
    let images = fields.images(&state, "images", 3).await?;
    // Each photo is read once: the first must be live, all are searched, and then enrolled.
    let subjects = state.recognition.subjects(images).await?;
    if let Some(first) = subjects.first() {
        super::search::require_live(first, liveness_min)?;
    }
    let mut probes = Vec::with_capacity(subjects.len());
    for subject in &subjects {
        probes.push(state.recognition.template_of(subject).await?);
    }
    let found = state
        .recognition
        .search_templates(&client.id, collection.as_deref(), &probes, 1, min)
        .await
        .map_err(|e| record_not_found(e.into()))?;
    if let Some(duplicate) = found.first() {
        let body = json!({
            "message": "duplicated_person", "code": "Conflict",
            "data": super::dto::FoundPersonDto::new(&duplicate.person, duplicate.score),
        });
        return Ok((StatusCode::CONFLICT, Json(body)).into_response());
    }
    let result = state
        .recognition
        .enrol_subjects(&client.id, facts, collection.into_iter().collect(), &subjects, &client.id)
        .await
        .map_err(|e| record_not_found(e.into()))?;
    Ok(created(result))
}

#[utoipa::path(get, path = "/verifik/v2/face-recognition/persons/{id}", tag = "Verifik", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, body = PersonDto), (status = 404)))]
async fn get_person(
    State(state): State<AppState>,
    Authed(client): Authed,
    Path(id): Path<String>,
) -> VerifikResult<Response> {
    let person = state.recognition.person(&client.id, &id).await.map_err(|e| record_not_found(e.into()))?;
    Ok(ok(PersonDto::from(&person)))
}

#[utoipa::path(put, path = "/verifik/v2/face-recognition/persons/{id}", tag = "Verifik", security(("bearer" = [])),
    params(("id" = String, Path)),
    request_body(content = Object, description = "any of name, images [1-3] (replace the faces), gender, date_of_birth, nationality, collections (the person's collections become exactly these), notes"),
    responses((status = 200, body = PersonDto), (status = 404), (status = 409), (status = 412)))]
async fn update_person(
    State(state): State<AppState>,
    Authed(client): Authed,
    Path(id): Path<String>,
    fields: Fields,
) -> VerifikResult<Response> {
    let faces = match fields.has("images") {
        true => Some(state.recognition.enrolled_faces(fields.images(&state, "images", 3).await?).await?),
        false => None,
    };
    let changes = PersonChanges {
        name: fields.text("name", 200)?,
        gender: fields.one_of("gender", &["M", "F"])?,
        date_of_birth: fields.date("date_of_birth")?,
        nationality: fields.text("nationality", 100)?,
        notes: fields.text("notes", 2000)?,
        collections: fields.strings("collections")?,
        faces,
    };
    let person =
        state.recognition.update_person(&client.id, &id, changes).await.map_err(|e| record_not_found(e.into()))?;
    Ok(ok(PersonDto::from(&person)))
}

#[utoipa::path(delete, path = "/verifik/v2/face-recognition/persons/{id}", tag = "Verifik", security(("bearer" = [])),
    params(("id" = String, Path), ("collection" = Option<String>, Query, description = "Remove the person from this collection only")),
    responses((status = 200, description = "{_id}"), (status = 404)))]
async fn delete_person(
    State(state): State<AppState>,
    Authed(client): Authed,
    Path(id): Path<String>,
    QueryFields(fields): QueryFields,
) -> VerifikResult<Response> {
    let collection = fields.string("collection")?;
    let person = state
        .recognition
        .delete_person(&client.id, &id, collection, &client.id)
        .await
        .map_err(|e| record_not_found(e.into()))?;
    Ok(ok(json!({"_id": person.id})))
}

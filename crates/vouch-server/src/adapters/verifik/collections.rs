//! Verifik's face-recognition collections: create, list (`like_name`), get, update (name, description, and
//! `people` to set the members) and delete (the persons stay, in their other collections). A collection is named
//! by its `_id` or its `code` everywhere.

use axum::extract::{Path, State};
use axum::response::Response;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::dto::CollectionDto;
use super::params::{Fields, QueryFields};
use super::{ok, record_not_found, VerifikResult};
use crate::extract::Authed;
use crate::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(create_collection, list_collections)).routes(routes!(
        get_collection,
        update_collection,
        delete_collection
    ))
}

#[utoipa::path(post, path = "/verifik/v2/face-recognition/collections", tag = "Verifik", security(("bearer" = [])),
    request_body(content = Object, description = "name (required), description, project"),
    responses((status = 200, body = CollectionDto), (status = 409, description = "\"name\" is required")))]
async fn create_collection(
    State(state): State<AppState>,
    Authed(client): Authed,
    fields: Fields,
) -> VerifikResult<Response> {
    let name = fields.text("name", 200)?.ok_or_else(|| crate::error::ApiError::invalid("\"name\" is required"))?;
    let description = fields.text("description", 2000)?.unwrap_or_default();
    let project = fields.text("project", 100)?;
    let collection = state.recognition.create_collection(&client.id, name, description, project).await?;
    Ok(ok(CollectionDto::from(collection)))
}

#[utoipa::path(get, path = "/verifik/v2/face-recognition/collections", tag = "Verifik", security(("bearer" = [])),
    params(("like_name" = Option<String>, Query, description = "Part of the name, any case")),
    responses((status = 200, body = [CollectionDto])))]
async fn list_collections(
    State(state): State<AppState>,
    Authed(client): Authed,
    QueryFields(fields): QueryFields,
) -> VerifikResult<Response> {
    let like = fields.text("like_name", 200)?;
    let collections = state.recognition.collections(&client.id, like).await?;
    Ok(ok(collections.into_iter().map(CollectionDto::from).collect::<Vec<_>>()))
}

#[utoipa::path(get, path = "/verifik/v2/face-recognition/collections/{id}", tag = "Verifik", security(("bearer" = [])),
    params(("id" = String, Path, description = "The collection's _id or code")),
    responses((status = 200, body = CollectionDto), (status = 404)))]
async fn get_collection(
    State(state): State<AppState>,
    Authed(client): Authed,
    Path(id): Path<String>,
) -> VerifikResult<Response> {
    let collection = state.recognition.collection(&client.id, &id).await.map_err(|e| record_not_found(e.into()))?;
    Ok(ok(CollectionDto::from(collection)))
}

#[utoipa::path(put, path = "/verifik/v2/face-recognition/collections/{id}", tag = "Verifik", security(("bearer" = [])),
    params(("id" = String, Path, description = "The collection's _id or code")),
    request_body(content = Object, description = "name, description, people (the persons' _ids: the members become exactly these)"),
    responses((status = 200, body = CollectionDto), (status = 404)))]
async fn update_collection(
    State(state): State<AppState>,
    Authed(client): Authed,
    Path(id): Path<String>,
    fields: Fields,
) -> VerifikResult<Response> {
    let name = fields.text("name", 200)?;
    let description = fields.text("description", 2000)?;
    let people = fields.strings("people")?;
    let collection = state
        .recognition
        .update_collection(&client.id, &id, name, description, people)
        .await
        .map_err(|e| record_not_found(e.into()))?;
    Ok(ok(CollectionDto::from(collection)))
}

#[utoipa::path(delete, path = "/verifik/v2/face-recognition/collections/{id}", tag = "Verifik", security(("bearer" = [])),
    params(("id" = String, Path, description = "The collection's _id or code")),
    responses((status = 200, body = CollectionDto, description = "The deleted collection"), (status = 404)))]
async fn delete_collection(
    State(state): State<AppState>,
    Authed(client): Authed,
    Path(id): Path<String>,
) -> VerifikResult<Response> {
    let collection = state
        .recognition
        .delete_collection(&client.id, &id, &client.id)
        .await
        .map_err(|e| record_not_found(e.into()))?;
    let mut dto = CollectionDto::from(collection);
    dto.deleted = true;
    Ok(ok(dto))
}

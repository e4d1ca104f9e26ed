//! Verifik's document validation of an app registration (`POST /verifik/v2/document-validations/app-registration`):
//! the registrant photographs or scans their identity document, with their own token, and Vouch's page reader
//! reads its MRZ. The validation is `VALIDATED` when an MRZ is read and every check digit holds, else `FAILED`.
//! The names it prints are compared with those the registrant gave. Only the outcome is kept (the kind of
//! document, its country, the checks and the name match), never the document number, birth date or image: the
//! store keeps Verifik's records in clear, and these are not the integrator's to keep here.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};
use utoipa_axum::{router::OpenApiRouter, routes};
use vouch_core::mrz::Mrz;
use vouch_store::api_records::{new_id, NewRecord, RecordWrite};

use super::params::{Fields, QueryFields};
use super::records::{Kind, Object};
use super::{conflict, ok, records, VerifikResult, API};
use crate::error::{ApiError, Failure, Verifik};
use crate::extract::Authed;
use crate::state::AppState;

const KIND: &str = "document_validation";
/// A name matches at this share of its letters or more (an MRZ cuts and transliterates names).
const NAME_MATCH_PERCENT: f64 = 80.0;

/// The registrant's own route: authorised by their registration token.
pub fn session_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(app_registration))
}

/// The integrator's routes: reading and deleting its document validations.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list)).routes(routes!(get_one, delete_one))
}

const DOCUMENT_VALIDATION: Kind = Kind {
    kind: KIND,
    build: made_by_registrants,
    filters: &["status", "documentType", "validationMethod", "type", "inputMethod", "appRegistration"],
};

fn made_by_registrants(_: &Fields, _: Option<&Object>) -> Result<Object, ApiError> {
    Err(ApiError::invalid("a document validation is made by POST /verifik/v2/document-validations/app-registration"))
}

/// Page through the caller's document validations (`where_status`, `where_documentType`, ...).
#[utoipa::path(get, path = "/verifik/v2/document-validations", tag = "Verifik", security(("bearer" = [])),
    params(("page" = Option<u32>, Query), ("perPage" = Option<u32>, Query), ("where_status" = Option<String>, Query)),
    responses((status = 200, description = "`{docs, pagination}`")))]
async fn list(
    State(state): State<AppState>,
    Authed(client): Authed,
    QueryFields(fields): QueryFields,
) -> VerifikResult<Response> {
    Ok(ok(records::list_value(&state, &client.id, &DOCUMENT_VALIDATION, &fields).await?))
}

#[utoipa::path(get, path = "/verifik/v2/document-validations/{id}", tag = "Verifik", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200), (status = 404)))]
async fn get_one(
    State(state): State<AppState>,
    Authed(client): Authed,
    Path(id): Path<String>,
) -> VerifikResult<Response> {
    Ok(ok(records::read_value(&state, &client.id, &DOCUMENT_VALIDATION, id).await?))
}

/// Deletes a document validation; the registration that named it keeps its step.
#[utoipa::path(delete, path = "/verifik/v2/document-validations/{id}", tag = "Verifik", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200), (status = 404)))]
async fn delete_one(
    State(state): State<AppState>,
    Authed(client): Authed,
    Path(id): Path<String>,
) -> VerifikResult<Response> {
    Ok(ok(records::delete_value(&state, &client.id, &DOCUMENT_VALIDATION, id).await?))
}

/// Read the registrant's document (`image`, `backImage`, or both) and record what it says of them.
#[utoipa::path(post, path = "/verifik/v2/document-validations/app-registration", tag = "Verifik", security(("bearer" = [])),
    request_body(content = Object, description = "image and/or backImage (base64), force (replace an earlier one)"),
    responses((status = 200, description = "`{documentValidation}`: status VALIDATED or FAILED, documentType, the name match"),
              (status = 401), (status = 404, description = "appRegistration_not_found"),
              (status = 409, description = "Either image or backImage must be provided (MissingParameter); already_exists; appRegistration_not_active")))]
async fn app_registration(State(state): State<AppState>, headers: HeaderMap, fields: Fields) -> Response {
    inner(state, headers, fields).await.unwrap_or_else(Failure::<Verifik>::into_response)
}

async fn inner(state: AppState, headers: HeaderMap, fields: Fields) -> VerifikResult<Response> {
    let (client, registration) = super::app_registrations::registration(&state, &headers).await?;
    let body = &registration.body;
    let text = |n: &str| body.get(n).and_then(Value::as_str).map(str::to_string);
    if !matches!(text("status").as_deref(), Some("STARTED" | "ONGOING")) {
        return Err(conflict("appRegistration_not_active"))?;
    }
    if body.get("documentValidation").is_some_and(Value::is_string) && fields.boolean("force")? != Some(true) {
        return Err(conflict("already_exists"))?;
    }
    let mut photos = Vec::new();
    for name in ["image", "backImage"] {
        if fields.has(name) {
            photos.push(fields.image(&state, name).await?);
        }
    }
    if photos.is_empty() {
        return Err(ApiError::invalid("Either image or backImage must be provided"))?;
    }
    let mrz = read_mrz(&state, photos).await?;
    let mut validation = outcome(mrz.as_ref(), body);
    for (name, value) in [
        ("appRegistration", json!(registration.id)),
        ("project", body.get("project").cloned().unwrap_or(Value::Null)),
        ("projectFlow", body.get("projectFlow").cloned().unwrap_or(Value::Null)),
        ("validationMethod", json!("MRZ")),
        ("inputMethod", json!("FILE_UPLOAD")),
        ("type", json!("validation")),
    ] {
        validation.insert(name.into(), value);
    }
    let id = new_id();
    let announced = validation.clone();
    let mut progress = Map::new();
    progress.insert("documentValidation".into(), json!(id));
    progress.insert("status".into(), json!("ONGOING"));
    progress.insert("step".into(), json!("document"));
    let writes = [
        RecordWrite::InsertAs(
            id.clone(),
            NewRecord { api: API.into(), kind: KIND.into(), client_id: client.id.clone(), body: validation },
        ),
        RecordWrite::Merge {
            api: API.into(),
            kind: "app_registration".into(),
            client_id: client.id.clone(),
            id: registration.id.clone(),
            fields: progress,
        },
    ];
    let (owner, retries, created) = (client.clone(), state.app.webhooks.retries, id.clone());
    state
        .db(move |s| {
            // Announced as Verifik announces it, to the targets of the registration's flow.
            let data = records::answer_new(&created, &announced, &owner.id);
            let event = "document_validation_created";
            let events = super::validations::record_events(s, &owner, retries, (&created, &announced), event, &data)?;
            s.write_api_records(&writes, &events)
        })
        .await?;
    let owner = client.id.clone();
    let saved = state
        .db(move |s| {
            s.api_record(vouch_store::api_records::RecordKind { api: API, kind: KIND, client_id: &owner }, &id)
        })
        .await?;
    let status = saved.body.get("status").and_then(Value::as_str).unwrap_or_default().to_string();
    tracing::info!(client_id = %client.id, %status, "Verifik app registration document read");
    Ok(ok(json!({"documentValidation": records::answer(saved, &client.id)})))
}

/// The first MRZ any of the photos shows, read by the page reader off the async workers.
async fn read_mrz(state: &AppState, photos: Vec<Vec<u8>>) -> Result<Option<(Mrz, bool)>, ApiError> {
    let limits = state.faces.limits;
    state
        .documents
        .run(move |reader| {
            for bytes in &photos {
                let frame = vouch_vision::decode(bytes, limits)?;
                if let Some(read) = reader.read(&frame)?.and_then(|page| page.mrz) {
                    let valid = read.valid();
                    return Ok(Some((read.mrz, valid)));
                }
            }
            Ok(None)
        })
        .await
        .map_err(ApiError::from)
}

/// What the document says of the registrant: its kind and country, whether its MRZ holds, and how well its names
/// match those the registrant gave.
fn outcome(mrz: Option<&(Mrz, bool)>, registrant: &Map<String, Value>) -> Map<String, Value> {
    let mut out = Map::new();
    let Some((mrz, valid)) = mrz else {
        out.insert("status".into(), json!("FAILED"));
        out.insert("failureReason".into(), json!("no_mrz_found"));
        out.insert("imageValidated".into(), json!(false));
        out.insert("namesMatch".into(), json!(false));
        return out;
    };
    let kind = match vouch_core::mrz::document_kind(&mrz.document_code) {
        "passport" => "Passport",
        "identity-card" => "ID",
        "visa" => "Visa",
        _ => "Unknown",
    };
    let given = mrz_name(&mrz.secondary_identifier);
    let surname = mrz_name(&mrz.primary_identifier);
    let name = |n: &str| registrant.get(n).and_then(Value::as_str).map(latin_letters);
    let first = name("firstName").map(|f| similarity(&f, &given));
    let last = name("lastName").map(|l| similarity(&l, &surname));
    let full = name("fullName").map(|f| {
        // Either order: "ANNA MARIA ERIKSSON" or "ERIKSSON ANNA MARIA".
        similarity(&f, &format!("{given} {surname}")).max(similarity(&f, &format!("{surname} {given}")))
    });
    let full = full.or_else(|| Some((first? + last?) / 2.0));
    let names_match = full.is_some_and(|f| f >= NAME_MATCH_PERCENT);
    for (field, value) in [
        ("status", json!(if *valid { "VALIDATED" } else { "FAILED" })),
        ("documentType", json!(kind)),
        ("documentCategory", json!("ID")),
        ("country", json!(mrz.issuing_state.replace('<', ""))),
        ("imageValidated", json!(valid)),
        ("namesMatch", json!(names_match)),
        ("fullNameMatchPercentage", json!(full.unwrap_or(0.0).round())),
        ("firstNameMatchPercentage", json!(first.unwrap_or(0.0).round())),
        ("lastNameMatchPercentage", json!(last.unwrap_or(0.0).round())),
    ] {
        out.insert(field.into(), value);
    }
    if !valid {
        out.insert("failureReason".into(), json!("mrz_check_digits_do_not_hold"));
    }
    out
}

/// An MRZ name field as words: `ANNA<MARIA` is `ANNA MARIA`.
fn mrz_name(field: &str) -> String {
    field.split('<').filter(|w| !w.is_empty()).collect::<Vec<_>>().join(" ")
}

/// A name as an MRZ would print it, near enough: upper case, accents dropped as ICAO 9303 transliterates the
/// common ones, other letters left out, single spaces.
fn latin_letters(name: &str) -> String {
    let kept: String = name
        .chars()
        .filter_map(|c| match c.to_uppercase().next().unwrap_or(c) {
            u @ 'A'..='Z' => Some(u),
            u if u.is_alphabetic() => base_letter(u),
            _ => Some(' '),
        })
        .collect();
    kept.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn base_letter(c: char) -> Option<char> {
    const TABLE: [(&str, char); 8] = [
        ("ÀÁÂÃÄÅĀĂĄ", 'A'),
        ("ÇĆĈĊČ", 'C'),
        ("ÈÉÊËĒĔĖĘĚ", 'E'),
        ("ÌÍÎÏĨĪĬĮİ", 'I'),
        ("ÑŃŅŇ", 'N'),
        ("ÒÓÔÕÖØŌŎŐ", 'O'),
        ("ÙÚÛÜŨŪŬŮŰŲ", 'U'),
        ("ÝŸŶ", 'Y'),
    ];
    TABLE.iter().find(|(from, _)| from.contains(c)).map(|(_, to)| *to)
}

/// How alike two names are, 0 to 100: one minus their edit distance over the longer's length.
fn similarity(a: &str, b: &str) -> f64 {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let longest = a.len().max(b.len());
    if longest == 0 {
        return 0.0;
    }
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitute = previous.get(j).copied().unwrap_or(0) + usize::from(ca != cb);
            let delete = previous.get(j + 1).copied().unwrap_or(0) + 1;
            let insert = current.get(j).copied().unwrap_or(0) + 1;
            current.push(substitute.min(delete).min(insert));
        }
        previous = current;
    }
    let distance = previous.last().copied().unwrap_or(longest);
    100.0 * (1.0 - distance as f64 / longest as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_compared_as_an_mrz_prints_them() {
        assert_eq!(mrz_name("ANNA<MARIA<<<<"), "ANNA MARIA");
        assert_eq!(latin_letters(" Anna-María  Eriksson "), "ANNA MARIA ERIKSSON");
        assert_eq!(latin_letters("José Ñúñez 3rd"), "JOSE NUNEZ RD");
        assert_eq!(similarity("ERIKSSON", "ERIKSSON"), 100.0);
        assert_eq!(similarity("ERIKSON", "ERIKSSON").round(), 88.0);
        assert_eq!(similarity("", "ANNA"), 0.0);
        assert!(similarity("JOHN SMITH", "ANNA MARIA ERIKSSON") < 40.0);
    }
}

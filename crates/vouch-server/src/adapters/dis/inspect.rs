//! DIS customer inspection (`/customers/{id}/inspect` and `/disclose`): is the person in the selfie the
//! person on the document? The selfie's face against the portrait printed on the photographed page, the portrait
//! in the chip, and each liveness selfie, with the calibrated score and its match point
//! (`vouch_vision::score::MATCH_SCORE`). Age and gender consistency are left out: the shipped age and gender model
//! is too weak to judge them (docs/apis.md, Aspects). Video injection is not detected, and the answer says so
//! (`security.videoInjection.evaluated: false`, the field the schema requires).

use axum::extract::{Path, State};
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use vouch_app::faces::subject_template;
use vouch_core::flow::StepOutcome;
use vouch_vision::score::{similarity_score, MATCH_SCORE};

use super::faces::{blob, load_customer, DisResult, PREFIX};
use crate::error::ApiError;
use crate::extract::Authed;
use crate::state::AppState;

pub fn routes(state: AppState) -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(inspect_customer))
        .routes(routes!(disclose_customer_inspection))
        .route_layer(axum::middleware::from_fn_with_state(state, super::sessions::bearer_or_session))
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SelfieSimilarityWith {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document_portrait: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chip_portrait: Option<bool>,
    /// True when the selfie matches every liveness selfie.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub liveness_selfies: Option<bool>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SelfieInspection {
    pub similarity_with: SelfieSimilarityWith,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CustomerInspectionLinks {
    pub document_inspection: String,
}

/// Whether a video injection (a virtual camera, a replayed stream) was looked for, and found.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VideoInjectionInspection {
    /// Always false: Vouch has no detector for it; images reach it through the API as bytes, with nothing that
    /// tells a camera from an injected stream.
    pub evaluated: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detected: Option<bool>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SecurityInspection {
    pub video_injection: VideoInjectionInspection,
}

impl SecurityInspection {
    fn not_evaluated() -> SecurityInspection {
        SecurityInspection { video_injection: VideoInjectionInspection { evaluated: false, detected: None } }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CustomerInspectResponse {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub selfie_inspection: Option<SelfieInspection>,
    pub security: SecurityInspection,
    pub links: CustomerInspectionLinks,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Score {
    /// The calibrated similarity in 0..1 (0.5 is the match point).
    pub score: f32,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SelfieSimilarityWithDisclose {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document_portrait: Option<Score>,
    /// Vouch's addition beside DIS's two: the chip portrait's score.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chip_portrait: Option<Score>,
    /// The lowest score over the liveness selfies.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub liveness_selfies: Option<Score>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SelfieInspectionDisclose {
    pub similarity_with: SelfieSimilarityWithDisclose,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CustomerInspectDiscloseResponse {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub selfie_inspection: Option<SelfieInspectionDisclose>,
}

/// The photos a customer's inspection compares, as stored.
struct Photos {
    selfie: Option<Vec<u8>>,
    page_portrait: Option<Vec<u8>>,
    chip_portrait: Option<Vec<u8>>,
    liveness: Vec<Vec<u8>>,
}

/// The selfie's scores against each reference; `None` where the reference is missing or shows no face.
struct Scores {
    document_portrait: Option<f32>,
    chip_portrait: Option<f32>,
    liveness_selfies: Option<f32>,
}

async fn photos(state: &AppState, client: &str, id: &str) -> Result<Photos, ApiError> {
    let customer = load_customer(state, client, id).await?;
    let selfie = match customer.selfie_face_id {
        Some(face) => {
            let c = client.to_string();
            let row = state.db(move |s| s.face(&c, &face)).await?;
            Some(blob(state, row.image_sha256).await?)
        }
        None => None,
    };
    let (c, cid) = (client.to_string(), id.to_string());
    let pages = state.db(move |s| s.pages(&c, &cid)).await.unwrap_or_default();
    let page_portrait = match pages.into_iter().find_map(|p| p.portrait_sha256) {
        Some(sha) => Some(blob(state, sha).await?),
        None => None,
    };
    let chip_portrait = super::document::stored_chip(state, client, id)
        .await?
        .and_then(|(decision, _)| decision.portrait().map(<[u8]>::to_vec));
    let (c, cid) = (client.to_string(), id.to_string());
    let frames = state.db(move |s| s.liveness_frames(&c, &cid)).await.unwrap_or_default();
    let mut liveness = Vec::new();
    for frame in frames.into_iter().filter(|f| f.is_record_selfie) {
        liveness.push(blob(state, frame.image_sha256).await?);
    }
    Ok(Photos { selfie, page_portrait, chip_portrait, liveness })
}

async fn scores(state: &AppState, photos: Photos) -> Result<Option<Scores>, ApiError> {
    let Some(selfie) = photos.selfie else { return Ok(None) };
    let limits = state.faces.limits;
    state
        .faces
        .run(move |engine| {
            let Some(probe) = subject_template(engine, &selfie, limits)? else { return Ok(None) };
            let score = |bytes: &Option<Vec<u8>>| -> vouch_vision::Result<Option<f32>> {
                match bytes {
                    Some(b) => Ok(subject_template(engine, b, limits)?.map(|t| similarity_score(probe.cosine(&t)))),
                    None => Ok(None),
                }
            };
            let document_portrait = score(&photos.page_portrait)?;
            let chip_portrait = score(&photos.chip_portrait)?;
            let mut lowest: Option<f32> = None;
            for frame in &photos.liveness {
                // A liveness selfie without a face cannot be the same person.
                let s = subject_template(engine, frame, limits)?.map_or(0.0, |t| similarity_score(probe.cosine(&t)));
                lowest = Some(lowest.map_or(s, |l| l.min(s)));
            }
            Ok(Some(Scores { document_portrait, chip_portrait, liveness_selfies: lowest }))
        })
        .await
        .map_err(ApiError::from)
}

fn links(id: &str) -> CustomerInspectionLinks {
    CustomerInspectionLinks { document_inspection: format!("{PREFIX}/customers/{id}/document/inspect") }
}

/// Whether the person in the customer's selfie is the person on the document (page portrait, chip portrait)
/// and in each liveness selfie. Without a selfie, or with no face in it, `selfieInspection` is absent.
#[utoipa::path(post, path = "/identity/api/v1/customers/{id}/inspect", tag = "DIS",
    security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = CustomerInspectResponse), (status = 404)))]
async fn inspect_customer(
    State(state): State<AppState>,
    Authed(client): Authed,
    Path(id): Path<String>,
) -> DisResult<Json<CustomerInspectResponse>> {
    Ok(Json(customer_inspection(&state, &client.id, &id).await?))
}

/// The customer inspection as `POST /customers/{id}/inspect` answers it.
pub(crate) async fn customer_inspection(
    state: &AppState,
    client: &str,
    id: &str,
) -> Result<CustomerInspectResponse, ApiError> {
    let photos = photos(state, client, id).await?;
    // The face_match step's rule, at the calibrated match point.
    let matched =
        |s: Option<f32>| s.map(|s| vouch_core::step_rules::face_match(s, MATCH_SCORE.into()) == StepOutcome::Passed);
    let selfie_inspection = scores(state, photos).await?.map(|s| SelfieInspection {
        similarity_with: SelfieSimilarityWith {
            document_portrait: matched(s.document_portrait),
            chip_portrait: matched(s.chip_portrait),
            liveness_selfies: matched(s.liveness_selfies),
        },
    });
    Ok(CustomerInspectResponse { selfie_inspection, security: SecurityInspection::not_evaluated(), links: links(id) })
}

/// The scores behind the customer inspection.
#[utoipa::path(post, path = "/identity/api/v1/customers/{id}/inspect/disclose", tag = "DIS",
    security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = CustomerInspectDiscloseResponse), (status = 404)))]
async fn disclose_customer_inspection(
    State(state): State<AppState>,
    Authed(client): Authed,
    Path(id): Path<String>,
) -> DisResult<Json<CustomerInspectDiscloseResponse>> {
    let photos = photos(&state, &client.id, &id).await?;
    let score = |s: Option<f32>| s.map(|score| Score { score });
    let selfie_inspection = scores(&state, photos).await?.map(|s| SelfieInspectionDisclose {
        similarity_with: SelfieSimilarityWithDisclose {
            document_portrait: score(s.document_portrait),
            chip_portrait: score(s.chip_portrait),
            liveness_selfies: score(s.liveness_selfies),
        },
    });
    Ok(Json(CustomerInspectDiscloseResponse { selfie_inspection }))
}

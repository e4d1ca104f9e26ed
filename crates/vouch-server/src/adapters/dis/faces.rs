//! DIS faces, customers and the customer selfie under `/identity/api/v1`, as the DIS 1.52.0 OpenAPI
//! specifies. Faces belong to the client that created them; another client's face id is not found.
//! Detection outcomes (no face, several faces) are 200s with `errorCode`, as DIS does; malformed input is
//! 400 with DIS's error codes.

use axum::body::Bytes;
use axum::extract::{Path, Query, Request, State};
use axum::http::{header, HeaderMap, StatusCode};

use axum::Json;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use vouch_app::faces::{Enrolment, Pick};
use vouch_store::dis_sessions::DisSession;
use vouch_store::faces::{CustomerRow, FaceRow, NewFace};
use vouch_vision::engine::TEMPLATE_VERSION;
use vouch_vision::geometry::{resize_region, Rect};
use vouch_vision::Face;

use crate::error::{ApiError, Code, Dis, Failure};
use crate::extract::{read_body, Authed};
use crate::faces::decode_base64_image;
use crate::state::AppState;

pub(crate) type DisResult<T> = Result<T, Failure<Dis>>;

pub(crate) const PREFIX: &str = "/api/v1";

// ---- DTOs (field names as DIS spells them) ----

#[derive(Debug, Deserialize, ToSchema)]
pub struct ImageDto {
    /// Base64 PNG or JPEG.
    pub data: Option<String>,
    /// http(s) URL Vouch downloads the image from (size-limited, no redirects).
    pub url: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct FaceDetectionProperties {
    /// FREE (default): the biggest face, with a warning when there are more. STRICT: more than one face is an
    /// error.
    pub mode: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct Origin {
    /// `/api/v1/customers/{id}/selfie`.
    pub link: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateFaceRequest {
    pub image: Option<ImageDto>,
    pub detection: Option<FaceDetectionProperties>,
    pub face_origin: Option<Origin>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PointDto {
    pub x: i32,
    pub y: i32,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Roi {
    pub top_left: PointDto,
    pub top_right: PointDto,
    pub bottom_right: PointDto,
    pub bottom_left: PointDto,
}

impl From<Rect> for Roi {
    fn from(r: Rect) -> Roi {
        let p = |x: f32, y: f32| PointDto { x: x.round() as i32, y: y.round() as i32 };
        Roi {
            top_left: p(r.x0, r.y0),
            top_right: p(r.x1, r.y0),
            bottom_right: p(r.x1, r.y1),
            bottom_left: p(r.x0, r.y1),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FaceDetection {
    pub confidence: f64,
    pub face_rectangle: Roi,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Links {
    #[serde(rename = "self")]
    pub self_link: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateFaceResponse {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detection: Option<FaceDetection>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub links: Option<Links>,
    /// MULTIPLE_FACES_DETECTED (STRICT mode), NO_FACE_DETECTED.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<&'static str>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FaceSimilarityRequest {
    /// `/api/v1/faces/{id}` of a face of the same client.
    pub reference_face: Option<String>,
    /// Base64 of a template from `GET /faces/{id}/face-template`.
    pub reference_face_template: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FaceSimilarityResponse {
    /// 0..1; 0.5 is the decision threshold (cosine 0.335, FAR 0.1 % on face_dev). The map is in docs/apis.md.
    pub score: f64,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FaceAttribute {
    pub score: f64,
    pub preconditions_met: bool,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HeadPoseAttribute {
    pub angle: i32,
    pub preconditions_met: bool,
}

/// DIS `FaceQualityResponse`. Left out because no model here can measure them: noseShadow, redRightEye,
/// redLeftEye.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FaceQualityResponse {
    pub sharpness: FaceAttribute,
    pub brightness: FaceAttribute,
    pub contrast: FaceAttribute,
    pub unique_intensity_levels: FaceAttribute,
    pub shadow: FaceAttribute,
    pub specularity: FaceAttribute,
    pub background_uniformity: FaceAttribute,
    pub roll: HeadPoseAttribute,
    pub yaw: HeadPoseAttribute,
    pub pitch: HeadPoseAttribute,
    pub eye_distance: FaceAttribute,
    pub eye_gaze: FaceAttribute,
    pub right_eye: FaceAttribute,
    pub left_eye: FaceAttribute,
    pub mouth: FaceAttribute,
    pub face_size: FaceAttribute,
    pub face_relative_area: FaceAttribute,
    pub face_relative_area_in_image: FaceAttribute,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FaceAspectsResponse {
    pub age: i32,
    /// 0 female … 1 male (SSR-Net); see models/MODELS.md for how reliable it is.
    pub gender: f64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FaceTemplateResponse {
    /// Base64 of the versioned template (models/MODELS.md describes the format).
    pub data: String,
    pub version: &'static str,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ImageCrop {
    /// Base64 PNG.
    pub data: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CropCoordinatesResponse {
    pub fully_captured: bool,
    pub coordinates: Roi,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreateCustomerResponse {
    pub id: String,
    pub links: Links,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BiometricValue {
    /// The value measured from the selfie.
    pub selfie: String,
}

/// A textual attribute by source; Vouch reads it from the chip (page OCR is not built).
#[derive(Debug, Serialize, ToSchema)]
pub struct MultiValueAttribute {
    /// As the MRZ of a photographed page states it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mrz: Option<String>,
    /// As the chip states it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chip: Option<String>,
}

fn non_empty(value: Option<&str>) -> Option<String> {
    value.map(str::trim).filter(|v| !v.is_empty()).map(str::to_string)
}

impl MultiValueAttribute {
    fn of(value: Option<&str>) -> Option<MultiValueAttribute> {
        non_empty(value).map(|v| MultiValueAttribute { mrz: None, chip: Some(v) })
    }

    fn from_mrz(value: Option<&str>) -> Option<MultiValueAttribute> {
        non_empty(value).map(|v| MultiValueAttribute { mrz: Some(v), chip: None })
    }

    /// `self`'s MRZ value with the chip's beside it.
    fn with_chip(attribute: Option<MultiValueAttribute>, chip: Option<&str>) -> Option<MultiValueAttribute> {
        match (attribute, non_empty(chip)) {
            (Some(mut a), chip) => {
                a.chip = chip;
                (a.mrz.is_some() || a.chip.is_some()).then_some(a)
            }
            (None, chip) => chip.map(|c| MultiValueAttribute { mrz: None, chip: Some(c) }),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CustomerDocumentLinks {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chip_portrait: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CustomerDocument {
    pub page_types: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document_number: Option<MultiValueAttribute>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date_of_expiry: Option<MultiValueAttribute>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date_of_issue: Option<MultiValueAttribute>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuing_authority: Option<MultiValueAttribute>,
    pub links: CustomerDocumentLinks,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Customer {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub age: Option<BiometricValue>,
    /// M or F from the selfie.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gender: Option<BiometricValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub given_names: Option<MultiValueAttribute>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub surname: Option<MultiValueAttribute>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub full_name: Option<MultiValueAttribute>,
    /// YYYY-MM-DD.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date_of_birth: Option<MultiValueAttribute>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub personal_number: Option<MultiValueAttribute>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nationality: Option<MultiValueAttribute>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document: Option<CustomerDocument>,
}

impl Customer {
    /// Adds what the MRZ of the customer's photographed page says (`page_types`: the pages read).
    pub(crate) fn with_mrz(mut self, m: &vouch_core::mrz::Mrz, page_types: Vec<String>) -> Customer {
        let year = time::OffsetDateTime::now_utc().year();
        let full_name = format!("{} {}", m.secondary_identifier, m.primary_identifier);
        let personal = (m.format == vouch_core::mrz::MrzFormat::Td3).then_some(m.optional_data.as_str());
        self.given_names = MultiValueAttribute::from_mrz(Some(&m.secondary_identifier));
        self.surname = MultiValueAttribute::from_mrz(Some(&m.primary_identifier));
        self.full_name = MultiValueAttribute::from_mrz(Some(&full_name));
        self.date_of_birth =
            MultiValueAttribute::from_mrz(vouch_core::mrz::iso_date(&m.date_of_birth, true, year).as_deref());
        self.personal_number = MultiValueAttribute::from_mrz(personal);
        self.nationality = MultiValueAttribute::from_mrz(Some(&m.nationality));
        self.document = Some(CustomerDocument {
            page_types,
            document_number: MultiValueAttribute::from_mrz(Some(&m.document_number)),
            date_of_expiry: MultiValueAttribute::from_mrz(
                vouch_core::mrz::iso_date(&m.date_of_expiry, false, year).as_deref(),
            ),
            date_of_issue: None,
            issuing_authority: None,
            links: CustomerDocumentLinks { chip_portrait: None },
        });
        self
    }

    /// Adds what the customer's chip data says, beside what a page's MRZ said.
    pub(crate) fn with_chip(mut self, chip: &crate::chip::ChipHolder, has_portrait: bool, id: &str) -> Customer {
        let h = &chip.mrz;
        let full_name = chip.full_name.clone().unwrap_or_else(|| format!("{} {}", h.given_names, h.surname));
        let merge = MultiValueAttribute::with_chip;
        self.given_names = merge(self.given_names, Some(&h.given_names));
        self.surname = merge(self.surname, Some(&h.surname));
        self.full_name = merge(self.full_name, Some(&full_name));
        self.date_of_birth = merge(self.date_of_birth, h.date_of_birth.as_deref());
        self.personal_number = merge(self.personal_number, chip.personal_number.as_deref());
        self.nationality = merge(self.nationality, Some(&h.nationality));
        let page = self.document.take();
        let (page_types, number, expiry) = match page {
            Some(d) => (d.page_types, d.document_number, d.date_of_expiry),
            None => (Vec::new(), None, None),
        };
        self.document = Some(CustomerDocument {
            page_types,
            document_number: merge(number, Some(&h.document_number)),
            date_of_expiry: merge(expiry, h.date_of_expiry.as_deref()),
            date_of_issue: MultiValueAttribute::of(chip.date_of_issue.as_deref()),
            issuing_authority: MultiValueAttribute::of(chip.issuing_authority.as_deref()),
            links: CustomerDocumentLinks {
                chip_portrait: has_portrait.then(|| format!("{PREFIX}/customers/{id}/document/chip/portrait")),
            },
        });
        self
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GetCustomerResponse {
    pub customer: Customer,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateSelfieRequest {
    pub image: Option<ImageDto>,
    pub selfie_origin: Option<Origin>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateSelfieResponse {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detection: Option<FaceDetection>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub links: Option<Links>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<&'static str>,
}

pub fn routes(state: AppState) -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_face))
        .routes(routes!(delete_face))
        .routes(routes!(similarity))
        .routes(routes!(quality))
        .routes(routes!(aspects))
        .routes(routes!(face_template))
        .routes(routes!(crop))
        .routes(routes!(crop_coordinates))
        .routes(routes!(glasses))
        .routes(routes!(face_mask))
        .routes(routes!(crop_removed_background))
        .routes(routes!(create_customer))
        .routes(routes!(get_customer, create_customer_with_id, delete_customer))
        .routes(routes!(put_selfie, get_selfie, delete_selfie))
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), crate::load::limit_images))
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), super::sessions::bearer_or_session))
        .layer(crate::extract::body_limit(state.config.image_body_limit_bytes))
}

// ---- helpers ----

pub(crate) fn json_body<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    crate::extract::parse_json(bytes)
}

pub(crate) fn content_type(req: &Request) -> String {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// Downloads an image from an integrator's URL: off by default; see [`crate::image_fetch`].
async fn download(state: &AppState, url: &str) -> Result<Vec<u8>, ApiError> {
    crate::image_fetch::fetch(state, url, state.config.image_body_limit_bytes).await
}

pub(crate) async fn image_bytes(state: &AppState, image: ImageDto) -> Result<Vec<u8>, ApiError> {
    match (image.data, image.url) {
        (Some(data), _) => {
            // Up to 16 MiB of base64: decoded on a blocking thread, not on an async worker.
            let limit = state.config.image_body_limit_bytes;
            tokio::task::spawn_blocking(move || decode_base64_image(&data, limit)).await.map_err(ApiError::internal)?
        }
        (None, Some(url)) => download(state, &url).await,
        (None, None) => Err(ApiError::invalid("image needs data or url")),
    }
}

/// The image bytes of a request that gives either `image` or an origin link (`faceOrigin`, `selfieOrigin`:
/// named in the error).
pub(crate) async fn image_or_origin(
    state: &AppState,
    client: &str,
    image: Option<ImageDto>,
    origin: Option<Origin>,
    origin_field: &str,
) -> Result<Vec<u8>, ApiError> {
    match (image, origin) {
        (Some(image), None) => image_bytes(state, image).await,
        (None, Some(origin)) => origin_image(state, client, &origin.link).await,
        _ => Err(ApiError::invalid(format!("Give either image or {origin_field}"))),
    }
}

pub(crate) fn links(path: String) -> Links {
    Links { self_link: path }
}

pub(crate) fn detection_dto(face: &Face) -> FaceDetection {
    FaceDetection { confidence: f64::from(face.confidence), face_rectangle: face.rect.into() }
}

pub(crate) fn stored_face(row: &FaceRow) -> Result<Face, ApiError> {
    serde_json::from_str(&row.detection).map_err(|e| ApiError::internal(format!("stored detection unreadable: {e}")))
}

/// Enrols the face of a new face or selfie: DIS's FREE mode takes the largest face (warning of the others),
/// STRICT refuses a photo with more than one.
async fn analyse(state: &AppState, bytes: Vec<u8>, strict: bool) -> Result<(Enrolment, Vec<u8>), ApiError> {
    Ok(state.faces.enrol(bytes, if strict { Pick::OnlyOne } else { Pick::Largest }).await?)
}

/// DIS's warnings for an enrolled face.
fn enrol_warnings(others: usize) -> Vec<&'static str> {
    if others > 0 {
        vec!["MULTIPLE_FACES_DETECTED"]
    } else {
        Vec::new()
    }
}

fn parse_mode(detection: Option<FaceDetectionProperties>) -> Result<bool, ApiError> {
    match detection.and_then(|d| d.mode).as_deref().map(str::to_ascii_uppercase).as_deref() {
        None | Some("FREE") => Ok(false),
        Some("STRICT") => Ok(true),
        Some(other) => Err(ApiError::invalid(format!("detection.mode must be FREE or STRICT, not {other}"))),
    }
}

/// `/api/v1/customers/{id}/selfie`, or a liveness record's selfie
/// (`/api/v1/customers/{id}/liveness/records/{recordId}/selfie`) → the stored image.
async fn origin_image(state: &AppState, client: &str, link: &str) -> Result<Vec<u8>, ApiError> {
    let bad = || {
        ApiError::invalid(
            "The origin link must be /api/v1/customers/{id}/selfie or /api/v1/customers/{id}/liveness/records/{recordId}/selfie",
        )
    };
    let rest = link.trim_start_matches(PREFIX).strip_prefix("/customers/").ok_or_else(bad)?;
    let parts: Vec<&str> = rest.split('/').collect();
    let (customer, record) = match parts.as_slice() {
        [customer, "selfie"] => (customer.to_string(), None),
        [customer, "liveness", "records", record, "selfie"] => (customer.to_string(), Some(record.to_string())),
        _ => return Err(bad()),
    };
    let client = client.to_string();
    state
        .db(move |s| match record {
            None => {
                let c = s.customer(&client, &customer)?;
                let face_id = c.selfie_face_id.ok_or(vouch_store::StoreError::NotFound)?;
                let face = s.face(&client, &face_id)?;
                s.blobs().get(&face.image_sha256)
            }
            Some(record) => {
                let frame = s
                    .liveness_frames(&client, &customer)?
                    .into_iter()
                    .find(|f| f.is_record_selfie && f.record_id.as_deref() == Some(record.as_str()))
                    .ok_or(vouch_store::StoreError::NotFound)?;
                s.blobs().get(&frame.image_sha256)
            }
        })
        .await
        .map_err(|e| e.with_not_found("The origin selfie does not exist"))
}

/// A face blob (image or template), decrypted.
pub(crate) async fn blob(state: &AppState, sha: String) -> Result<Vec<u8>, ApiError> {
    state.db(move |s| s.blobs().get(&sha)).await
}

/// The customer, with what a kiosk captured for it once its case there is over
/// ([`super::kiosk_customers::with_kiosk_captures`]).
pub(crate) async fn load_customer(state: &AppState, client: &str, id: &str) -> Result<CustomerRow, ApiError> {
    let (client, id) = (client.to_string(), id.to_string());
    let row = state.db(move |s| s.customer(&client, &id)).await.map_err(|e| e.with_not_found("Customer not found"))?;
    super::kiosk_customers::with_kiosk_captures(state, row).await
}

async fn load_face(state: &AppState, client: &str, id: &str) -> Result<FaceRow, ApiError> {
    let (client, id) = (client.to_string(), id.to_string());
    state.db(move |s| s.face(&client, &id)).await.map_err(|e| e.with_not_found("Face not found"))
}

/// The stored image decoded again, with its face.
async fn face_with_image<T, F>(state: &AppState, client: &str, id: &str, f: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&vouch_vision::FaceEngine, &vouch_vision::image::RgbImage, &Face) -> vouch_vision::Result<T>
        + Send
        + 'static,
{
    let row = load_face(state, client, id).await?;
    let face = stored_face(&row)?;
    let bytes = blob(state, row.image_sha256).await?;
    let limits = state.faces.limits;
    Ok(state.faces.run(move |engine| f(engine, &vouch_vision::decode(&bytes, limits)?, &face)).await?)
}

fn attr(a: vouch_vision::quality::Attribute) -> FaceAttribute {
    FaceAttribute { score: f64::from(a.score), preconditions_met: a.preconditions_met }
}

fn angle(a: vouch_vision::quality::Angle) -> HeadPoseAttribute {
    HeadPoseAttribute { angle: a.angle, preconditions_met: a.preconditions_met }
}

pub(crate) fn png_base64(img: &vouch_vision::image::RgbImage) -> vouch_vision::Result<String> {
    Ok(base64::engine::general_purpose::STANDARD.encode(vouch_vision::image_io::encode_png(img)?))
}

/// The face crop DIS returns: the box grown to a portrait (ICAO-like head and shoulders proportions), kept
/// inside the image.
pub(crate) fn portrait_rect(face: &Face, width: u32, height: u32) -> Rect {
    let r = face.rect;
    let grown = Rect {
        x0: r.x0 - r.width() * 0.4,
        y0: r.y0 - r.height() * 0.45,
        x1: r.x1 + r.width() * 0.4,
        y1: r.y1 + r.height() * 0.35,
    };
    grown.padded_clipped(0.0, width, height)
}

/// The portrait crop as base64 PNG, scaled down to at most `max_height` pixels high.
pub(crate) fn portrait_png(
    img: &vouch_vision::image::RgbImage,
    face: &Face,
    max_height: f32,
) -> vouch_vision::Result<String> {
    png_base64(&sized_portrait(img, face, None, max_height))
}

/// The portrait crop at the size DIS asked for, else scaled down to at most `max_height` pixels high.
pub(crate) fn sized_portrait(
    img: &vouch_vision::image::RgbImage,
    face: &Face,
    target: Option<(u32, u32)>,
    max_height: f32,
) -> vouch_vision::image::RgbImage {
    let r = portrait_rect(face, img.width(), img.height());
    let (w, h) = target.unwrap_or_else(|| {
        let scale = (max_height / r.height().max(1.0)).min(1.0);
        (((r.width() * scale).round() as u32).max(1), ((r.height() * scale).round() as u32).max(1))
    });
    resize_region(img, r, w, h)
}

/// [`sized_portrait`] as base64 PNG.
pub(crate) fn sized_portrait_png(
    img: &vouch_vision::image::RgbImage,
    face: &Face,
    target: Option<(u32, u32)>,
    max_height: f32,
) -> vouch_vision::Result<String> {
    png_base64(&sized_portrait(img, face, target, max_height))
}

/// The size `size` asks for the portrait crop of `face` in a `width` × `height` image.
pub(crate) fn portrait_target(
    size: &super::pages::CropSize,
    face: &Face,
    width: u32,
    height: u32,
) -> Result<Option<(u32, u32)>, ApiError> {
    let r = portrait_rect(face, width, height);
    size.target(r.width().round() as u32, r.height().round() as u32)
}

// ---- faces ----

/// Detects a face and stores it with its template.
#[utoipa::path(post, path = "/identity/api/v1/faces", tag = "DIS", security(("bearer" = [])),
    request_body(content((CreateFaceRequest = "application/json"), (Vec<u8> = "application/octet-stream"))),
    responses((status = 200, body = CreateFaceResponse), (status = 400, description = "INVALID_IMAGE, INVALID_REQUEST_BODY, MALFORMED_URL, DATA_DOWNLOAD_ERROR"),
        (status = 404, description = "faceOrigin not found")))]
async fn create_face(
    State(state): State<AppState>,
    Authed(client): Authed,
    req: Request,
) -> DisResult<Json<CreateFaceResponse>> {
    let ct = content_type(&req);
    let body = read_body(req, &state).await?;
    let (bytes, strict) = match ct.as_str() {
        // The raw image, detected in DIS's default FREE mode.
        "application/octet-stream" => (body.to_vec(), false),
        "application/json" => {
            let body: CreateFaceRequest = json_body(&body)?;
            let strict = parse_mode(body.detection)?;
            (image_or_origin(&state, &client.id, body.image, body.face_origin, "faceOrigin").await?, strict)
        }
        _ => {
            return Err(ApiError::new(
                Code::UnsupportedMediaType,
                "Content-Type must be application/json or application/octet-stream",
            )
            .into())
        }
    };
    if bytes.is_empty() {
        return Err(ApiError::invalid("The image is empty").with_vendor_code("INVALID_IMAGE").into());
    }
    let (found, bytes) = analyse(&state, bytes, strict).await?;
    let (face, template, warnings) = match found {
        Enrolment::NoFace => return Ok(Json(no_face("NO_FACE_DETECTED"))),
        Enrolment::Multiple => return Ok(Json(no_face("MULTIPLE_FACES_DETECTED"))),
        Enrolment::Face { face, template, others } => (face, template, enrol_warnings(others)),
    };
    let id = uuid::Uuid::new_v4().to_string();
    let detection = serde_json::to_string(&face).map_err(ApiError::internal)?;
    let (row_id, client_id) = (id.clone(), client.id.clone());
    state
        .db(move |s| {
            s.insert_face(NewFace {
                id: &row_id,
                client_id: &client_id,
                image: &bytes,
                template: &template,
                detection: &detection,
            })
        })
        .await?;
    tracing::info!(face = %id, client = %client.id, "DIS face created");
    Ok(Json(CreateFaceResponse {
        links: Some(links(format!("{PREFIX}/faces/{id}"))),
        id: Some(id),
        detection: Some(detection_dto(&face)),
        error_code: None,
        warnings,
    }))
}

fn no_face(code: &'static str) -> CreateFaceResponse {
    CreateFaceResponse { id: None, detection: None, links: None, error_code: Some(code), warnings: Vec::new() }
}

#[utoipa::path(delete, path = "/identity/api/v1/faces/{id}", tag = "DIS", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 204)))]
async fn delete_face(
    State(state): State<AppState>,
    Authed(client): Authed,
    Path(id): Path<String>,
) -> DisResult<StatusCode> {
    state.db(move |s| s.delete_face(&client.id, &id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Similarity of this face to a reference face (by link) or a reference template.
#[utoipa::path(post, path = "/identity/api/v1/faces/{probe_face_id}/similarity", tag = "DIS", security(("bearer" = [])),
    params(("probe_face_id" = String, Path)), request_body = FaceSimilarityRequest,
    responses((status = 200, body = FaceSimilarityResponse), (status = 400, description = "CORRUPTED_TEMPLATE, INCOMPATIBLE_TEMPLATE, UNSUPPORTED_VERSION_TEMPLATE"), (status = 404)))]
async fn similarity(
    State(state): State<AppState>,
    Authed(client): Authed,
    Path(probe): Path<String>,
    req: Request,
) -> DisResult<Json<FaceSimilarityResponse>> {
    let body: FaceSimilarityRequest = json_body(&read_body(req, &state).await?)?;
    let probe_row = load_face(&state, &client.id, &probe).await?;
    let reference: Vec<u8> = match (body.reference_face, body.reference_face_template) {
        (Some(link), None) => {
            let id = link.trim_start_matches(PREFIX).trim_start_matches("/faces/").to_string();
            let row =
                load_face(&state, &client.id, &id).await.map_err(|e| e.with_not_found("Reference face not found"))?;
            blob(&state, row.template_sha256).await?
        }
        (None, Some(template)) => base64::engine::general_purpose::STANDARD.decode(template.trim()).map_err(|_| {
            ApiError::invalid("referenceFaceTemplate is not valid base64").with_vendor_code("CORRUPTED_TEMPLATE")
        })?,
        _ => return Err(ApiError::invalid("Give either referenceFace or referenceFaceTemplate").into()),
    };
    let probe_bytes = blob(&state, probe_row.template_sha256).await?;
    Ok(Json(FaceSimilarityResponse { score: f64::from(state.faces.compare(&probe_bytes, &reference).await?) }))
}

#[utoipa::path(get, path = "/identity/api/v1/faces/{id}/quality", tag = "DIS", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, body = FaceQualityResponse), (status = 404)))]
async fn quality(
    State(state): State<AppState>,
    Authed(client): Authed,
    Path(id): Path<String>,
) -> DisResult<Json<FaceQualityResponse>> {
    let q = face_with_image(&state, &client.id, &id, |engine, img, face| engine.quality(img, face)).await?;
    Ok(Json(FaceQualityResponse {
        sharpness: attr(q.sharpness),
        brightness: attr(q.brightness),
        contrast: attr(q.contrast),
        unique_intensity_levels: attr(q.unique_intensity_levels),
        shadow: attr(q.shadow),
        specularity: attr(q.specularity),
        background_uniformity: attr(q.background_uniformity),
        roll: angle(q.roll),
        yaw: angle(q.yaw),
        pitch: angle(q.pitch),
        eye_distance: attr(q.eye_distance),
        eye_gaze: attr(q.eye_gaze),
        right_eye: attr(q.right_eye),
        left_eye: attr(q.left_eye),
        mouth: attr(q.mouth),
        face_size: attr(q.face_size),
        face_relative_area: attr(q.face_relative_area),
        face_relative_area_in_image: attr(q.face_relative_area_in_image),
    }))
}

#[utoipa::path(get, path = "/identity/api/v1/faces/{id}/aspects", tag = "DIS", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, body = FaceAspectsResponse), (status = 404)))]
async fn aspects(
    State(state): State<AppState>,
    Authed(client): Authed,
    Path(id): Path<String>,
) -> DisResult<Json<FaceAspectsResponse>> {
    let a = face_with_image(&state, &client.id, &id, |engine, img, face| engine.aspects(img, face)).await?;
    Ok(Json(FaceAspectsResponse { age: a.age.round() as i32, gender: f64::from(a.gender) }))
}

#[utoipa::path(get, path = "/identity/api/v1/faces/{id}/face-template", tag = "DIS", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, body = FaceTemplateResponse), (status = 404)))]
async fn face_template(
    State(state): State<AppState>,
    Authed(client): Authed,
    Path(id): Path<String>,
) -> DisResult<Json<FaceTemplateResponse>> {
    let row = load_face(&state, &client.id, &id).await?;
    let bytes = blob(&state, row.template_sha256).await?;
    Ok(Json(FaceTemplateResponse {
        data: base64::engine::general_purpose::STANDARD.encode(bytes),
        version: TEMPLATE_VERSION,
    }))
}

/// The face's portrait crop: at most 480 pixels high, or the size `width` and `height` ask.
#[utoipa::path(get, path = "/identity/api/v1/faces/{id}/crop", tag = "DIS", security(("bearer" = [])),
    params(("id" = String, Path), super::pages::CropSize), responses((status = 200, body = ImageCrop), (status = 400), (status = 404)))]
async fn crop(
    State(state): State<AppState>,
    Authed(client): Authed,
    Path(id): Path<String>,
    Query(size): Query<super::pages::CropSize>,
) -> DisResult<Json<ImageCrop>> {
    portrait_crop(&state, &client.id, &id, size, |_, crop| png_base64(&crop)).await
}

/// The face's portrait crop at the size `size` asks (else at most 480 pixels high), encoded by `encode` as the
/// base64 DIS answers with.
async fn portrait_crop<F>(
    state: &AppState,
    client: &str,
    id: &str,
    size: super::pages::CropSize,
    encode: F,
) -> DisResult<Json<ImageCrop>>
where
    F: FnOnce(&vouch_vision::FaceEngine, vouch_vision::image::RgbImage) -> vouch_vision::Result<String>
        + Send
        + 'static,
{
    // Refused before any image is decoded.
    size.target(1, 1)?;
    let data = face_with_image(state, client, id, move |engine, img, face| {
        let target = portrait_target(&size, face, img.width(), img.height()).unwrap_or(None);
        encode(engine, sized_portrait(img, face, target, 480.0))
    })
    .await?;
    Ok(Json(ImageCrop { data }))
}

#[utoipa::path(get, path = "/identity/api/v1/faces/{id}/crop/coordinates", tag = "DIS", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, body = CropCoordinatesResponse), (status = 404)))]
async fn crop_coordinates(
    State(state): State<AppState>,
    Authed(client): Authed,
    Path(id): Path<String>,
) -> DisResult<Json<CropCoordinatesResponse>> {
    let (rect, full) = face_with_image(&state, &client.id, &id, |_, img, face| {
        let r = portrait_rect(face, img.width(), img.height());
        Ok((r, face.rect.inside(img.width(), img.height())))
    })
    .await?;
    Ok(Json(CropCoordinatesResponse { fully_captured: full, coordinates: rect.into() }))
}

fn no_model(what: &str) -> Failure<Dis> {
    ApiError::new(
        Code::NotImplemented,
        format!("{what} needs a model Vouch does not ship yet; no score is made up. See the README's gaps table."),
    )
    .into()
}

#[utoipa::path(get, path = "/identity/api/v1/faces/{id}/glasses", tag = "DIS", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 501, description = "No glasses model: UNEXPECTED_ERROR")))]
async fn glasses(Path(_id): Path<String>) -> Failure<Dis> {
    no_model("Glasses detection")
}

#[utoipa::path(get, path = "/identity/api/v1/faces/{id}/face-mask", tag = "DIS", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 501, description = "No face-mask model: UNEXPECTED_ERROR")))]
async fn face_mask(Path(_id): Path<String>) -> Failure<Dis> {
    no_model("Face-mask detection")
}

/// The portrait crop as [`crop`] gives it, with the background transparent: a PNG whose alpha is the person
/// segmentation (MediaPipe's selfie segmentation) of the crop.
#[utoipa::path(get, path = "/identity/api/v1/faces/{id}/crop/removed-background", tag = "DIS", security(("bearer" = [])),
    params(("id" = String, Path), super::pages::CropSize), responses((status = 200, body = ImageCrop), (status = 400), (status = 404)))]
async fn crop_removed_background(
    State(state): State<AppState>,
    Authed(client): Authed,
    Path(id): Path<String>,
    Query(size): Query<super::pages::CropSize>,
) -> DisResult<Json<ImageCrop>> {
    portrait_crop(&state, &client.id, &id, size, |engine, crop| {
        let cut = engine.segmenter().remove_background(&crop)?;
        Ok(base64::engine::general_purpose::STANDARD.encode(vouch_vision::image_io::encode_png(&cut)?))
    })
    .await
}

// ---- customers ----

#[utoipa::path(post, path = "/identity/api/v1/customers", tag = "DIS", security(("bearer" = [])),
    params(KioskCaptureHeaders),
    responses((status = 200, body = CreateCustomerResponse, headers(
        ("Vouch-Case-Id" = String, description = "Vouch's own, with Vouch-Kiosk-Flow: the case that captures the customer"),
        ("Vouch-Case-Code" = String, description = "Vouch's own, with Vouch-Kiosk-Flow: the code the customer types at the kiosk")))))]
async fn create_customer(
    State(state): State<AppState>,
    Authed(client): Authed,
    session: Option<axum::Extension<DisSession>>,
    headers: HeaderMap,
) -> DisResult<(HeaderMap, Json<CreateCustomerResponse>)> {
    let id = uuid::Uuid::new_v4().to_string();
    super::kiosk_customers::create(&state, &client, id, &headers, session.map(|s| s.0)).await
}

/// Creates a customer with the caller's UUIDv4.
#[utoipa::path(post, path = "/identity/api/v1/customers/{id}", tag = "DIS", security(("bearer" = [])),
    params(("id" = String, Path), KioskCaptureHeaders),
    responses((status = 200, body = CreateCustomerResponse), (status = 400, description = "INVALID_ID"), (status = 422, description = "ALREADY_EXISTS")))]
async fn create_customer_with_id(
    State(state): State<AppState>,
    Authed(client): Authed,
    session: Option<axum::Extension<DisSession>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> DisResult<(HeaderMap, Json<CreateCustomerResponse>)> {
    let parsed = uuid::Uuid::parse_str(&id)
        .ok()
        .filter(|u| u.get_version_num() == 4)
        .ok_or_else(|| ApiError::invalid("The id must be a UUIDv4").with_vendor_code("INVALID_ID"))?;
    super::kiosk_customers::create(&state, &client, parsed.to_string(), &headers, session.map(|s| s.0)).await
}

/// Vouch's own headers on customer creation: a kiosk captures the customer (docs/apis.md).
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)] // Read from the HeaderMap; this documents them.
struct KioskCaptureHeaders {
    /// Vouch's own: the saved flow a kiosk runs to capture the customer (its selfie, document pages and chip),
    /// taken over as the customer's once the case is over.
    #[param(rename = "Vouch-Kiosk-Flow")]
    vouch_kiosk_flow: Option<String>,
    /// Vouch's own, with Vouch-Kiosk-Flow at a central service: the branch whose paired kiosks may capture the
    /// customer (any kiosk when absent).
    #[param(rename = "Vouch-Branch")]
    vouch_branch: Option<String>,
    /// Vouch's own, with Vouch-Kiosk-Flow at a central service: the one paired kiosk (its id) that may.
    #[param(rename = "Vouch-Kiosk")]
    vouch_kiosk: Option<String>,
}

/// The customer, with the age and gender measured from the selfie once there is one.
#[utoipa::path(get, path = "/identity/api/v1/customers/{id}", tag = "DIS", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, body = GetCustomerResponse, headers(
        ("Vouch-Case-Status" = String, description = "Vouch's own, for a customer captured at a kiosk: where its case stands (pending, in_progress, completed, failed, expired, cancelled)"))),
        (status = 404)))]
async fn get_customer(
    State(state): State<AppState>,
    Authed(client): Authed,
    Path(id): Path<String>,
) -> DisResult<(HeaderMap, Json<GetCustomerResponse>)> {
    let (status, customer) = customer_view(&state, &client.id, &id).await?;
    Ok((status, Json(customer)))
}

/// The customer as `GET /customers/{id}` shows it, with the `Vouch-Case-Status` header of a kiosk customer.
pub(crate) async fn customer_view(
    state: &AppState,
    client: &str,
    id: &str,
) -> Result<(HeaderMap, GetCustomerResponse), ApiError> {
    let row = load_customer(state, client, id).await?;
    let status = super::kiosk_customers::case_status(state, &row).await?;
    let mut customer = Customer {
        age: None,
        gender: None,
        given_names: None,
        surname: None,
        full_name: None,
        date_of_birth: None,
        personal_number: None,
        nationality: None,
        document: None,
    };
    if let Some(face_id) = row.selfie_face_id {
        let a = face_with_image(state, client, &face_id, |engine, img, face| engine.aspects(img, face)).await?;
        customer.age = Some(BiometricValue { selfie: format!("{}", a.age.round() as i32) });
        customer.gender = Some(BiometricValue { selfie: if a.gender >= 0.5 { "M" } else { "F" }.into() });
    }
    let pages = super::pages::stored_readings(state, client, id).await?;
    if let Some(mrz) = super::pages::page_mrz(&pages) {
        customer = customer.with_mrz(&mrz, pages.iter().map(|(page, _)| page.clone()).collect());
    }
    if let Some((chip, _)) = super::document::stored_chip(state, client, id).await? {
        customer = customer.with_chip(&chip.holder, chip.portrait().is_some(), id);
    }
    Ok((status, GetCustomerResponse { customer }))
}

#[utoipa::path(delete, path = "/identity/api/v1/customers/{id}", tag = "DIS", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 204)))]
async fn delete_customer(
    State(state): State<AppState>,
    Authed(client): Authed,
    Path(id): Path<String>,
) -> DisResult<StatusCode> {
    state.db(move |s| s.delete_customer(&client.id, &id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Stores the customer's selfie: JSON (`image.data` / `image.url`, or `selfieOrigin`) or the raw image as
/// `application/octet-stream`.
#[utoipa::path(put, path = "/identity/api/v1/customers/{id}/selfie", tag = "DIS", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = CreateSelfieRequest,
    responses((status = 200, body = CreateSelfieResponse), (status = 400), (status = 404)))]
async fn put_selfie(
    State(state): State<AppState>,
    Authed(client): Authed,
    Path(id): Path<String>,
    req: Request,
) -> DisResult<Json<CreateSelfieResponse>> {
    let ct = content_type(&req);
    let body: Bytes = read_body(req, &state).await?;
    let bytes = match ct.as_str() {
        "application/octet-stream" => body.to_vec(),
        "application/json" => {
            let parsed: CreateSelfieRequest = json_body(&body)?;
            image_or_origin(&state, &client.id, parsed.image, parsed.selfie_origin, "selfieOrigin").await?
        }
        _ => {
            return Err(ApiError::new(
                Code::UnsupportedMediaType,
                "Content-Type must be application/json or application/octet-stream",
            )
            .into())
        }
    };
    // Refuse an unknown customer before running the models.
    load_customer(&state, &client.id, &id).await?;
    Ok(Json(store_selfie(&state, &client.id, &id, bytes).await?))
}

/// Enrols the face in `bytes` as the customer's selfie, replacing the one it had; a photo without a face is
/// answered NO_FACE_DETECTED with nothing stored.
pub(crate) async fn store_selfie(
    state: &AppState,
    client_id: &str,
    id: &str,
    bytes: Vec<u8>,
) -> Result<CreateSelfieResponse, ApiError> {
    let (found, bytes) = analyse(state, bytes, false).await?;
    let (face, template, warnings) = match found {
        Enrolment::Face { face, template, others } => (face, template, enrol_warnings(others)),
        _ => {
            return Ok(CreateSelfieResponse {
                detection: None,
                links: None,
                error_code: Some("NO_FACE_DETECTED"),
                warnings: Vec::new(),
            })
        }
    };
    let face_id = uuid::Uuid::new_v4().to_string();
    let detection = serde_json::to_string(&face).map_err(ApiError::internal)?;
    let (client_id, cid) = (client_id.to_string(), id.to_string());
    state
        .db(move |s| {
            s.set_customer_selfie(
                &client_id,
                &cid,
                NewFace {
                    id: &face_id,
                    client_id: &client_id,
                    image: &bytes,
                    template: &template,
                    detection: &detection,
                },
            )
        })
        .await
        .map_err(|e| e.with_not_found("Customer not found"))?;
    Ok(CreateSelfieResponse {
        detection: Some(detection_dto(&face)),
        links: Some(links(format!("{PREFIX}/customers/{id}/selfie"))),
        error_code: None,
        warnings,
    })
}

/// The customer's selfie, cropped to the face.
#[utoipa::path(get, path = "/identity/api/v1/customers/{id}/selfie", tag = "DIS", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, body = ImageCrop), (status = 404)))]
async fn get_selfie(
    State(state): State<AppState>,
    Authed(client): Authed,
    Path(id): Path<String>,
) -> DisResult<Json<ImageCrop>> {
    let row = load_customer(&state, &client.id, &id).await?;
    let face_id = row.selfie_face_id.ok_or_else(|| ApiError::not_found("The customer has no selfie"))?;
    // The selfie at full resolution: no height cap.
    let data =
        face_with_image(&state, &client.id, &face_id, |_, img, face| portrait_png(img, face, f32::INFINITY)).await?;
    Ok(Json(ImageCrop { data }))
}

#[utoipa::path(delete, path = "/identity/api/v1/customers/{id}/selfie", tag = "DIS", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 204)))]
async fn delete_selfie(
    State(state): State<AppState>,
    Authed(client): Authed,
    Path(id): Path<String>,
) -> DisResult<StatusCode> {
    state.db(move |s| s.delete_customer_selfie(&client.id, &id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

//! The DIS customer document from page photos: creating the document (advice and sources), uploading a page
//! (JSON or the raw image), the flattened page and its quality back, the page portrait, and the metadata of
//! what Vouch reads. A page is read by `vouch_vision::document` (page corners, flattening, orientation, the MRZ
//! with Vouch's own recogniser, quality); its portrait is the largest face the face engine finds on it.
//! Crops no layout gives (ghost portrait, signature, fingerprint) answer 501 and are in the README's gaps.

use axum::extract::{Path, Query, Request, State};
use axum::http::StatusCode;
use axum::Json;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use vouch_core::mrz::{self, MrzFormat};
use vouch_store::documents::{NewPage, PageRow};
use vouch_vision::document::{PageQuality, PageReading};
use vouch_vision::image::{imageops, RgbImage};

use super::faces::{blob, content_type, json_body, portrait_rect, DisResult, ImageCrop, ImageDto, Links, PREFIX};
use crate::error::{ApiError, Code};
use crate::extract::{read_body, Authed};
use crate::state::AppState;

/// The sources PUT /document accepts and what Vouch does with each.
const SOURCES: [(&str, Option<&str>); 5] = [
    ("MRZ", None),
    ("DOCUMENT_PORTRAIT", None),
    ("VIZ", Some("the visual zone is not read: fields come from the MRZ")),
    ("BARCODE", Some("barcodes are not read")),
    ("GLOBAL_OCR", Some("global OCR is not built")),
];

#[derive(Debug, Deserialize, Serialize, ToSchema, Default)]
#[serde(rename_all = "camelCase")]
pub struct CreateDocumentRequest {
    /// Classification advice; recorded with the document (see docs/apis.md for what is enforced).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub advice: Option<serde_json::Value>,
    /// VIZ, MRZ, BARCODE, DOCUMENT_PORTRAIT or GLOBAL_OCR.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sources: Option<Vec<String>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UnsupportedSource {
    pub source: String,
    pub reason: &'static str,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateDocumentResponse {
    pub links: Links,
    /// Vouch's addition: the requested sources it does not read, and why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unsupported_sources: Vec<UnsupportedSource>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct DocumentPageClassificationAdvice {
    #[serde(rename = "pageTypes")]
    pub page_types: Vec<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct DocumentPageAdvice {
    pub classification: Option<DocumentPageClassificationAdvice>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateDocumentPageRequest {
    pub image: Option<ImageDto>,
    pub advice: Option<DocumentPageAdvice>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema, Clone, Copy)]
pub struct Point {
    pub x: i32,
    pub y: i32,
}

#[derive(Debug, Serialize, Deserialize, ToSchema, Clone)]
#[serde(rename_all = "camelCase")]
pub struct DocumentCoordinates {
    pub top_left_corner: Point,
    pub top_right_corner: Point,
    pub bottom_right_corner: Point,
    pub bottom_left_corner: Point,
}

#[derive(Debug, Serialize, Deserialize, ToSchema, Clone)]
#[serde(rename_all = "camelCase")]
pub struct DocumentDetection {
    pub confidence: f64,
    pub coordinates: DocumentCoordinates,
    pub corner_out_of_image: bool,
}

#[derive(Debug, Serialize, Deserialize, ToSchema, Clone)]
#[serde(rename_all = "camelCase")]
pub struct DocumentType {
    /// ISO 3166 alpha-3 of the issuing state, lower case, from the MRZ.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// passport, identity-card or visa.
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub machine_readable_travel_document: Option<String>,
    /// MRZ_EXTRACTION_ONLY: Vouch reads the MRZ of any ICAO 9303 document, no country templates.
    pub support_level: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateDocumentPageResponse {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document_type: Option<DocumentType>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detection: Option<DocumentDetection>,
    /// NO_CARD_CORNERS_DETECTED or PAGE_DOESNT_MATCH_DOCUMENT_TYPE_OF_PREVIOUS_PAGE; nothing was stored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub links: Option<Links>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema, Clone)]
pub struct QualityCheckDetail {
    pub score: f64,
    /// LOW, MEDIUM or HIGH.
    pub level: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema, Clone)]
pub struct QualityDetails {
    pub sharpness: QualityCheckDetail,
    pub brightness: QualityCheckDetail,
    pub hotspots: QualityCheckDetail,
}

#[derive(Debug, Serialize, Deserialize, ToSchema, Clone)]
pub struct DocumentPageQuality {
    pub fine: bool,
    pub issues: Vec<String>,
    pub warnings: Vec<String>,
    pub details: QualityDetails,
}

/// What was read from a page, stored encrypted (the MRZ is personal data).
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct StoredReading {
    pub detection: DocumentDetection,
    pub document_type: Option<DocumentType>,
    /// The MRZ as it should read after repair, lines joined by `\n`.
    pub mrz: Option<String>,
    pub quality: DocumentPageQuality,
}

/// The size DIS asks a crop in: `width` or `height` scales it keeping its aspect; both set the size.
#[derive(Debug, Default, Deserialize, IntoParams)]
pub struct CropSize {
    pub width: Option<u32>,
    pub height: Option<u32>,
}

impl CropSize {
    /// The size to give a `w` × `h` crop; None when none was asked.
    pub(crate) fn target(&self, w: u32, h: u32) -> Result<Option<(u32, u32)>, ApiError> {
        for v in [self.width, self.height].into_iter().flatten() {
            if !(1..=4096).contains(&v) {
                return Err(ApiError::invalid("width and height must be between 1 and 4096")
                    .with_vendor_code("INVALID_REQUEST_PARAMETER"));
            }
        }
        let (w, h) = (w.max(1) as f32, h.max(1) as f32);
        Ok(match (self.width, self.height) {
            (Some(tw), Some(th)) => Some((tw, th)),
            (Some(tw), None) => Some((tw, ((tw as f32) * h / w).round().max(1.0) as u32)),
            (None, Some(th)) => Some((((th as f32) * w / h).round().max(1.0) as u32, th)),
            (None, None) => None,
        })
    }
}

pub fn routes(state: AppState) -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(put_document))
        .routes(routes!(put_page))
        .routes(routes!(get_page))
        .routes(routes!(get_page_quality))
        .routes(routes!(get_portrait))
        .routes(routes!(get_ghost_portrait))
        .routes(routes!(get_signature))
        .routes(routes!(get_fingerprint))
        .routes(routes!(metadata))
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), crate::load::limit_images))
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), super::sessions::bearer_or_session))
        .layer(crate::extract::body_limit(state.config.image_body_limit_bytes))
}

fn detail(d: vouch_vision::document::quality::Detail) -> QualityCheckDetail {
    let level = serde_json::to_value(d.level).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default();
    QualityCheckDetail { score: f64::from(d.score), level }
}

fn names<T: Serialize>(items: &[T]) -> Vec<String> {
    items.iter().filter_map(|i| serde_json::to_value(i).ok().and_then(|v| v.as_str().map(String::from))).collect()
}

fn quality_dto(q: &PageQuality) -> DocumentPageQuality {
    DocumentPageQuality {
        fine: q.fine,
        issues: names(&q.issues),
        warnings: names(&q.warnings),
        details: QualityDetails {
            sharpness: detail(q.sharpness),
            brightness: detail(q.brightness),
            hotspots: detail(q.hotspots),
        },
    }
}

fn point([x, y]: [f32; 2]) -> Point {
    Point { x: x.round() as i32, y: y.round() as i32 }
}

fn detection_dto(page: &PageReading, width: u32, height: u32) -> DocumentDetection {
    let [tl, tr, br, bl] = page.quad.corners;
    DocumentDetection {
        confidence: f64::from(page.quad.confidence),
        coordinates: DocumentCoordinates {
            top_left_corner: point(tl),
            top_right_corner: point(tr),
            bottom_right_corner: point(br),
            bottom_left_corner: point(bl),
        },
        corner_out_of_image: page.quad.out_of_image(width, height),
    }
}

fn document_type(page: &PageReading) -> Option<DocumentType> {
    let read = page.mrz.as_ref()?;
    let kind = mrz::document_kind(&read.mrz.document_code);
    let format = serde_json::to_value(read.mrz.format).ok().and_then(|v| v.as_str().map(String::from));
    Some(DocumentType {
        country: Some(read.mrz.issuing_state.replace('<', "").to_ascii_lowercase()).filter(|c| !c.is_empty()),
        kind: kind.into(),
        machine_readable_travel_document: format,
        support_level: "MRZ_EXTRACTION_ONLY".into(),
    })
}

/// A page as read and stored: the flattened page (PNG), the portrait crop (PNG) and the reading.
struct ReadPage {
    reading: PageReading,
    flat: Vec<u8>,
    portrait: Option<Vec<u8>>,
    width: u32,
    height: u32,
}

/// Creates the customer's document as a PUT without a body does, when it has none.
pub(crate) async fn ensure_document(state: &AppState, client_id: &str, id: &str) -> Result<(), ApiError> {
    let (client_id, cid) = (client_id.to_string(), id.to_string());
    let request = serde_json::to_string(&CreateDocumentRequest::default()).map_err(ApiError::internal)?;
    state
        .db(move |s| match s.document_request(&client_id, &cid)? {
            Some(_) => Ok(()),
            None => s.create_document(&client_id, &cid, &request),
        })
        .await
}

/// Creates (or replaces) the customer's document. Its sources say what to read; the response names those
/// Vouch does not read.
#[utoipa::path(put, path = "/identity/api/v1/customers/{id}/document", tag = "DIS",
    security(("bearer" = [])), params(("id" = String, Path)), request_body = CreateDocumentRequest,
    responses((status = 200, body = CreateDocumentResponse), (status = 400), (status = 404)))]
async fn put_document(
    State(state): State<AppState>,
    Authed(client): Authed,
    Path(id): Path<String>,
    req: Request,
) -> DisResult<Json<CreateDocumentResponse>> {
    let body = read_body(req, &state).await?;
    let request: CreateDocumentRequest =
        if body.is_empty() { CreateDocumentRequest::default() } else { json_body(&body)? };
    let mut unsupported = Vec::new();
    for source in request.sources.iter().flatten() {
        match SOURCES.iter().find(|(name, _)| name == source) {
            None => {
                return Err(ApiError::invalid(format!(
                    "sources: {source} is not one of VIZ, MRZ, BARCODE, DOCUMENT_PORTRAIT, GLOBAL_OCR"
                ))
                .into())
            }
            Some((_, Some(reason))) => unsupported.push(UnsupportedSource { source: source.clone(), reason }),
            Some((_, None)) => {}
        }
    }
    let stored = serde_json::to_string(&request).map_err(ApiError::internal)?;
    let (client_id, cid) = (client.id.clone(), id.clone());
    state
        .db(move |s| s.create_document(&client_id, &cid, &stored))
        .await
        .map_err(|e| e.with_not_found("Customer not found"))?;
    Ok(Json(CreateDocumentResponse {
        links: Links { self_link: format!("{PREFIX}/customers/{id}/document") },
        unsupported_sources: unsupported,
    }))
}

/// Reads a page photo: JSON `{image: {data | url}, advice}` or the raw image as `application/octet-stream`.
/// `errorCode` NO_CARD_CORNERS_DETECTED when no document is in it, PAGE_DOESNT_MATCH_DOCUMENT_TYPE_OF_PREVIOUS_PAGE
/// when the other page's MRZ says another document; nothing is stored then.
#[utoipa::path(put, path = "/identity/api/v1/customers/{id}/document/pages", tag = "DIS",
    security(("bearer" = [])), params(("id" = String, Path)), request_body = CreateDocumentPageRequest,
    responses((status = 200, body = CreateDocumentPageResponse), (status = 400, description = "INVALID_IMAGE, INVALID_REQUEST_BODY"),
        (status = 404, description = "no such customer, or no document: PUT /customers/{id}/document first")))]
async fn put_page(
    State(state): State<AppState>,
    Authed(client): Authed,
    Path(id): Path<String>,
    req: Request,
) -> DisResult<Json<CreateDocumentPageResponse>> {
    let ct = content_type(&req);
    let body = read_body(req, &state).await?;
    let (bytes, advised) = match ct.as_str() {
        "application/octet-stream" => (body.to_vec(), None),
        "application/json" => {
            let parsed: CreateDocumentPageRequest = json_body(&body)?;
            let image = parsed.image.ok_or_else(|| ApiError::invalid("image is required"))?;
            let advised = parsed.advice.and_then(|a| a.classification).map(|c| c.page_types);
            (super::faces::image_bytes(&state, image).await?, advised)
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
    let (client_id, cid) = (client.id.clone(), id.clone());
    if state.db(move |s| s.document_request(&client_id, &cid)).await?.is_none() {
        return Err(
            ApiError::not_found("The customer has no document: create it with PUT /customers/{id}/document").into()
        );
    }
    read_page(&state, &client.id, &id, bytes, advised).await
}

/// Reads a photo of a page of the customer's document (which exists) and stores what it read.
pub(crate) async fn read_page(
    state: &AppState,
    client_id: &str,
    id: &str,
    bytes: Vec<u8>,
    advised: Option<Vec<String>>,
) -> DisResult<Json<CreateDocumentPageResponse>> {
    let limits = state.faces.limits;
    let read = state
        .documents
        .run(move |reader| {
            let frame = vouch_vision::decode(&bytes, limits)?;
            let Some(reading) = reader.read(&frame)? else { return Ok(None) };
            let page = reading.flatten(&frame).unwrap_or_else(|| RgbImage::new(1, 1));
            let flat = vouch_vision::image_io::encode_png(&page)?;
            Ok(Some((reading, page, flat, frame.width(), frame.height())))
        })
        .await?;
    let Some((reading, page, flat, width, height)) = read else {
        tracing::info!(customer = %id, "document page refused: NO_CARD_CORNERS_DETECTED");
        return Ok(Json(CreateDocumentPageResponse {
            document_type: None,
            page_type: None,
            detection: None,
            error_code: Some("NO_CARD_CORNERS_DETECTED"),
            warnings: Vec::new(),
            links: None,
        }));
    };
    // The page portrait: the largest face the face engine finds on the flattened page.
    let portrait = state
        .faces
        .run(move |engine| {
            let faces = engine.detect(&page)?.faces;
            let Some(face) = faces.into_iter().max_by(|a, b| a.rect.area().total_cmp(&b.rect.area())) else {
                return Ok(None);
            };
            let r = portrait_rect(&face, page.width(), page.height());
            let crop =
                imageops::crop_imm(&page, r.x0 as u32, r.y0 as u32, r.width() as u32, r.height() as u32).to_image();
            Ok(Some(vouch_vision::image_io::encode_png(&crop)?))
        })
        .await?;
    store_page(state, client_id, id, ReadPage { reading, flat, portrait, width, height }, advised).await
}

async fn store_page(
    state: &AppState,
    client: &str,
    id: &str,
    page: ReadPage,
    advised: Option<Vec<String>>,
) -> DisResult<Json<CreateDocumentPageResponse>> {
    let reading = &page.reading;
    let kind = document_type(reading);
    let side = reading.side.as_str().to_string();
    let mut warnings = Vec::new();
    if kind.is_none() {
        warnings.push("DOCUMENT_TYPE_NOT_RECOGNIZED");
    }
    if let Some(advised) = advised.filter(|a| !a.is_empty()) {
        if !advised.iter().any(|a| a.eq_ignore_ascii_case(&side)) {
            warnings.push("PAGE_CLASSIFICATION_CHANGED");
        }
    }
    let (client_id, cid) = (client.to_string(), id.to_string());
    let others: Vec<PageRow> = state.db(move |s| s.pages(&client_id, &cid)).await?;
    let format = kind.as_ref().and_then(|k| k.machine_readable_travel_document.clone());
    let conflict = others.iter().filter(|p| p.page_type != side).any(|p| {
        let type_differs = kind.as_ref().is_some_and(|k| p.document_type != "unknown" && p.document_type != k.kind);
        let format_differs = matches!((&p.mrz_format, &format), (Some(a), Some(b)) if a != b);
        type_differs || format_differs
    });
    let detection = detection_dto(reading, page.width, page.height);
    if conflict {
        tracing::info!(customer = %id, "document page refused: PAGE_DOESNT_MATCH_DOCUMENT_TYPE_OF_PREVIOUS_PAGE");
        return Ok(Json(CreateDocumentPageResponse {
            document_type: kind,
            page_type: Some(side),
            detection: Some(detection),
            error_code: Some("PAGE_DOESNT_MATCH_DOCUMENT_TYPE_OF_PREVIOUS_PAGE"),
            warnings,
            links: None,
        }));
    }
    if side == "back" && !others.iter().any(|p| p.page_type == "front") {
        warnings.push("MISSING_FRONT_PAGE");
    }
    let stored = StoredReading {
        detection: detection.clone(),
        document_type: kind.clone(),
        mrz: reading.mrz.as_ref().map(|m| m.text()),
        quality: quality_dto(&reading.quality),
    };
    let stored = serde_json::to_vec(&stored).map_err(ApiError::internal)?;
    tracing::info!(
        customer = %id,
        page = %side,
        mrz_read = reading.mrz.is_some(),
        mrz_valid = reading.mrz.as_ref().is_some_and(|m| m.valid()),
        quality_fine = reading.quality.fine,
        "document page stored"
    );
    let (client_id, cid, page_type) = (client.to_string(), id.to_string(), side.clone());
    let document_kind = kind.as_ref().map_or("unknown".to_string(), |k| k.kind.clone());
    let ReadPage { flat, portrait, .. } = page;
    state
        .db(move |s| {
            s.put_page(
                &client_id,
                &cid,
                NewPage {
                    page_type: &page_type,
                    document_type: &document_kind,
                    mrz_format: format.as_deref(),
                    image: &flat,
                    portrait: portrait.as_deref(),
                    reading: &stored,
                },
            )
        })
        .await
        .map_err(|e| e.with_not_found("The customer has no document: create it with PUT /customers/{id}/document"))?;
    Ok(Json(CreateDocumentPageResponse {
        document_type: kind,
        page_type: Some(side.clone()),
        detection: Some(detection),
        error_code: None,
        warnings,
        links: Some(Links { self_link: format!("{PREFIX}/customers/{id}/document/pages/{side}") }),
    }))
}

async fn page_row(state: &AppState, client: &str, id: &str, page_type: &str) -> Result<PageRow, ApiError> {
    let (client, cid) = (client.to_string(), id.to_string());
    let pages = state.db(move |s| s.pages(&client, &cid)).await.map_err(|e| e.with_not_found("Customer not found"))?;
    pages
        .into_iter()
        .find(|p| p.page_type == page_type)
        .ok_or_else(|| ApiError::not_found(format!("The customer's document has no {page_type} page")))
}

/// The MRZ of the customer's pages, parsed: the first that passes every check, else the first read.
pub(crate) fn page_mrz(pages: &[(String, StoredReading)]) -> Option<vouch_core::mrz::Mrz> {
    let parsed: Vec<vouch_core::mrz::Mrz> =
        pages.iter().filter_map(|(_, r)| r.mrz.as_deref()).filter_map(|m| mrz::parse(m).ok()).collect();
    let valid = parsed.iter().position(|m| m.checks.all_valid()).unwrap_or(0);
    parsed.into_iter().nth(valid)
}

/// The stored readings of the customer's pages (for inspection and the customer view).
pub(crate) async fn stored_readings(
    state: &AppState,
    client: &str,
    id: &str,
) -> Result<Vec<(String, StoredReading)>, ApiError> {
    let (client, cid) = (client.to_string(), id.to_string());
    let pages = state.db(move |s| s.pages(&client, &cid)).await?;
    let mut out = Vec::with_capacity(pages.len());
    for page in pages {
        let bytes = blob(state, page.reading_sha256.clone()).await?;
        let reading: StoredReading = serde_json::from_slice(&bytes).map_err(ApiError::internal)?;
        out.push((page.page_type, reading));
    }
    Ok(out)
}

/// The PNG resized as `size` asks ([`CropSize::target`]), as base64.
fn resized_png(png: &[u8], size: &CropSize) -> Result<String, ApiError> {
    let out = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    if size.width.is_none() && size.height.is_none() {
        return Ok(out(png));
    }
    let image = vouch_vision::image::load_from_memory(png).map_err(ApiError::internal)?.to_rgb8();
    let Some((tw, th)) = size.target(image.width(), image.height())? else { return Ok(out(png)) };
    let resized = imageops::resize(&image, tw, th, imageops::FilterType::Triangle);
    Ok(out(&vouch_vision::image_io::encode_png(&resized).map_err(ApiError::internal)?))
}

/// The page flattened to its ISO format at 8 px/mm (a passport page is 1000 × 704), as a base64 PNG.
#[utoipa::path(get, path = "/identity/api/v1/customers/{id}/document/pages/{page-type}", tag = "DIS",
    security(("bearer" = [])), params(("id" = String, Path), ("page-type" = String, Path), CropSize),
    responses((status = 200, body = ImageCrop), (status = 400), (status = 404)))]
async fn get_page(
    State(state): State<AppState>,
    Authed(client): Authed,
    Path((id, page_type)): Path<(String, String)>,
    Query(size): Query<CropSize>,
) -> DisResult<Json<ImageCrop>> {
    let row = page_row(&state, &client.id, &id, &page_type).await?;
    let png = blob(&state, row.image_sha256).await?;
    Ok(Json(ImageCrop { data: resized_png(&png, &size)? }))
}

/// The page's quality as DIS reports it.
#[utoipa::path(get, path = "/identity/api/v1/customers/{id}/document/pages/{page-type}/quality", tag = "DIS",
    security(("bearer" = [])), params(("id" = String, Path), ("page-type" = String, Path)),
    responses((status = 200, body = DocumentPageQuality), (status = 404)))]
async fn get_page_quality(
    State(state): State<AppState>,
    Authed(client): Authed,
    Path((id, page_type)): Path<(String, String)>,
) -> DisResult<Json<DocumentPageQuality>> {
    let row = page_row(&state, &client.id, &id, &page_type).await?;
    let bytes = blob(&state, row.reading_sha256).await?;
    let reading: StoredReading = serde_json::from_slice(&bytes).map_err(ApiError::internal)?;
    Ok(Json(reading.quality))
}

/// The portrait printed on the document, cropped from the page where the face engine found it.
#[utoipa::path(get, path = "/identity/api/v1/customers/{id}/document/portrait", tag = "DIS",
    security(("bearer" = [])), params(("id" = String, Path), CropSize),
    responses((status = 200, body = ImageCrop), (status = 404)))]
async fn get_portrait(
    State(state): State<AppState>,
    Authed(client): Authed,
    Path(id): Path<String>,
    Query(size): Query<CropSize>,
) -> DisResult<Json<ImageCrop>> {
    let (client_id, cid) = (client.id.clone(), id.clone());
    let pages =
        state.db(move |s| s.pages(&client_id, &cid)).await.map_err(|e| e.with_not_found("Customer not found"))?;
    let sha = pages
        .into_iter()
        .find_map(|p| p.portrait_sha256)
        .ok_or_else(|| ApiError::not_found("No portrait was found on the customer's document pages"))?;
    let png = blob(&state, sha).await?;
    Ok(Json(ImageCrop { data: resized_png(&png, &size)? }))
}

fn no_crop(what: &str, why: &str) -> ApiError {
    ApiError::new(
        Code::NotImplemented,
        format!("The document {what} is not cropped by Vouch: {why}. See the gaps table in the README"),
    )
}

/// Not built: Vouch has no per-country layouts that would place a ghost portrait.
#[utoipa::path(get, path = "/identity/api/v1/customers/{id}/document/ghost-portrait", tag = "DIS",
    security(("bearer" = [])), params(("id" = String, Path)), responses((status = 501)))]
async fn get_ghost_portrait(Path(_id): Path<String>) -> DisResult<StatusCode> {
    Err(no_crop("ghost portrait", "no document layouts place it").into())
}

/// Not built: Vouch has no per-country layouts that would place the holder's signature.
#[utoipa::path(get, path = "/identity/api/v1/customers/{id}/document/signature", tag = "DIS",
    security(("bearer" = [])), params(("id" = String, Path)), responses((status = 501)))]
async fn get_signature(Path(_id): Path<String>) -> DisResult<StatusCode> {
    Err(no_crop("signature", "no document layouts place it").into())
}

/// Not built: no document layouts place a printed fingerprint.
#[utoipa::path(get, path = "/identity/api/v1/customers/{id}/document/fingerprint", tag = "DIS",
    security(("bearer" = [])), params(("id" = String, Path)), responses((status = 501)))]
async fn get_fingerprint(Path(_id): Path<String>) -> DisResult<StatusCode> {
    Err(no_crop("fingerprint", "no document layouts place it").into())
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PortraitMetadata {
    pub present: bool,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PageMetadata {
    pub classification_advice_required: bool,
    pub portrait: PortraitMetadata,
    /// Vouch reads no visual-zone fields (VIZ OCR is not built): always empty.
    #[schema(value_type = Object)]
    pub visual_zone: serde_json::Map<String, serde_json::Value>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MetadataDocument {
    pub document_type: DocumentType,
    #[schema(value_type = Object)]
    pub pages: std::collections::BTreeMap<String, PageMetadata>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DocumentMetadataResponse {
    pub documents: Vec<MetadataDocument>,
}

/// The documents Vouch reads: any ICAO 9303 document by its MRZ (no country templates), with the page
/// portrait where the page has one.
#[utoipa::path(get, path = "/identity/api/v1/metadata", tag = "DIS", security(("bearer" = [])),
    responses((status = 200, body = DocumentMetadataResponse)))]
async fn metadata() -> Json<DocumentMetadataResponse> {
    let page = |portrait: bool| PageMetadata {
        classification_advice_required: false,
        portrait: PortraitMetadata { present: portrait },
        visual_zone: serde_json::Map::new(),
    };
    let doc = |kind: &str, format: MrzFormat, pages: Vec<(&str, bool)>| MetadataDocument {
        document_type: DocumentType {
            country: None,
            kind: kind.into(),
            machine_readable_travel_document: serde_json::to_value(format)
                .ok()
                .and_then(|v| v.as_str().map(String::from)),
            support_level: "MRZ_EXTRACTION_ONLY".into(),
        },
        pages: pages.into_iter().map(|(name, portrait)| (name.to_string(), page(portrait))).collect(),
    };
    Json(DocumentMetadataResponse {
        documents: vec![
            doc("passport", MrzFormat::Td3, vec![("front", true)]),
            doc("identity-card", MrzFormat::Td1, vec![("front", true), ("back", false)]),
            doc("identity-card", MrzFormat::Td2, vec![("front", true)]),
            doc("visa", MrzFormat::MrvA, vec![("front", true)]),
            doc("visa", MrzFormat::MrvB, vec![("front", true)]),
        ],
    })
}

/// The expiry a page MRZ gives: whether the document had expired before today.
pub(crate) fn mrz_expired(text: &str) -> Option<bool> {
    vouch_core::step_rules::mrz_expired(&mrz::parse(text).ok()?, vouch_app::today())
}

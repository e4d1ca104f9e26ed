//! The kiosk bridge over HTTP: pairing a browser, `POST /vouch/v1/kiosk/{command}` (the commands themselves are
//! `vouch_app::kiosk`'s, the same ones the Tauri window sends over IPC), and the camera preview stream.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::Json;
use serde_json::Value;
use utoipa_axum::{router::OpenApiRouter, routes};
use vouch_app::kiosk::bridge::{self, PreviewCamera, BRIDGE_COOKIE};
use vouch_app::kiosk::{call, Transport};

use crate::error::{ApiError, Code, Failure, Native};
use crate::extract::{bearer_token, JsonBody};
use crate::native::NativeError;
use crate::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(kiosk_pair)).routes(routes!(kiosk_command)).routes(routes!(camera_preview))
}

#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PairArgs {
    /// The pairing code `vouch serve` printed on its console (also in `<data dir>/bridge-pairing-code`).
    pub code: String,
}

/// Pairs a browser with the kiosk bridge: the right code sets the bridge session cookie (`HttpOnly`,
/// `SameSite=Strict`) that every `/vouch/v1/kiosk/{command}` call needs. Ten wrong codes replace the code.
#[utoipa::path(post, path = "/vouch/v1/kiosk/pair", tag = "Kiosk", request_body = PairArgs,
    responses((status = 200, body = Object), (status = 401, body = NativeError), (status = 422, body = NativeError)))]
async fn kiosk_pair(
    State(state): State<AppState>,
    JsonBody(args, ..): JsonBody<PairArgs, Native>,
) -> Result<axum::response::Response, Failure<Native>> {
    use axum::response::IntoResponse;
    if args.code.len() > 64 {
        return Err(ApiError::invalid("A pairing code is 10 letters and digits").into());
    }
    let Some(token) = state.kiosk.bridge.pair(&args.code) else {
        tracing::warn!("a wrong kiosk bridge pairing code");
        return Err(ApiError::new(Code::Unauthorized, "That pairing code is not right")
            .with_vendor_code("bridge_pairing_code_wrong")
            .into());
    };
    tracing::info!("a browser paired with the kiosk bridge");
    let secure = if state.app.public_url.starts_with("https://") { "; Secure" } else { "" };
    let cookie = format!(
        "{}={token}; Path=/vouch/v1/kiosk; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
        BRIDGE_COOKIE,
        bridge::BRIDGE_IDLE.as_secs()
    );
    let mut resp = Json(serde_json::json!({"paired": true})).into_response();
    let value = axum::http::HeaderValue::from_str(&cookie).map_err(ApiError::internal)?;
    resp.headers_mut().insert(axum::http::header::SET_COOKIE, value);
    resp.headers_mut().insert(axum::http::header::CACHE_CONTROL, axum::http::HeaderValue::from_static("no-store"));
    Ok(resp)
}

#[derive(serde::Deserialize)]
struct PreviewQuery {
    t: String,
}

/// The kiosk camera's live preview as an MJPEG stream (`multipart/x-mixed-replace`), for an `<img>`. The
/// token comes from the `camera_status` command, so only the kiosk UI can watch the camera.
#[utoipa::path(get, path = "/vouch/v1/kiosk/camera/preview", tag = "Kiosk",
    params(("t" = String, Query, description = "preview token from camera_status")),
    responses((status = 200, content_type = "multipart/x-mixed-replace"), (status = 403, body = NativeError),
              (status = 409, body = NativeError)))]
async fn camera_preview(
    State(state): State<AppState>,
    axum::extract::Query(q): axum::extract::Query<PreviewQuery>,
) -> Result<axum::response::Response, Failure<Native>> {
    // The token says which camera to watch; it is looked up by hash, so timing says nothing about it.
    let camera = match state.kiosk.bridge.preview_camera(&q.t) {
        Some(PreviewCamera::Kiosk) => &state.kiosk.camera,
        Some(PreviewCamera::Document) => &state.kiosk.document_camera,
        None => {
            return Err(
                ApiError::forbidden("The preview token is not valid or has expired; ask camera_status again").into()
            )
        }
    };
    let rx = camera.subscribe().map_err(vouch_app::kiosk::capture::camera_error)?;
    // 85 % of the frame interval, so that frame timing jitter does not drop a 30 fps source to every third frame.
    let min_gap = std::time::Duration::from_secs(1) * 85 / 100 / vouch_app::camera::PREVIEW_MAX_FPS;
    let stream = futures_util::stream::unfold((rx, None), move |(mut rx, last_sent)| async move {
        loop {
            rx.changed().await.ok()?;
            let shot = rx.borrow_and_update().clone();
            let Some(shot) = shot else { continue };
            // Frames arriving faster than the cap are skipped before they cost an encoding.
            if last_sent.is_some_and(|t: std::time::Instant| t.elapsed() < min_gap) {
                continue;
            }
            // Timed from the frame's arrival, not the end of its encoding, so the encoding does not eat the interval.
            let taken = std::time::Instant::now();
            let Ok(Some(jpeg)) = tokio::task::spawn_blocking(move || shot.preview_jpeg()).await else { continue };
            let mut part = Vec::with_capacity(jpeg.len() + 100);
            part.extend_from_slice(
                format!("--vouchframe\r\nContent-Type: image/jpeg\r\nContent-Length: {}\r\n\r\n", jpeg.len())
                    .as_bytes(),
            );
            part.extend_from_slice(&jpeg);
            part.extend_from_slice(b"\r\n");
            return Some((Ok::<_, std::convert::Infallible>(axum::body::Bytes::from(part)), (rx, Some(taken))));
        }
    });
    axum::response::Response::builder()
        .header(axum::http::header::CONTENT_TYPE, "multipart/x-mixed-replace; boundary=vouchframe")
        .header(axum::http::header::CACHE_CONTROL, "no-store")
        .body(axum::body::Body::from_stream(stream))
        .map_err(|e| ApiError::internal(e).into())
}

/// The kiosk UI's bridge over HTTP (inside the Tauri app the same commands go over IPC). Every call needs
/// the bridge session cookie from `/vouch/v1/kiosk/pair`. Arguments are a JSON object; staff commands need
/// `Authorization: Bearer <session>` from `sign_in`. The commands and who may call them are in docs/kiosk.md.
#[utoipa::path(post, path = "/vouch/v1/kiosk/{command}", tag = "Kiosk",
    params(("command" = String, Path, description = "e.g. kiosk_status, case_open, sign_in, queue, case_decide")),
    request_body(content = Object, description = "the command's arguments"),
    responses((status = 200, body = Object), (status = 401, body = NativeError), (status = 403, body = NativeError),
              (status = 404, body = NativeError), (status = 409, body = NativeError), (status = 422, body = NativeError),
              (status = 429, body = NativeError)))]
async fn kiosk_command(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(command): Path<String>,
    JsonBody(args, ..): JsonBody<Value, Native>,
) -> Result<Json<Value>, Failure<Native>> {
    if !cookie_token(&headers).is_some_and(|t| state.kiosk.bridge.is_paired(&t)) {
        return Err(ApiError::new(
            Code::Unauthorized,
            "Pair this screen with the kiosk first: enter the pairing code that vouch serve printed on its console",
        )
        .with_vendor_code("bridge_unpaired")
        .into());
    }
    let token = bearer_token(&headers).map(str::to_owned);
    Ok(Json(call(&state.kiosk, Transport::Http, token.as_deref(), &command, args).await?))
}

/// The bridge session cookie's value in a `Cookie` header, if any.
fn cookie_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == BRIDGE_COOKIE)
        .map(|(_, value)| value.to_string())
}

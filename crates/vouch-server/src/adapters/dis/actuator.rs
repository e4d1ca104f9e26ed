//! DIS's two unauthenticated actuator endpoints: health and info.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::state::AppState;

/// The release date stands in for DIS's licence date: Vouch has no licence that expires.
const RELEASE_DATE: (&str, &str, &str) = ("2026", "11", "22");

#[derive(Serialize, ToSchema)]
pub struct ActuatorHealth {
    /// UP or DOWN.
    pub status: &'static str,
}

#[derive(Serialize, ToSchema)]
pub struct Build {
    pub artifact: &'static str,
    pub name: &'static str,
    pub group: &'static str,
    pub version: &'static str,
}

#[derive(Serialize, ToSchema)]
pub struct License {
    pub year: &'static str,
    pub month: &'static str,
    pub day: &'static str,
}

#[derive(Serialize, ToSchema)]
pub struct Iface {
    pub version: &'static str,
    pub license: License,
}

#[derive(Serialize, ToSchema)]
pub struct Sam {
    pub version: &'static str,
}

#[derive(Serialize, ToSchema)]
pub struct ActuatorInfo {
    pub build: Build,
    /// Vouch has no IFace; this reports Vouch's own engine version.
    pub iface: Iface,
    /// Vouch has no SAM; this reports Vouch's own engine version.
    pub sam: Sam,
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(health)).routes(routes!(info))
}

/// Application health: UP when the store answers, DOWN (503) when it does not.
#[utoipa::path(get, path = "/identity/api/v1/health", tag = "DIS", responses(
    (status = 200, body = ActuatorHealth), (status = 503, body = ActuatorHealth)))]
async fn health(State(state): State<AppState>) -> (StatusCode, Json<ActuatorHealth>) {
    match state.db(|s| s.ping()).await {
        Ok(()) => (StatusCode::OK, Json(ActuatorHealth { status: "UP" })),
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, Json(ActuatorHealth { status: "DOWN" })),
    }
}

/// Application info in the DIS shape.
#[utoipa::path(get, path = "/identity/api/v1/info", tag = "DIS", responses((status = 200, body = ActuatorInfo)))]
async fn info() -> Json<ActuatorInfo> {
    let version = env!("CARGO_PKG_VERSION");
    Json(ActuatorInfo {
        build: Build { artifact: "vouch-server", name: "Vouch", group: "vouch", version },
        iface: Iface { version, license: License { year: RELEASE_DATE.0, month: RELEASE_DATE.1, day: RELEASE_DATE.2 } },
        sam: Sam { version },
    })
}

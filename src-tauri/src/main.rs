//! `vouch-kiosk`: the full-screen kiosk window. It starts Vouch's server in-process on the same store
//! (so the kiosk and integrators see the same cases), or talks to a remote Vouch server, and gives the
//! UI a single `call(command, args)` bridge to the same commands `/vouch/v1/kiosk/{command}` serves.
//!
//! Kiosk mode: full screen, no decorations, no context menu, no navigation away from the app, and the
//! window refuses to close; only the admin's `exit_app` (which needs an admin PIN session) ends it.

#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod backend;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use serde_json::Value;
use tauri::{Manager, WebviewUrl, WebviewWindowBuilder, WindowEvent};

use backend::{Backend, BridgeError};

/// Set only by an admin's `exit_app`; until then the window will not close.
struct ExitAllowed(Arc<AtomicBool>);

struct Started(Instant);

#[tauri::command]
async fn call(
    app: tauri::AppHandle,
    backend: tauri::State<'_, Backend>,
    command: String,
    args: Value,
    session: Option<String>,
) -> Result<Value, BridgeError> {
    let result = backend.call(&command, args, session.as_deref()).await?;
    if command == "exit_app" {
        tracing::info!("the admin ended kiosk mode");
        if let Some(flag) = app.try_state::<ExitAllowed>() {
            flag.0.store(true, Ordering::SeqCst);
        }
        let handle = app.clone();
        tauri::async_runtime::spawn(async move {
            // Let the reply reach the window first.
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
            handle.exit(0);
        });
    }
    Ok(result)
}

/// The UI reports its first interactive screen; the time from process start is the cold start.
#[tauri::command]
fn ui_ready(app: tauri::AppHandle, started: tauri::State<'_, Started>) {
    let ms = started.0.elapsed().as_millis();
    tracing::info!(cold_start_ms = ms as u64, "kiosk interactive");
    if std::env::var_os("VOUCH_EXIT_WHEN_READY").is_some() {
        println!("ready_ms={ms}");
        app.exit(0);
    }
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("VOUCH_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(vouch_server::config::DEFAULT_LOG_FILTER));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
}

fn main() -> anyhow::Result<()> {
    let started = Instant::now();
    init_logging();
    if std::env::var_os("DISPLAY").is_none() && std::env::var_os("WAYLAND_DISPLAY").is_none() {
        eprintln!("vouch-kiosk needs a display (neither DISPLAY nor WAYLAND_DISPLAY is set).");
        eprintln!(
            "Without one, run the same kiosk in a browser: `vouch serve`, then open http://127.0.0.1:8270/kiosk/"
        );
        std::process::exit(2);
    }
    let backend = tauri::async_runtime::block_on(Backend::from_environment()).context("starting the kiosk backend")?;
    tracing::info!(backend = %backend.describe(), "kiosk backend ready");
    let exit_allowed = Arc::new(AtomicBool::new(false));
    let guard = exit_allowed.clone();

    tauri::Builder::default()
        .manage(backend)
        .manage(ExitAllowed(exit_allowed))
        .manage(Started(started))
        .invoke_handler(tauri::generate_handler![call, ui_ready])
        .setup(|app| {
            let mut builder = WebviewWindowBuilder::new(app, "main", WebviewUrl::App("kiosk/index.html".into()));
            // Kiosk terminals often run X with no window manager, where a fullscreen request does nothing:
            // cover the whole monitor explicitly as well.
            if let Some(monitor) = app.primary_monitor()? {
                let size = monitor.size().to_logical::<f64>(monitor.scale_factor());
                builder = builder.inner_size(size.width, size.height).position(0.0, 0.0);
            }
            let window = builder
                .title("Vouch")
                .fullscreen(true)
                .decorations(false)
                .resizable(false)
                .focused(true)
                // Only the app's own pages: a link or a script can never take the kiosk somewhere else.
                .on_navigation(|url| {
                    let ok = url.scheme() == "tauri" || url.host_str() == Some("tauri.localhost");
                    if !ok {
                        tracing::warn!(scheme = url.scheme(), "blocked navigation away from the kiosk");
                    }
                    ok
                })
                .build()?;
            window.set_focus()?;
            Ok(())
        })
        .on_window_event(move |window, event| {
            if let WindowEvent::CloseRequested { api, .. } = event {
                if !guard.load(Ordering::SeqCst) {
                    tracing::warn!(window = window.label(), "refused to close: exit from admin settings");
                    api.prevent_close();
                }
            }
        })
        .run(tauri::generate_context!())
        .context("running the kiosk window")?;
    Ok(())
}

//! Camera sources: discovery of the webcams the system exposes, the `Camera` trait, the V4L2 webcam (with
//! reconnect after unplug), and the demo and test sources (file camera, synthetic pattern).

pub mod camera;
pub mod mode;
pub mod pixels;
pub mod reconnect;
pub mod synthetic_document;
#[cfg(target_os = "linux")]
pub mod webcam;

pub use camera::{Camera, CaptureError, FileCamera, Frame, SourceInfo, SourceKind, SyntheticCamera};
pub use mode::{choose_mode, Mode, ModeRequest};
pub use reconnect::ReconnectingCamera;

use std::path::Path;

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct CameraInfo {
    /// The device node, e.g. `/dev/video0`.
    pub device: String,
    /// The name the driver reports, e.g. `Logitech BRIO`. Survives unplug and replug; the node may not.
    pub name: String,
    /// The N of `/dev/videoN`.
    #[serde(skip)]
    pub index: u32,
}

/// Video capture devices listed by V4L2 in sysfs. Empty when the machine has none (or no sysfs). A UVC
/// webcam also exposes a metadata node that cannot capture; only each device's first node is listed.
pub fn list_cameras() -> Vec<CameraInfo> {
    list_cameras_in(Path::new("/sys/class/video4linux"))
}

/// The camera a selector names: empty for the first, a `/dev/videoN` node, or a name (case-insensitive).
pub fn find_camera<'a>(cameras: &'a [CameraInfo], selector: &str) -> Option<&'a CameraInfo> {
    let selector = selector.trim();
    if selector.is_empty() {
        return cameras.first();
    }
    cameras
        .iter()
        .find(|c| c.device == selector)
        .or_else(|| cameras.iter().find(|c| c.name.eq_ignore_ascii_case(selector)))
}

fn list_cameras_in(sysfs: &Path) -> Vec<CameraInfo> {
    let Ok(entries) = std::fs::read_dir(sysfs) else {
        return Vec::new();
    };
    let read = |p: std::path::PathBuf| std::fs::read_to_string(p).unwrap_or_default().trim().to_string();
    let mut cameras: Vec<CameraInfo> = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let node = e.file_name().to_string_lossy().into_owned();
            let index = node.strip_prefix("video")?.parse::<u32>().ok()?;
            // `index` is the node's number within its device: 0 for capture, 1 for a UVC metadata node.
            if !matches!(read(e.path().join("index")).as_str(), "" | "0") {
                return None;
            }
            let name = read(e.path().join("name"));
            Some(CameraInfo { device: format!("/dev/{node}"), name: if name.is_empty() { node } else { name }, index })
        })
        .collect();
    cameras.sort_by_key(|c| c.index);
    cameras
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn lists_video_nodes_with_their_driver_names() {
        let dir = tempfile::tempdir().unwrap();
        for (node, name, index) in [
            ("video10", "Second cam\n", "0\n"),
            ("video0", "Logitech BRIO\n", "0\n"),
            ("video1", "Logitech BRIO\n", "1\n"),
        ] {
            std::fs::create_dir(dir.path().join(node)).unwrap();
            std::fs::write(dir.path().join(node).join("name"), name).unwrap();
            std::fs::write(dir.path().join(node).join("index"), index).unwrap();
        }
        std::fs::create_dir(dir.path().join("v4l-subdev0")).unwrap();
        let cams = list_cameras_in(dir.path());
        assert_eq!(
            cams,
            vec![
                CameraInfo { device: "/dev/video0".into(), name: "Logitech BRIO".into(), index: 0 },
                CameraInfo { device: "/dev/video10".into(), name: "Second cam".into(), index: 10 },
            ]
        );
        assert!(list_cameras_in(&dir.path().join("missing")).is_empty());
        assert_eq!(find_camera(&cams, "").unwrap().index, 0);
        assert_eq!(find_camera(&cams, "second CAM").unwrap().device, "/dev/video10");
        assert_eq!(find_camera(&cams, "/dev/video10").unwrap().name, "Second cam");
        assert!(find_camera(&cams, "Elgato").is_none());
        assert!(find_camera(&[], "").is_none());
    }
}

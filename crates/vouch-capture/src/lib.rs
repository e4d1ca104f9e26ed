//! Camera sources: discovery of the webcams the system exposes, the `Camera` trait, and the demo and test
//! sources (file camera, synthetic pattern). The nokhwa webcam source is not built yet.

pub mod camera;
pub use camera::{Camera, CaptureError, FileCamera, Frame, SourceInfo, SourceKind, SyntheticCamera};

use std::path::Path;

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CameraInfo {
    /// The device node, e.g. `/dev/video0`.
    pub device: String,
    /// The name the driver reports, e.g. `Logitech BRIO`.
    pub name: String,
}

/// Video capture devices listed by V4L2 in sysfs. Empty when the machine has none (or no sysfs).
pub fn list_cameras() -> Vec<CameraInfo> {
    list_cameras_in(Path::new("/sys/class/video4linux"))
}

fn list_cameras_in(sysfs: &Path) -> Vec<CameraInfo> {
    let Ok(entries) = std::fs::read_dir(sysfs) else {
        return Vec::new();
    };
    let mut cameras: Vec<CameraInfo> = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let node = e.file_name().to_string_lossy().into_owned();
            if !node.starts_with("video") {
                return None;
            }
            let name = std::fs::read_to_string(e.path().join("name")).unwrap_or_default().trim().to_string();
            Some(CameraInfo { device: format!("/dev/{node}"), name: if name.is_empty() { node } else { name } })
        })
        .collect();
    cameras.sort_by(|a, b| a.device.cmp(&b.device));
    cameras
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn lists_video_nodes_with_their_driver_names() {
        let dir = tempfile::tempdir().unwrap();
        for (node, name) in [("video1", "Second cam\n"), ("video0", "Logitech BRIO\n")] {
            std::fs::create_dir(dir.path().join(node)).unwrap();
            std::fs::write(dir.path().join(node).join("name"), name).unwrap();
        }
        std::fs::create_dir(dir.path().join("v4l-subdev0")).unwrap();
        let cams = list_cameras_in(dir.path());
        assert_eq!(
            cams,
            vec![
                CameraInfo { device: "/dev/video0".into(), name: "Logitech BRIO".into() },
                CameraInfo { device: "/dev/video1".into(), name: "Second cam".into() },
            ]
        );
        assert!(list_cameras_in(&dir.path().join("missing")).is_empty());
    }
}

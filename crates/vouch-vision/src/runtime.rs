//! ONNX Runtime, loaded at run time from the shared library (`load-dynamic`). ort allows one environment per
//! process, so it is created once and shared by every engine.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use ort::environment::Environment;
use ort::session::builder::GraphOptimizationLevel;
use ort::session::Session;

use crate::error::{Result, VisionError};

pub const ORT_LIBRARY: &str = "libonnxruntime.so.1.31.1";
/// Where the `vouch-common` package installs the library (docs/packages.md).
pub const INSTALLED_LIBRARY_DIR: &str = "/usr/lib/vouch";

static ENVIRONMENT: OnceLock<std::result::Result<Environment, (String, String)>> = OnceLock::new();

/// Where the ONNX Runtime library is looked for: `ORT_DYLIB_PATH`, then next to the executable, then the
/// repository's `.deps/onnxruntime/` (what `scripts/setup` fills) from the working directory upwards, then where
/// the Debian package installs it.
pub fn locate_library() -> PathBuf {
    if let Some(p) = std::env::var_os("ORT_DYLIB_PATH") {
        return PathBuf::from(p);
    }
    let mut candidates = Vec::new();
    if let Some(dir) = std::env::current_exe().ok().as_deref().and_then(Path::parent) {
        candidates.push(dir.join(ORT_LIBRARY));
    }
    if let Ok(mut dir) = std::env::current_dir() {
        loop {
            candidates.push(dir.join(".deps/onnxruntime").join(ORT_LIBRARY));
            if !dir.pop() {
                break;
            }
        }
    }
    candidates.push(Path::new(INSTALLED_LIBRARY_DIR).join(ORT_LIBRARY));
    candidates.iter().find(|p| p.is_file()).cloned().unwrap_or_else(|| PathBuf::from(ORT_LIBRARY))
}

fn environment() -> Result<&'static Environment> {
    let env = ENVIRONMENT.get_or_init(|| {
        let path = locate_library();
        let shown = path.display().to_string();
        let built = ort::init_from(&path)
            .map_err(|e| (shown.clone(), e.to_string()))?
            .with_name("vouch")
            .build()
            .map_err(|e| (shown.clone(), e.to_string()))?;
        tracing::info!(library = %shown, "ONNX Runtime loaded");
        Ok(built)
    });
    env.as_ref().map_err(|(path, reason)| VisionError::Runtime { path: path.clone(), reason: reason.clone() })
}

/// One model session. ort's `run` needs `&mut`, so each session is behind its own lock; different models
/// still run in parallel.
pub struct Model {
    pub file: &'static str,
    pub(crate) session: Mutex<Session>,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model").field("file", &self.file).finish()
    }
}

impl Model {
    /// Loads `path` with `threads` intra-op threads and spinning off: with several models run back to back on
    /// two cores, spinning threads starve the next model (measured: detect+align+embed 43 ms with, 22 without).
    pub fn load(file: &'static str, path: &Path, threads: usize, level: GraphOptimizationLevel) -> Result<Model> {
        let env = environment()?;
        let err = |e: ort::Error| VisionError::inference(file, e);
        let session = Session::builder(env)
            .map_err(err)?
            .with_optimization_level(level)
            .map_err(|e| VisionError::inference(file, e))?
            .with_intra_threads(threads)
            .map_err(|e| VisionError::inference(file, e))?
            .with_inter_threads(1)
            .map_err(|e| VisionError::inference(file, e))?
            .with_intra_op_spinning(false)
            .map_err(|e| VisionError::inference(file, e))?
            .with_inter_op_spinning(false)
            .map_err(|e| VisionError::inference(file, e))?
            .with_log_level(ort::logging::LogLevel::Error)
            .map_err(|e| VisionError::inference(file, e))?
            .commit_from_file(path)
            .map_err(err)?;
        Ok(Model { file, session: Mutex::new(session) })
    }

    /// Loads `path` at each optimisation level and keeps the one that runs `shape` fastest here (the best of three
    /// runs after two to warm up). Which level wins depends on the CPU, and the difference is not small: the face
    /// embedder runs 3× slower at level 3 than at level 1 on an AVX-512 Xeon, and 20 % faster on an AVX2 EPYC.
    /// For an fp32 model every level computes the same function, so the outputs agree to rounding (a test holds the
    /// embedder to it); a quantised model is another matter (`load_embedder`).
    pub fn load_fastest(
        file: &'static str,
        path: &Path,
        threads: usize,
        levels: &[GraphOptimizationLevel],
        shape: [usize; 4],
    ) -> Result<Model> {
        let mut best: Option<(f64, Model, usize)> = None;
        for (index, level) in levels.iter().enumerate() {
            let model = Model::load(file, path, threads, *level)?;
            for _ in 0..2 {
                model.time_inference(shape)?;
            }
            let mut fastest = f64::MAX;
            for _ in 0..3 {
                fastest = fastest.min(model.time_inference(shape)?);
            }
            if best.as_ref().is_none_or(|(ms, _, _)| fastest < *ms) {
                best = Some((fastest, model, index));
            }
        }
        let (ms, model, index) = best.ok_or(VisionError::inference(file, "no optimisation level to load at"))?;
        tracing::info!(model = file, level = ?levels.get(index), ms, "optimisation level chosen by measurement");
        Ok(model)
    }

    /// Time of one bare `run` on a zero tensor (enough to compare optimisation levels of one model; a floor for a
    /// pipeline takes its real inputs, `time_run`).
    pub fn time_inference(&self, shape: [usize; 4]) -> Result<f64> {
        self.time_run(shape, vec![0f32; shape.iter().product()])
    }

    /// Time of one bare `run` on `data`, in ms.
    pub fn time_run(&self, shape: [usize; 4], data: Vec<f32>) -> Result<f64> {
        let t = std::time::Instant::now();
        self.run(shape, data)?;
        Ok(t.elapsed().as_secs_f64() * 1000.0)
    }

    /// The first output's values, for the models with a single output.
    pub fn run_first(&self, shape: [usize; 4], data: Vec<f32>) -> Result<Vec<f32>> {
        let (_, values) =
            self.run(shape, data)?.into_iter().next().ok_or(VisionError::inference(self.file, "no output"))?;
        Ok(values)
    }

    /// Runs the model on one float tensor named `input` and returns every output as (shape, values), in the
    /// model's output order.
    pub fn run(&self, shape: [usize; 4], data: Vec<f32>) -> Result<Vec<(Vec<i64>, Vec<f32>)>> {
        let file = self.file;
        let tensor = ort::value::Tensor::from_array((shape, data)).map_err(|e| VisionError::inference(file, e))?;
        let mut session = self.session.lock().map_err(|_| VisionError::inference(file, "session lock poisoned"))?;
        // Each model names its one input; Vouch's own say what they take (`cells`), the imported ones `input`.
        let name = session.inputs().first().map(|i| i.name().to_string()).unwrap_or_else(|| "input".into());
        let outputs = session.run(ort::inputs![name => tensor]).map_err(|e| VisionError::inference(file, e))?;
        let mut result = Vec::with_capacity(outputs.len());
        for (_, value) in outputs.iter() {
            let (shape, values) = value.try_extract_tensor::<f32>().map_err(|e| VisionError::inference(file, e))?;
            result.push((shape.iter().copied().collect(), values.to_vec()));
        }
        Ok(result)
    }
}

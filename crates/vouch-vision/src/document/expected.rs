//! A set of real document images with their known MRZs: `expected_mrz.csv` beside the images (as in
//! `shared/testdata/documents_dev`), read by `vouch doc bench` and the real-image test alike.

use std::path::Path;

/// One image and what it should read as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectedMrz {
    /// Relative to the set's folder.
    pub path: String,
    /// The MRZ lines joined by `\n`; empty where there is none or nobody transcribed it.
    pub mrz: String,
    /// The set says the image has no MRZ at all (`none`), so reading none is the right answer.
    pub none: bool,
}

impl ExpectedMrz {
    /// An MRZ that is there but that nobody transcribed: nothing to compare with.
    pub fn unknown(&self) -> bool {
        self.mrz.is_empty() && !self.none
    }
}

/// The rows of `dir/expected_mrz.csv`: `path,mrz_type,lines joined by |,...`, a field quoted where it holds a
/// comma.
pub fn load(dir: &Path) -> std::io::Result<Vec<ExpectedMrz>> {
    let text = std::fs::read_to_string(dir.join("expected_mrz.csv"))?;
    Ok(text
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .filter_map(|line| {
            let fields = csv_fields(line);
            let (path, kind, mrz) = (fields.first()?, fields.get(1)?, fields.get(2)?);
            Some(ExpectedMrz {
                path: path.clone(),
                mrz: mrz.replace('|', "\n"),
                none: kind.eq_ignore_ascii_case("none"),
            })
        })
        .collect())
}

fn csv_fields(line: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let (mut field, mut quoted) = (String::new(), false);
    for c in line.chars() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => fields.push(std::mem::take(&mut field)),
            c => field.push(c),
        }
    }
    fields.push(field);
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_fields_and_rows_without_an_mrz() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("expected_mrz.csv"),
            "path,mrz_type,lines,source\na.jpg,\"FRA-CNI (2x36, national)\",AB|CD,x\nb.jpg,none,,y\nc.png,TD1,,z\n",
        )
        .unwrap();
        let rows = load(dir.path()).unwrap();
        assert_eq!(rows[0], ExpectedMrz { path: "a.jpg".into(), mrz: "AB\nCD".into(), none: false });
        assert!(rows[1].none && !rows[1].unknown());
        assert!(rows[2].unknown());
    }
}

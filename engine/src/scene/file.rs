//! Scene documents from files (TOML with a `format` version) and from JSON bodies.
//! Errors name the file or field, the line and column, and what is wrong.

use limelight_shared::ids::SceneId;
use limelight_shared::scene::{SCENE_FORMAT_VERSION, SceneFile, SceneSpec};
use std::fmt;
use std::path::{Path, PathBuf};

/// A scene that could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SceneFileError {
    /// The file, for scene files.
    pub file: Option<PathBuf>,
    /// The field, as a path like `layers[0].color`.
    pub field: Option<String>,
    /// 1-based line.
    pub line: Option<usize>,
    /// 1-based column.
    pub column: Option<usize>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for SceneFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(file) = &self.file {
            write!(f, "{}", file.display())?;
            if let Some(line) = self.line {
                write!(f, ":{line}")?;
                if let Some(column) = self.column {
                    write!(f, ":{column}")?;
                }
            }
            f.write_str(": ")?;
        } else if let Some(line) = self.line {
            write!(f, "line {line}")?;
            if let Some(column) = self.column {
                write!(f, ", column {column}")?;
            }
            f.write_str(": ")?;
        }
        if let Some(field) = &self.field {
            write!(f, "{field}: ")?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for SceneFileError {}

/// Which scene a call named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SceneRef {
    /// By its stored id.
    Id(SceneId),
    /// By its name.
    Name(String),
}

impl fmt::Display for SceneRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SceneRef::Id(id) => write!(f, "with id {id}"),
            SceneRef::Name(name) => write!(f, "{name:?}"),
        }
    }
}

/// Why a scene call failed.
#[derive(Debug, thiserror::Error)]
pub enum SceneError {
    /// No such scene.
    #[error("no scene {0}")]
    Unknown(SceneRef),
    /// A scene document could not be read.
    #[error(transparent)]
    File(#[from] SceneFileError),
    /// Scene files to seed from are broken; each names its file, line and column.
    #[error("scene files are broken:\n{}", list(.0))]
    BrokenFiles(Vec<SceneFileError>),
}

fn list(errors: &[SceneFileError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

/// Path of the value that failed, unless it is the document itself.
fn field_of(path: &serde_path_to_error::Path) -> Option<String> {
    let p = path.to_string();
    (p != "." && !p.is_empty()).then_some(p)
}

/// 1-based line and column of byte offset `at` in `text`.
fn line_col(text: &str, at: usize) -> (usize, usize) {
    let before = &text[..at.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// Read a scene file's text. `file` is only used in errors.
pub fn parse_toml(text: &str, file: &Path) -> Result<SceneSpec, SceneFileError> {
    let error = |field, span: Option<std::ops::Range<usize>>, message: String| {
        let (line, column) = span.map(|s| line_col(text, s.start)).unzip();
        SceneFileError {
            file: Some(file.to_owned()),
            field,
            line,
            column,
            message,
        }
    };
    let de = toml::Deserializer::parse(text)
        .map_err(|e| error(None, e.span(), e.message().to_owned()))?;
    let parsed: SceneFile = serde_path_to_error::deserialize(de).map_err(|e| {
        let field = field_of(e.path());
        let inner = e.into_inner();
        error(field, inner.span(), inner.message().to_owned())
    })?;
    if parsed.format != SCENE_FORMAT_VERSION {
        let at = text.find("format").map(|i| i..i + 6);
        return Err(error(
            Some("format".into()),
            at,
            format!(
                "format {} is not supported; this build reads format {SCENE_FORMAT_VERSION}",
                parsed.format
            ),
        ));
    }
    Ok(parsed.into_spec())
}

/// Every `*.toml` scene in `dir`, sorted by file name. All broken files are
/// reported, not just the first; two files with one scene name are an error too.
pub fn load_dir(dir: &Path) -> Result<Vec<(PathBuf, SceneSpec)>, Vec<SceneFileError>> {
    let io_error = |path: &Path, e: std::io::Error| SceneFileError {
        file: Some(path.to_owned()),
        field: None,
        line: None,
        column: None,
        message: e.to_string(),
    };
    let mut paths: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect(),
        Err(e) => return Err(vec![io_error(dir, e)]),
    };
    paths.sort();
    let mut scenes: Vec<(PathBuf, SceneSpec)> = Vec::new();
    let mut errors = Vec::new();
    for path in paths {
        let parsed = std::fs::read_to_string(&path)
            .map_err(|e| io_error(&path, e))
            .and_then(|text| parse_toml(&text, &path));
        match parsed {
            Ok(spec) => {
                if let Some((other, _)) = scenes.iter().find(|(_, s)| s.name == spec.name) {
                    errors.push(SceneFileError {
                        file: Some(path.clone()),
                        field: Some("name".into()),
                        line: None,
                        column: None,
                        message: format!(
                            "scene {:?} is also defined in {}",
                            spec.name.as_str(),
                            other.display()
                        ),
                    });
                } else {
                    scenes.push((path, spec));
                }
            }
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(scenes)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toml_err(text: &str) -> SceneFileError {
        parse_toml(text, Path::new("scenes/x.toml"))
            .err()
            .unwrap_or_else(|| unreachable!("expected an error"))
    }

    #[test]
    fn a_good_file_parses() -> Result<(), SceneFileError> {
        let spec = parse_toml(
            "format = 1\nname = \"warm\"\n\n[[layers]]\neffect = \"solid\"\ncolor = \"#FF8000\"\n",
            Path::new("warm.toml"),
        )?;
        assert_eq!(spec.name.as_str(), "warm");
        Ok(())
    }

    #[test]
    fn a_bad_colour_names_file_line_and_field() {
        let e = toml_err(
            "format = 1\nname = \"warm\"\n\n[[layers]]\neffect = \"solid\"\ncolor = \"orange\"\n",
        );
        assert_eq!(e.line, Some(6), "{e}");
        assert_eq!(e.field.as_deref(), Some("layers[0].color"), "{e}");
        assert!(e.message.contains("#RRGGBB"), "{e}");
        assert!(e.to_string().starts_with("scenes/x.toml:6:"), "{e}");
    }

    #[test]
    fn syntax_errors_and_versions_are_reported() {
        let e = toml_err("format = 1\nname = \"warm\n");
        assert_eq!(e.line, Some(2), "{e}");
        let e = toml_err(
            "format = 2\nname = \"w\"\n[[layers]]\neffect = \"solid\"\ncolor = \"#000000\"\n",
        );
        assert_eq!(e.line, Some(1), "{e}");
        assert!(e.message.contains("format 2 is not supported"), "{e}");
        let e = toml_err("name = \"w\"\n[[layers]]\neffect = \"solid\"\ncolor = \"#000000\"\n");
        assert!(e.message.contains("missing field `format`"), "{e}");
    }
}

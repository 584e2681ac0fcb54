//! The form's questions, as `templates/questions.toml` defines them: each
//! one's field name (also its key in the sealed answers), how it is asked,
//! whether it is required, its longest answer and its choices.

use std::sync::LazyLock;

use serde::Deserialize;

/// How a question is asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A multi-line text.
    Textarea,
    /// A one-line text.
    Text,
    /// A drop-down choice.
    Select,
    /// Radio buttons.
    Radio,
}

/// One question of the form.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Question {
    /// Field name, also the key in the sealed answers.
    pub name: String,
    /// How it is asked.
    pub kind: Kind,
    /// Whether an answer is needed.
    #[serde(default)]
    pub required: bool,
    /// Most characters accepted (texts).
    #[serde(default = "default_max")]
    pub max_chars: usize,
    /// Allowed values (choices).
    #[serde(default)]
    pub options: Vec<String>,
}

fn default_max() -> usize {
    200
}

#[derive(Deserialize)]
struct File {
    question: Vec<Question>,
}

static QUESTIONS: LazyLock<Result<Vec<Question>, String>> = LazyLock::new(|| {
    toml::from_str::<File>(include_str!("../../templates/questions.toml"))
        .map(|f| f.question)
        .map_err(|e| format!("templates/questions.toml is not valid: {}", e.message()))
});

/// The questions in order (empty if the file is broken; [`check`] stops the start then).
pub fn all() -> &'static [Question] {
    QUESTIONS.as_deref().unwrap_or_default()
}

/// The choices of question `name`; none for a text question or an unknown name.
pub fn options(name: &str) -> &'static [String] {
    all()
        .iter()
        .find(|q| q.name == name)
        .map(|q| q.options.as_slice())
        .unwrap_or_default()
}

/// Checks that the questions can be read and that one of them is required.
pub fn check() -> Result<(), String> {
    let questions = QUESTIONS.as_ref().map_err(Clone::clone)?;
    if !questions.iter().any(|q| q.required) {
        return Err("templates/questions.toml must have one required question".into());
    }
    Ok(())
}

impl Question {
    /// The keys of the texts this question is shown with: its label, its hint
    /// (which may be empty) and one per option.
    pub fn text_keys(&self) -> Vec<String> {
        let mut keys = vec![
            format!("q.{}.label", self.name),
            format!("q.{}.hint", self.name),
        ];
        keys.extend(self.options.iter().map(|o| format!("q.{}.{o}", self.name)));
        keys
    }
}

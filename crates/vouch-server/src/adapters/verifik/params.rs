//! Verifik's request fields, checked as its Joi schemas check them and refused in Joi's words
//! (`"os" is required`, `"min_score" must be greater than or equal to 0.5`), as 409 `MissingParameter`.
//! Images are raw base64 or a data URI; a URL is refused with 412 unless an admin has turned fetching on.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use base64::Engine;
use serde_json::{Map, Value};

use super::precondition_failed;
use crate::error::{ApiError, Failure, Verifik};
use crate::extract::JsonBody;
use crate::state::AppState;

/// Payloads shorter than this are not images (Verifik's `only_images_in_base64`).
const MIN_IMAGE_CHARS: usize = 100;

/// A request's fields: its JSON body's (as an extractor), or its query string's ([`QueryFields`]).
pub struct Fields(Map<String, Value>);

impl FromRequest<AppState> for Fields {
    type Rejection = Failure<Verifik>;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        match JsonBody::<Value, Verifik>::from_request(req, state).await?.0 {
            Value::Object(map) => Ok(Fields(map)),
            _ => Err(joi("\"value\" must be of type object".into()).into()),
        }
    }
}

/// The query string's fields.
pub struct QueryFields(pub Fields);

impl<S: Send + Sync> FromRequestParts<S> for QueryFields {
    type Rejection = Failure<Verifik>;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(QueryFields(Fields::of_query(parts.uri.query())?))
    }
}

fn joi(message: String) -> ApiError {
    ApiError::invalid(message)
}

fn required(name: &str) -> ApiError {
    joi(format!("\"{name}\" is required"))
}

impl Fields {
    /// The fields of a query string, all as strings.
    pub fn of_query(query: Option<&str>) -> Result<Fields, ApiError> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query.unwrap_or(""))
            .map_err(|_| ApiError::invalid("The query string could not be parsed"))?;
        let mut map = Map::new();
        for (key, value) in pairs {
            let key = key.trim_end_matches("[]").to_string();
            match map.get_mut(&key) {
                Some(Value::Array(items)) => items.push(Value::String(value)),
                Some(first) => *first = Value::Array(vec![first.take(), Value::String(value)]),
                None => {
                    map.insert(key, Value::String(value));
                }
            }
        }
        Ok(Fields(map))
    }

    fn present(&self, name: &str) -> Option<&Value> {
        self.0.get(name).filter(|v| !v.is_null())
    }

    pub fn has(&self, name: &str) -> bool {
        self.present(name).is_some()
    }

    pub fn string(&self, name: &str) -> Result<Option<String>, ApiError> {
        match self.present(name) {
            None => Ok(None),
            Some(Value::String(s)) if s.trim().is_empty() => Err(joi(format!("\"{name}\" is not allowed to be empty"))),
            Some(Value::String(s)) => Ok(Some(s.trim().to_string())),
            Some(_) => Err(joi(format!("\"{name}\" must be a string"))),
        }
    }

    pub fn required_string(&self, name: &str) -> Result<String, ApiError> {
        self.string(name)?.ok_or_else(|| required(name))
    }

    /// A string of at most `max` characters.
    pub fn text(&self, name: &str, max: usize) -> Result<Option<String>, ApiError> {
        let value = self.string(name)?;
        if value.as_ref().is_some_and(|v| v.chars().count() > max) {
            return Err(joi(format!("\"{name}\" length must be less than or equal to {max} characters long")));
        }
        Ok(value)
    }

    pub fn one_of(&self, name: &str, allowed: &[&str]) -> Result<Option<String>, ApiError> {
        match self.string(name)? {
            Some(v) if allowed.iter().any(|a| a.eq_ignore_ascii_case(&v)) => Ok(Some(v.to_ascii_uppercase())),
            Some(_) => Err(joi(format!("\"{name}\" must be one of [{}]", allowed.join(", ")))),
            None => Ok(None),
        }
    }

    pub fn required_one_of(&self, name: &str, allowed: &[&str]) -> Result<String, ApiError> {
        self.one_of(name, allowed)?.ok_or_else(|| required(name))
    }

    /// A number within `lo..=hi` (a numeric string too, as Joi converts it).
    pub fn number(&self, name: &str, lo: f32, hi: f32) -> Result<Option<f32>, ApiError> {
        let value = match self.present(name) {
            None => return Ok(None),
            Some(Value::Number(n)) => n.as_f64(),
            Some(Value::String(s)) => s.trim().parse::<f64>().ok(),
            Some(_) => None,
        };
        let value = value.filter(|v| v.is_finite()).ok_or_else(|| joi(format!("\"{name}\" must be a number")))?;
        // Compared as f32, the bounds' type: 0.67 as f64 is below 0.67f32.
        if (value as f32) < lo {
            return Err(joi(format!("\"{name}\" must be greater than or equal to {lo}")));
        }
        if (value as f32) > hi {
            return Err(joi(format!("\"{name}\" must be less than or equal to {hi}")));
        }
        Ok(Some(value as f32))
    }

    pub fn required_number(&self, name: &str, lo: f32, hi: f32) -> Result<f32, ApiError> {
        self.number(name, lo, hi)?.ok_or_else(|| required(name))
    }

    /// A whole number within `lo..=hi`.
    pub fn integer(&self, name: &str, lo: u32, hi: u32) -> Result<Option<u32>, ApiError> {
        match self.number(name, lo as f32, hi as f32)? {
            Some(v) if v.fract() == 0.0 => Ok(Some(v as u32)),
            Some(_) => Err(joi(format!("\"{name}\" must be an integer"))),
            None => Ok(None),
        }
    }

    /// An array of strings (a single string counts as one).
    pub fn strings(&self, name: &str) -> Result<Option<Vec<String>>, ApiError> {
        match self.present(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(vec![s.clone()])),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    v.as_str().map(str::to_string).ok_or_else(|| joi(format!("\"{name}[{i}]\" must be a string")))
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(_) => Err(joi(format!("\"{name}\" must be an array"))),
        }
    }

    /// An object, as given.
    pub fn object(&self, name: &str) -> Result<Option<Map<String, Value>>, ApiError> {
        match self.present(name) {
            None => Ok(None),
            Some(Value::Object(o)) => Ok(Some(o.clone())),
            Some(_) => Err(joi(format!("\"{name}\" must be of type object"))),
        }
    }

    /// An array, as given.
    pub fn array(&self, name: &str) -> Result<Option<Vec<Value>>, ApiError> {
        match self.present(name) {
            None => Ok(None),
            Some(Value::Array(items)) => Ok(Some(items.clone())),
            Some(_) => Err(joi(format!("\"{name}\" must be an array"))),
        }
    }

    pub fn boolean(&self, name: &str) -> Result<Option<bool>, ApiError> {
        match self.present(name) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(Value::String(s)) if s == "true" || s == "false" => Ok(Some(s == "true")),
            Some(_) => Err(joi(format!("\"{name}\" must be a boolean"))),
        }
    }

    /// An `http(s)` address.
    pub fn url(&self, name: &str) -> Result<Option<String>, ApiError> {
        let value = self.text(name, 2000)?;
        if value.as_ref().is_some_and(|v| vouch_store::clients::check_webhook_url(v).is_err()) {
            return Err(joi(format!("\"{name}\" must be a valid uri")));
        }
        Ok(value)
    }

    /// A phone number: 1 to 20 digits.
    pub fn phone(&self, name: &str) -> Result<Option<String>, ApiError> {
        let value = self.text(name, 20)?;
        if value.as_ref().is_some_and(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit())) {
            return Err(joi(format!("\"{name}\" must contain only digits")));
        }
        Ok(value)
    }

    /// A phone's country code: `+` and 1 to 3 digits.
    pub fn country_code(&self, name: &str) -> Result<Option<String>, ApiError> {
        let value = self.text(name, 4)?;
        let valid = |c: &str| c.len() >= 2 && c.starts_with('+') && c.bytes().skip(1).all(|b| b.is_ascii_digit());
        if value.as_deref().is_some_and(|c| !valid(c)) {
            return Err(joi(format!("\"{name}\" must be + and 1 to 3 digits")));
        }
        Ok(value)
    }

    /// An e-mail address (one `@` with something on both sides).
    pub fn email(&self, name: &str) -> Result<Option<String>, ApiError> {
        let value = self.text(name, 254)?;
        let valid =
            |v: &str| v.split_once('@').is_some_and(|(a, b)| !a.is_empty() && b.contains('.') && !b.contains('@'));
        if value.as_deref().is_some_and(|v| !valid(v)) {
            return Err(joi(format!("\"{name}\" must be a valid email")));
        }
        Ok(value)
    }

    /// `name` as 1 to `max` images, decoded.
    pub async fn images(&self, state: &AppState, name: &str, max: usize) -> Result<Vec<Vec<u8>>, ApiError> {
        let Some(items) = self.strings(name)? else { return Err(required(name)) };
        if items.is_empty() {
            return Err(joi(format!("\"{name}\" must contain at least 1 items")));
        }
        if items.len() > max {
            return Err(joi(format!("\"{name}\" must contain less than or equal to {max} items")));
        }
        let mut images = Vec::with_capacity(items.len());
        for item in &items {
            images.push(image_bytes(state, item).await?);
        }
        Ok(images)
    }

    /// `name` as one image, decoded.
    pub async fn image(&self, state: &AppState, name: &str) -> Result<Vec<u8>, ApiError> {
        match self.present(name) {
            None => Err(required(name)),
            Some(Value::String(s)) => image_bytes(state, s).await,
            Some(_) => Err(joi(format!("\"{name}\" must be a string"))),
        }
    }

    /// An RFC 3339 date and time (`expiresAt`).
    pub fn datetime(&self, name: &str) -> Result<Option<time::OffsetDateTime>, ApiError> {
        match self.string(name)? {
            Some(text) => time::OffsetDateTime::parse(&text, &time::format_description::well_known::Rfc3339)
                .map(Some)
                .map_err(|_| joi(format!("\"{name}\" must be a valid date"))),
            None => Ok(None),
        }
    }

    /// A date of birth as `YYYY-MM-DD`, from an ISO date or date-time, or from `{year, month, day}`.
    pub fn date(&self, name: &str) -> Result<Option<String>, ApiError> {
        let bad = || joi(format!("\"{name}\" must be a valid date"));
        let (year, month, day) = match self.present(name) {
            None => return Ok(None),
            Some(Value::String(s)) => {
                let day = s.trim().get(..10).ok_or_else(bad)?;
                let parts: Vec<&str> = day.split('-').collect();
                let [y, m, d] = parts.as_slice() else { return Err(bad()) };
                (
                    y.parse::<i32>().map_err(|_| bad())?,
                    m.parse::<u8>().map_err(|_| bad())?,
                    d.parse::<u8>().map_err(|_| bad())?,
                )
            }
            Some(Value::Object(o)) => {
                let part = |k: &str| o.get(k).and_then(Value::as_i64).ok_or_else(bad);
                (
                    i32::try_from(part("year")?).map_err(|_| bad())?,
                    u8::try_from(part("month")?).map_err(|_| bad())?,
                    u8::try_from(part("day")?).map_err(|_| bad())?,
                )
            }
            Some(_) => return Err(bad()),
        };
        let month = time::Month::try_from(month).map_err(|_| bad())?;
        let date = time::Date::from_calendar_date(year, month, day).map_err(|_| bad())?;
        if !(1900..=2100).contains(&date.year()) {
            return Err(bad());
        }
        Ok(Some(format!("{:04}-{:02}-{:02}", date.year(), u8::from(date.month()), date.day())))
    }
}

/// An image as Verifik takes it: raw base64 or a data URI; an `https` URL only when fetching is on.
async fn image_bytes(state: &AppState, value: &str) -> Result<Vec<u8>, ApiError> {
    let value = value.trim();
    if value.starts_with("https://") || value.starts_with("http://") {
        if !state.config.image_url.enabled {
            return Err(precondition_failed(
                "images given as URLs are not fetched: this Vouch works offline (send the image in base64, or ask \
                 the admin to allow image URLs)",
            ));
        }
        return crate::image_fetch::fetch(state, value, state.config.image_body_limit_bytes).await;
    }
    if value.len() < MIN_IMAGE_CHARS {
        return Err(precondition_failed("only_images_in_base64"));
    }
    let data = match value.split_once(";base64,") {
        Some((head, data)) if head.starts_with("data:") => data,
        _ => value,
    };
    let compact: String = data.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(compact.trim_end_matches('='))
        .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(compact.trim_end_matches('=')))
        .map_err(|_| precondition_failed("only_images_in_base64"))
}

/// `search_mode`, which Verifik requires on compares and searches; both modes run the same exact search here.
pub fn search_mode(fields: &Fields) -> Result<String, ApiError> {
    fields.required_one_of("search_mode", &["FAST", "ACCURATE"])
}

/// `os`, the origin of a live capture.
pub fn os(fields: &Fields) -> Result<String, ApiError> {
    fields.required_one_of("os", &["ANDROID", "IOS", "DESKTOP", "WEB"])
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn fields(v: Value) -> Fields {
        Fields(v.as_object().unwrap().clone())
    }

    #[test]
    fn fields_are_refused_in_jois_words() {
        let f = fields(serde_json::json!({"min_score": 0.3, "os": 4, "mode": "SLOW", "n": "0.7", "name": " "}));
        assert_eq!(
            f.required_number("min_score", 0.5, 1.0).unwrap_err().message,
            "\"min_score\" must be greater than or equal to 0.5"
        );
        assert_eq!(f.required_number("x", 0.5, 1.0).unwrap_err().message, "\"x\" is required");
        assert_eq!(f.number("n", 0.5, 1.0).unwrap(), Some(0.7));
        assert_eq!(
            f.number("min_score", 0.0, 0.2).unwrap_err().message,
            "\"min_score\" must be less than or equal to 0.2"
        );
        assert_eq!(f.string("os").unwrap_err().message, "\"os\" must be a string");
        assert_eq!(
            f.one_of("mode", &["FAST", "ACCURATE"]).unwrap_err().message,
            "\"mode\" must be one of [FAST, ACCURATE]"
        );
        assert_eq!(f.string("name").unwrap_err().message, "\"name\" is not allowed to be empty");
    }

    #[test]
    fn a_birth_date_is_read_from_either_shape() {
        let f = fields(serde_json::json!({
            "a": "1990-01-15", "b": {"year": 1990, "month": 1, "day": 15}, "c": "1990-02-30", "d": "1990-01-15T00:00:00.000Z"
        }));
        assert_eq!(f.date("a").unwrap().as_deref(), Some("1990-01-15"));
        assert_eq!(f.date("b").unwrap().as_deref(), Some("1990-01-15"));
        assert_eq!(f.date("d").unwrap().as_deref(), Some("1990-01-15"));
        assert!(f.date("c").is_err());
    }
}

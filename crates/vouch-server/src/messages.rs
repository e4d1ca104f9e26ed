//! Messages to people (a one-time code, a link), written for the operator's message relay
//! ([`vouch_app::webhooks::MessageRelay`]). Each is queued in the outbox in the transaction of the change it
//! belongs to, sealed at rest, and POSTed to the relay as JSON with Vouch's own text in English or Spanish and the
//! values it is made of, so that a relay can send the text as it is or fill its own template.

use serde_json::{json, Value};
use time::OffsetDateTime;
use vouch_app::webhooks::MessageRelay;
use vouch_store::outbox::{NewDelivery, RecordEvent};

use crate::error::{ApiError, Code};

/// How a message reaches its person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    Email,
    Sms,
}

impl Channel {
    fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Sms => "sms",
        }
    }
}

/// What a message says.
pub enum Content<'a> {
    /// A one-time code that proves the person holds the address or number.
    VerificationCode { code: &'a str, expires_at: OffsetDateTime },
    /// A single-use link whose opening proves the person holds the address or number.
    ConfirmLink { url: &'a str, expires_at: OffsetDateTime },
    /// The link at which the person proves who they are (a biometric validation's `url`).
    ValidationLink { url: &'a str, expires_at: OffsetDateTime },
}

/// A message to one person.
pub struct Message<'a> {
    pub channel: Channel,
    /// An e-mail address, or a phone number with its country code (`+57 3001234567`).
    pub to: &'a str,
    /// `en` or `es`; anything else reads as `en`.
    pub language: &'a str,
    /// Who the message is from, in its text (a project's name).
    pub sender: Option<&'a str>,
    pub content: Content<'a>,
}

/// The relay, or a 501 that says how an operator sets one up.
pub fn relay(configured: Option<&MessageRelay>) -> Result<&MessageRelay, ApiError> {
    configured.ok_or_else(|| {
        ApiError::new(
            Code::NotImplemented,
            "this needs a message to the person, and no message relay is configured: an operator sets [messages] relay_url in vouch.toml (docs/messages.md)",
        )
    })
}

fn hh_mm(t: OffsetDateTime) -> String {
    format!("{:02}:{:02} UTC", t.hour(), t.minute())
}

fn date_hh_mm(t: OffsetDateTime) -> String {
    format!("{}-{:02}-{:02} {}", t.year(), u8::from(t.month()), t.day(), hh_mm(t))
}

impl Message<'_> {
    /// `(template, subject, text, data)`.
    fn written(&self) -> (&'static str, String, String, Value) {
        let spanish = self.language.eq_ignore_ascii_case("es");
        let from = self.sender.map(|s| format!(" ({s})")).unwrap_or_default();
        match self.content {
            Content::VerificationCode { code, expires_at } => {
                let until = hh_mm(expires_at);
                let (subject, text) = if spanish {
                    (
                        format!("Tu código de verificación{from}"),
                        format!("Tu código de verificación es {code}. Vence a las {until}. Si no lo pediste, ignora este mensaje."),
                    )
                } else {
                    (
                        format!("Your verification code{from}"),
                        format!("Your verification code is {code}. It expires at {until}. If you did not ask for it, ignore this message."),
                    )
                };
                let data = json!({"code": code, "expiresAt": crate::adapters::rfc3339(expires_at)});
                ("verification_code", subject, text, data)
            }
            Content::ConfirmLink { url, expires_at } => {
                let until = date_hh_mm(expires_at);
                let (subject, text) = if spanish {
                    (
                        format!("Confirma tu dirección{from}"),
                        format!("Abre este enlace para confirmar que es tuya: {url} (válido hasta el {until}, una sola vez). Si no lo pediste, ignora este mensaje."),
                    )
                } else {
                    (
                        format!("Confirm your address{from}"),
                        format!("Open this link to confirm it is yours: {url} (valid until {until}, once). If you did not ask for it, ignore this message."),
                    )
                };
                let data = json!({"url": url, "expiresAt": crate::adapters::rfc3339(expires_at)});
                ("confirmation_link", subject, text, data)
            }
            Content::ValidationLink { url, expires_at } => {
                let until = date_hh_mm(expires_at);
                let (subject, text) = if spanish {
                    (
                        format!("Verifica tu identidad{from}"),
                        format!("Abre este enlace para verificar tu identidad: {url} (válido hasta el {until}). Si no lo esperabas, ignora este mensaje."),
                    )
                } else {
                    (
                        format!("Verify your identity{from}"),
                        format!("Open this link to verify your identity: {url} (valid until {until}). If you did not expect it, ignore this message."),
                    )
                };
                let data = json!({"url": url, "expiresAt": crate::adapters::rfc3339(expires_at)});
                ("biometric_validation_link", subject, text, data)
            }
        }
    }

    /// The JSON the relay receives.
    pub fn body(&self) -> Vec<u8> {
        let (template, subject, text, data) = self.written();
        let subject = (self.channel == Channel::Email).then_some(subject);
        serde_json::to_vec(&json!({
            "type": "message",
            "channel": self.channel.as_str(),
            "to": self.to,
            "language": if self.language.eq_ignore_ascii_case("es") { "es" } else { "en" },
            "template": template,
            "subject": subject,
            "text": text,
            "data": data,
        }))
        .unwrap_or_default()
    }

    /// The outbox row that sends it, about record `record_id` of `api` for `client_id`.
    pub fn queued(
        &self,
        relay: &MessageRelay,
        api: &str,
        record_id: &str,
        client_id: &str,
        retries: u32,
    ) -> RecordEvent {
        let delivery = NewDelivery {
            client_id: client_id.to_string(),
            url: relay.url.clone(),
            body: self.body(),
            max_attempts: retries + 1,
        };
        RecordEvent::message(api, record_id, delivery)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_reads_in_the_persons_language_and_an_sms_has_no_subject() {
        let at = time::macros::datetime!(2026-12-04 20:15 UTC);
        let code = Content::VerificationCode { code: "042917", expires_at: at };
        let message =
            Message { channel: Channel::Sms, to: "+57 3001234567", language: "es", sender: None, content: code };
        let body: Value = serde_json::from_slice(&message.body()).unwrap_or_default();
        assert_eq!(body.get("subject"), Some(&Value::Null));
        assert_eq!(body.get("template").and_then(Value::as_str), Some("verification_code"));
        let text = body.get("text").and_then(Value::as_str).unwrap_or_default();
        assert!(text.starts_with("Tu código de verificación es 042917. Vence a las 20:15 UTC."), "{text}");
        assert_eq!(body.pointer("/data/code").and_then(Value::as_str), Some("042917"));
    }
}

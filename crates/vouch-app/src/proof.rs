//! The proof-of-identity PDF: one A4 page naming the verified person, the method, the time, the case,
//! and the SHA-256 of the evidence manifest, so the document can be tied back to the stored evidence.
//! Written with pdf-writer and the standard Helvetica/Courier fonts (WinAnsi), so nothing is embedded.

use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str, TextStr};
use time::format_description::well_known::Rfc3339;
use vouch_core::{Case, Decision, Evidence, VerifiedIdentity};

pub struct ProofInput<'a> {
    pub case: &'a Case,
    pub decision: &'a Decision,
    pub identity: &'a VerifiedIdentity,
    /// The evidence the proof vouches for, in manifest order.
    pub evidence: &'a [(vouch_core::EvidenceKind, String)],
    pub evidence_digest: &'a str,
    pub issuer: &'a str,
}

/// WinAnsi (cp1252) bytes for the standard fonts; characters outside it become '?'.
fn win_ansi(s: &str) -> Vec<u8> {
    s.chars()
        .map(|c| match c {
            ' '..='~' => c as u8,
            '\u{A0}'..='\u{FF}' => c as u32 as u8,
            '€' => 0x80,
            'Š' => 0x8A,
            'Œ' => 0x8C,
            'Ž' => 0x8E,
            'š' => 0x9A,
            'œ' => 0x9C,
            'ž' => 0x9E,
            'Ÿ' => 0x9F,
            '‘' => 0x91,
            '’' => 0x92,
            '“' => 0x93,
            '”' => 0x94,
            '–' => 0x96,
            '—' => 0x97,
            _ => b'?',
        })
        .collect()
}

fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

struct Page {
    content: Content,
    y: f32,
}

const LEFT: f32 = 56.0;
const VALUE_X: f32 = 200.0;

impl Page {
    fn text(&mut self, font: &[u8], size: f32, x: f32, s: &str) {
        self.content.begin_text();
        self.content.set_font(Name(font), size);
        self.content.next_line(x, self.y);
        self.content.show(Str(&win_ansi(s)));
        self.content.end_text();
    }

    fn heading(&mut self, s: &str) {
        self.y -= 26.0;
        self.text(b"HB", 12.0, LEFT, s);
        self.y -= 4.0;
        self.content.set_stroke_rgb(0.75, 0.75, 0.75);
        self.content.move_to(LEFT, self.y);
        self.content.line_to(539.0, self.y);
        self.content.stroke();
        self.y -= 12.0;
    }

    fn field(&mut self, label: &str, value: &str) {
        let lines = wrap(value, 60);
        self.text(b"H", 10.0, LEFT, label);
        for (i, line) in lines.iter().enumerate() {
            if i > 0 {
                self.y -= 13.0;
            }
            self.text(b"HB", 10.0, VALUE_X, line);
        }
        self.y -= 16.0;
    }
}

fn fmt_time(t: time::OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_else(|_| t.unix_timestamp().to_string())
}

pub fn render(input: &ProofInput<'_>) -> Vec<u8> {
    let (catalog, tree, page_id, contents, info) = (Ref::new(1), Ref::new(2), Ref::new(3), Ref::new(4), Ref::new(5));
    let fonts = [
        (b"H".as_slice(), Ref::new(6), "Helvetica"),
        (b"HB", Ref::new(7), "Helvetica-Bold"),
        (b"C", Ref::new(8), "Courier"),
    ];
    let mut pdf = Pdf::new();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree).kids([page_id]).count(1);
    {
        let mut page = pdf.page(page_id);
        page.media_box(Rect::new(0.0, 0.0, 595.0, 842.0));
        page.parent(tree);
        page.contents(contents);
        let mut resources = page.resources();
        let mut font_dict = resources.fonts();
        for (name, id, _) in fonts {
            font_dict.pair(Name(name), id);
        }
        font_dict.finish();
        resources.finish();
        page.finish();
    }
    for (_, id, base) in fonts {
        pdf.type1_font(id).base_font(Name(base.as_bytes())).encoding_predefined(Name(b"WinAnsiEncoding"));
    }

    let case = input.case;
    let id = input.identity;
    let d = input.decision;
    let mut p = Page { content: Content::new(), y: 842.0 };

    p.content.set_fill_rgb(0.11, 0.23, 0.42);
    p.content.rect(0.0, 770.0, 595.0, 72.0);
    p.content.fill_nonzero();
    p.content.set_fill_rgb(1.0, 1.0, 1.0);
    p.y = 806.0;
    p.text(b"HB", 22.0, LEFT, "Proof of identity");
    p.y = 786.0;
    p.text(b"H", 10.0, LEFT, &format!("Issued by {} for identification request {}", input.issuer, case.id));
    p.content.set_fill_rgb(0.0, 0.0, 0.0);
    p.y = 760.0;

    p.heading("Verified person");
    p.field("Name", &format!("{} {}", id.given_name, id.family_name));
    p.field("Date of birth", &id.date_of_birth.map(|d| d.to_string()).unwrap_or_else(|| "not stated".into()));
    p.field("Identifier (sub)", id.sub.as_deref().unwrap_or("not stated"));
    p.field("Country", id.country.as_deref().unwrap_or("not stated"));
    if let Some(exp) = id.document_expires {
        p.field("Document valid until", &exp.to_string());
    }

    p.heading("Verification");
    p.field("Method", &id.authentication_type);
    p.field("Level of assurance", &id.acr);
    p.field("Decided by", &d.actor);
    p.field("Reason", &d.reason);
    p.field("Completed at (UTC)", &fmt_time(d.decided_at));

    p.heading("Request");
    p.field("Case id", &case.id.to_string());
    p.field("Client id", &case.client_id);
    p.field("Reference", case.reference.as_deref().unwrap_or("none"));
    p.field("Requested at (UTC)", &fmt_time(case.created_at));
    if let Some(reason) = &case.reason {
        p.field("Purpose", reason);
    }

    p.heading("Evidence");
    p.text(b"H", 10.0, LEFT, "SHA-256 of the evidence manifest:");
    p.y -= 14.0;
    p.text(b"C", 9.5, LEFT, input.evidence_digest);
    p.y -= 18.0;
    p.text(b"H", 9.0, LEFT, "The manifest is one line per item, \"<kind> <sha256>\\n\", in this order:");
    p.y -= 13.0;
    for (kind, sha) in input.evidence {
        p.text(b"C", 8.0, LEFT, &format!("{} {}", kind.as_str(), sha));
        p.y -= 11.0;
    }
    p.y = 60.0;
    p.text(
        b"H",
        8.0,
        LEFT,
        "Every change to this case is recorded in Vouch's hash-chained audit log; check it with `vouch audit verify`.",
    );

    pdf.stream(contents, &p.content.finish());
    pdf.document_info(info)
        .title(TextStr("Proof of identity"))
        .subject(TextStr(&case.id.to_string()))
        .creator(TextStr(input.issuer));
    pdf.finish()
}

/// The file name integrators see.
pub fn file_name(case: &Case) -> String {
    format!("proof-of-identity-{}.pdf", case.id)
}

pub fn manifest_digest(items: &[(vouch_core::EvidenceKind, String)]) -> String {
    let lines = vouch_core::evidence::manifest_lines(items.iter().map(|(k, s)| (*k, s.as_str())));
    vouch_store::sha256_hex(lines.as_bytes())
}

pub fn evidence_items(evidence: &[Evidence]) -> Vec<(vouch_core::EvidenceKind, String)> {
    evidence.iter().map(|e| (e.kind, e.sha256.clone())).collect()
}

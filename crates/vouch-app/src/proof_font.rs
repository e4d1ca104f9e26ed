//! Unicode text for the proof PDF: DejaVu Sans, Sans Bold and Sans Mono (compiled in by build.rs), each embedded
//! as a subset holding only the glyphs the page uses (a Type0 font over a CIDFontType2, Identity-H, with a
//! ToUnicode map so that text can be copied and searched). DejaVu covers Latin (Extended A and B), Greek and
//! Cyrillic; a character it lacks prints as its missing-glyph box and is logged, never dropped silently.

use std::collections::BTreeMap;

use pdf_writer::types::{CidFontType, FontFlags, SystemInfo, UnicodeCmap};
use pdf_writer::{Filter, Finish, Name, Pdf, Rect, Ref, Str};
use subsetter::GlyphRemapper;

/// The three faces the page uses, by the resource name the content stream calls them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Face {
    Regular,
    Bold,
    Mono,
}

impl Face {
    pub const ALL: [Face; 3] = [Face::Regular, Face::Bold, Face::Mono];

    pub fn resource(self) -> &'static [u8] {
        match self {
            Face::Regular => b"F1",
            Face::Bold => b"F2",
            Face::Mono => b"F3",
        }
    }

    fn base_name(self) -> &'static str {
        match self {
            Face::Regular => "DejaVuSans",
            Face::Bold => "DejaVuSans-Bold",
            Face::Mono => "DejaVuSansMono",
        }
    }

    fn data(self) -> &'static [u8] {
        match self {
            Face::Regular => include_bytes!(concat!(env!("VOUCH_FONT_DIR"), "/DejaVuSans.ttf")),
            Face::Bold => include_bytes!(concat!(env!("VOUCH_FONT_DIR"), "/DejaVuSans-Bold.ttf")),
            Face::Mono => include_bytes!(concat!(env!("VOUCH_FONT_DIR"), "/DejaVuSansMono.ttf")),
        }
    }
}

/// What a face has been asked to show so far: the glyphs (old id to subset id) and the text behind each.
pub struct FaceUse {
    face: Face,
    parsed: ttf_parser::Face<'static>,
    remapper: GlyphRemapper,
    text_of: BTreeMap<u16, char>,
}

#[derive(Debug, thiserror::Error)]
pub enum FontError {
    #[error("the compiled-in font {0} does not parse: {1}")]
    Parse(&'static str, ttf_parser::FaceParsingError),
    #[error("the font {0} could not be subset: {1}")]
    Subset(&'static str, subsetter::Error),
    #[error("the font subset could not be compressed: {0}")]
    Compress(std::io::Error),
}

impl FaceUse {
    pub fn new(face: Face) -> Result<FaceUse, FontError> {
        let parsed = ttf_parser::Face::parse(face.data(), 0).map_err(|e| FontError::Parse(face.base_name(), e))?;
        Ok(FaceUse { face, parsed, remapper: GlyphRemapper::new(), text_of: BTreeMap::new() })
    }

    pub fn face(&self) -> Face {
        self.face
    }

    /// `text` as the content stream shows it: two bytes (the subset glyph id) per character.
    pub fn encode(&mut self, text: &str) -> Vec<u8> {
        let mut out = Vec::with_capacity(text.len() * 2);
        for c in text.chars() {
            let glyph = match self.parsed.glyph_index(c) {
                Some(g) => g.0,
                None => {
                    tracing::warn!(codepoint = c as u32, font = self.face.base_name(), "no glyph in the proof font");
                    0
                }
            };
            let cid = self.remapper.remap(glyph);
            if glyph != 0 {
                self.text_of.entry(cid).or_insert(c);
            }
            out.extend_from_slice(&cid.to_be_bytes());
        }
        out
    }

    /// How wide `text` sets at `size` points.
    pub fn width(&self, text: &str, size: f32) -> f32 {
        let per_em = f32::from(self.parsed.units_per_em().max(1));
        text.chars()
            .map(|c| {
                let glyph = self.parsed.glyph_index(c).unwrap_or(ttf_parser::GlyphId(0));
                f32::from(self.parsed.glyph_hor_advance(glyph).unwrap_or(0))
            })
            .sum::<f32>()
            * size
            / per_em
    }

    /// Writes the font objects, starting at `first` (five ids: Type0, CID font, descriptor, font file,
    /// ToUnicode map).
    pub fn write(&self, pdf: &mut Pdf, first: Ref) -> Result<(), FontError> {
        let ids: [Ref; 5] = std::array::from_fn(|i| Ref::new(first.get() + i as i32));
        let [type0, cid_font, descriptor, file, to_unicode] = ids;
        let name = format!("{}+{}", self.subset_tag(), self.face.base_name());
        let per_em = f32::from(self.parsed.units_per_em().max(1));
        let scale = |v: f32| v * 1000.0 / per_em;
        let system = SystemInfo { registry: Str(b"Adobe"), ordering: Str(b"Identity"), supplement: 0 };

        pdf.type0_font(type0)
            .base_font(Name(name.as_bytes()))
            .encoding_predefined(Name(b"Identity-H"))
            .descendant_font(cid_font)
            .to_unicode(to_unicode);

        let widths: Vec<f32> = self
            .remapper
            .remapped_gids()
            .map(|old| scale(f32::from(self.parsed.glyph_hor_advance(ttf_parser::GlyphId(old)).unwrap_or(0))))
            .collect();
        let mut cid = pdf.cid_font(cid_font);
        cid.subtype(CidFontType::Type2)
            .base_font(Name(name.as_bytes()))
            .system_info(system)
            .font_descriptor(descriptor)
            .cid_to_gid_map_predefined(Name(b"Identity"));
        cid.widths().consecutive(0, widths);
        cid.finish();

        let b = self.parsed.global_bounding_box();
        let mut flags = FontFlags::NON_SYMBOLIC;
        if self.face == Face::Mono {
            flags |= FontFlags::FIXED_PITCH;
        }
        pdf.font_descriptor(descriptor)
            .name(Name(name.as_bytes()))
            .flags(flags)
            .bbox(Rect::new(
                scale(f32::from(b.x_min)),
                scale(f32::from(b.y_min)),
                scale(f32::from(b.x_max)),
                scale(f32::from(b.y_max)),
            ))
            .italic_angle(0.0)
            .ascent(scale(f32::from(self.parsed.ascender())))
            .descent(scale(f32::from(self.parsed.descender())))
            .cap_height(scale(f32::from(self.parsed.capital_height().unwrap_or(self.parsed.ascender()))))
            .stem_v(if self.face == Face::Bold { 120.0 } else { 80.0 })
            .font_file2(file);

        let subset = subsetter::subset(self.face.data(), 0, &self.remapper)
            .map_err(|e| FontError::Subset(self.face.base_name(), e))?;
        let compressed = compress(&subset).map_err(FontError::Compress)?;
        pdf.stream(file, &compressed).filter(Filter::FlateDecode).pair(Name(b"Length1"), subset.len() as i32);

        let mut cmap = UnicodeCmap::new(Name(b"Vouch-UTF16"), system);
        for (cid, c) in &self.text_of {
            cmap.pair(*cid, *c);
        }
        pdf.cmap(to_unicode, &cmap.finish());
        Ok(())
    }

    /// Six capitals derived from the glyph set, as PDF asks of a subset font's name.
    fn subset_tag(&self) -> String {
        let mut hash: u32 = 2_166_136_261;
        for gid in self.remapper.remapped_gids() {
            for byte in gid.to_be_bytes() {
                hash = (hash ^ u32::from(byte)).wrapping_mul(16_777_619);
            }
        }
        (0..6).map(|i| char::from(b'A' + ((hash >> (i * 5)) % 26) as u8)).collect()
    }
}

fn compress(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    use std::io::Write;
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes)?;
    encoder.finish()
}

//! One incremental update that stamps, attaches and signs:
//! - a visible signature block at the foot of the last page: the handwritten signature's picture, the signer's
//!   name, the time and the case;
//! - the escrowed biometric structure as an embedded file (document attachment, and an associated file of the
//!   catalog);
//! - a signature field whose value is a PAdES B-B signature (`/ETSI.CAdES.detached`) by the kiosk's key over
//!   everything but its own `/Contents`.
//!
//! The update keeps the original's cross-reference style: a table after a table, a stream after a stream.

use std::io::Write as _;

use lopdf::{Dictionary, Document, Object, ObjectId, StringFormat};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use super::write::{self, text_string, win_ansi};
use super::PdfError;
use crate::pki::SigningIdentity;

/// Space reserved for the CMS signature, before its certificates.
const CMS_RESERVE: usize = 8192;
const BLOCK_HEIGHT: f64 = 96.0;
const BLOCK_MAX_WIDTH: f64 = 250.0;
const MARGIN: f64 = 36.0;
const MAX_IMAGE_SIDE: u32 = 2000;

pub struct SignOptions<'a> {
    /// The handwritten signature's picture (PNG or JPEG), at most 2000 px a side.
    pub signature_image: &'a [u8],
    pub signer_name: &'a str,
    pub signed_at: OffsetDateTime,
    pub case_id: &'a str,
    /// The signature dictionary's /Reason.
    pub reason: &'a str,
    pub location: Option<&'a str>,
    /// The signature field's name; unique in the document.
    pub field_name: &'a str,
    /// An attachment to embed before signing: file name and bytes (the escrowed biometric structure).
    pub attachment: Option<(&'a str, &'a [u8])>,
}

fn err(message: impl Into<String>) -> PdfError {
    PdfError::Signing(message.into())
}

fn unsupported(message: impl Into<String>) -> PdfError {
    PdfError::Unsupported(message.into())
}

/// The updated objects, each with its body bytes (what goes between `obj` and `endobj`).
struct Update {
    next_id: u32,
    objects: Vec<(ObjectId, Vec<u8>)>,
}

impl Update {
    fn alloc(&mut self) -> ObjectId {
        let id = (self.next_id, 0);
        self.next_id += 1;
        id
    }
    fn put(&mut self, id: ObjectId, obj: &Object) {
        let mut body = Vec::new();
        write::object(obj, &mut body);
        self.objects.push((id, body));
    }
    fn put_stream(&mut self, id: ObjectId, mut dict: Dictionary, data: &[u8]) {
        dict.set("Length", Object::Integer(data.len() as i64));
        let mut body = Vec::new();
        write::object(&Object::Dictionary(dict), &mut body);
        body.extend_from_slice(b"\nstream\n");
        body.extend_from_slice(data);
        body.extend_from_slice(b"\nendstream");
        self.objects.push((id, body));
    }
}

fn name(n: &str) -> Object {
    Object::Name(n.as_bytes().to_vec())
}

fn deflate(data: &[u8]) -> Result<Vec<u8>, PdfError> {
    let mut enc = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(data).map_err(|e| err(e.to_string()))?;
    enc.finish().map_err(|e| err(e.to_string()))
}

fn pdf_date(t: OffsetDateTime) -> String {
    format!("D:{}Z", crate::utc_digits(t))
}

fn number(o: &Object) -> Option<f64> {
    match o {
        Object::Integer(i) => Some(*i as f64),
        Object::Real(r) => Some(f64::from(*r)),
        _ => None,
    }
}

/// A page attribute that may be inherited from the page tree.
fn inherited<'a>(doc: &'a Document, mut id: ObjectId, key: &[u8]) -> Option<&'a Object> {
    for _ in 0..64 {
        let dict = doc.get_dictionary(id).ok()?;
        if let Ok(v) = dict.get(key) {
            return doc.dereference(v).ok().map(|(_, o)| o);
        }
        id = dict.get(b"Parent").ok()?.as_reference().ok()?;
    }
    None
}

fn media_box(doc: &Document, page: ObjectId) -> [f64; 4] {
    let found = inherited(doc, page, b"MediaBox")
        .and_then(|o| o.as_array().ok())
        .map(|a| a.iter().filter_map(number).collect::<Vec<f64>>());
    match found.as_deref() {
        Some(&[a, b, c, d]) => [a.min(c), b.min(d), a.max(c), b.max(d)],
        _ => [0.0, 0.0, 612.0, 792.0],
    }
}

/// The decoded signature picture as RGB and alpha planes, refusing decode bombs by the header's dimensions.
fn image_planes(bytes: &[u8]) -> Result<(u32, u32, Vec<u8>, Vec<u8>), PdfError> {
    use vouch_core::image_header;
    let format = image_header::sniff(bytes).ok_or_else(|| err("the signature image is not a PNG or JPEG image"))?;
    let (w, h) =
        image_header::dimensions(bytes, format).ok_or_else(|| err("the signature image's header is damaged"))?;
    if w == 0 || h == 0 || w > MAX_IMAGE_SIDE || h > MAX_IMAGE_SIDE {
        return Err(err(format!("the signature image must be 1 to {MAX_IMAGE_SIDE} pixels a side, not {w}×{h}")));
    }
    let rgba = image::load_from_memory(bytes).map_err(|_| err("the signature image could not be decoded"))?.to_rgba8();
    let mut rgb = Vec::with_capacity((w * h * 3) as usize);
    let mut alpha = Vec::with_capacity((w * h) as usize);
    for p in rgba.pixels() {
        rgb.extend_from_slice(&p.0[..3]);
        alpha.push(p.0[3]);
    }
    Ok((w, h, rgb, alpha))
}

fn fit_line(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        text.to_string()
    } else {
        let mut s: String = text.chars().take(max_chars.saturating_sub(3)).collect();
        s.push_str("...");
        s
    }
}

/// Stamps, attaches and signs `original`; returns the whole signed file.
pub fn sign(original: &[u8], opts: &SignOptions<'_>, identity: &SigningIdentity) -> Result<Vec<u8>, PdfError> {
    super::check(original)?;
    let doc = super::check::load(original)?;
    let (prev_xref, classic_xref) = super::check::last_xref(original)?;
    let root_id = doc
        .trailer
        .get(b"Root")
        .and_then(Object::as_reference)
        .map_err(|_| PdfError::Broken("the trailer names no catalog".into()))?;
    let mut catalog = doc.get_dictionary(root_id).map_err(|_| PdfError::Broken("no catalog".into()))?.clone();
    let page_id = *doc.get_pages().values().next_back().ok_or(PdfError::NoPages)?;
    let declared_size = doc.trailer.get(b"Size").ok().and_then(number).unwrap_or(0.0) as u32;
    let mut up = Update { next_id: declared_size.max(doc.max_id + 1), objects: Vec::new() };

    let (image_id, image_size) = put_signature_image(&mut up, opts.signature_image)?;
    let font_id = put_font(&mut up);
    let block = Block::at_foot_of(media_box(&doc, page_id));
    let ap_id = put_appearance(&mut up, &block, opts, identity, (image_id, image_size), font_id)?;
    let filespec =
        opts.attachment.map(|(file_name, bytes)| (put_attachment(&mut up, file_name, bytes, opts), file_name));
    let placeholder = put_signature_placeholder(&mut up, opts, identity);
    let widget_id = put_widget(&mut up, opts, placeholder.id, &block, page_id, ap_id);
    add_to_page(&doc, page_id, &mut up, widget_id)?;
    let mut catalog_changed = add_to_form(&doc, &mut catalog, &mut up, widget_id)?;
    if let Some((fs_id, file_name)) = filespec {
        attach(&doc, &mut catalog, &mut up, fs_id, file_name);
        catalog_changed = true;
    }
    if catalog_changed {
        up.put(root_id, &Object::Dictionary(catalog));
    }
    let (out, at) = write_update(original, &doc, up, root_id, (prev_xref, classic_xref), &placeholder)?;
    seal(out, at, placeholder.capacity, identity)
}

/// The signature's picture as an RGB image with its alpha as a soft mask; returns the image's id and size.
fn put_signature_image(up: &mut Update, picture: &[u8]) -> Result<(ObjectId, (u32, u32)), PdfError> {
    let (iw, ih, rgb, alpha) = image_planes(picture)?;
    let smask_id = up.alloc();
    let mut smask = Dictionary::new();
    for (k, v) in [("Type", name("XObject")), ("Subtype", name("Image")), ("ColorSpace", name("DeviceGray"))] {
        smask.set(k, v);
    }
    smask.set("Width", Object::Integer(i64::from(iw)));
    smask.set("Height", Object::Integer(i64::from(ih)));
    smask.set("BitsPerComponent", Object::Integer(8));
    smask.set("Filter", name("FlateDecode"));
    let mut image = smask.clone();
    up.put_stream(smask_id, smask, &deflate(&alpha)?);
    let image_id = up.alloc();
    image.set("ColorSpace", name("DeviceRGB"));
    image.set("SMask", Object::Reference(smask_id));
    up.put_stream(image_id, image, &deflate(&rgb)?);
    Ok((image_id, (iw, ih)))
}

/// Helvetica in WinAnsi, which every reader has.
fn put_font(up: &mut Update) -> ObjectId {
    let font_id = up.alloc();
    let mut font = Dictionary::new();
    for (k, v) in [
        ("Type", name("Font")),
        ("Subtype", name("Type1")),
        ("BaseFont", name("Helvetica")),
        ("Encoding", name("WinAnsiEncoding")),
    ] {
        font.set(k, v);
    }
    up.put(font_id, &Object::Dictionary(font));
    font_id
}

/// Where the visible block goes: the bottom-right of the page, inside its margin.
struct Block {
    width: f64,
    rect: [f64; 4],
}

impl Block {
    fn at_foot_of(mb: [f64; 4]) -> Block {
        let width = BLOCK_MAX_WIDTH.min(mb[2] - mb[0] - 2.0 * MARGIN).max(120.0);
        let (x0, y0) = (mb[2] - MARGIN - width, mb[1] + MARGIN);
        Block { width, rect: [x0, y0, x0 + width, y0 + BLOCK_HEIGHT] }
    }
}

/// The block's text: who, when, which case, sealed by whom.
fn block_lines(opts: &SignOptions<'_>, identity: &SigningIdentity) -> [String; 4] {
    let when = opts.signed_at.to_offset(time::UtcOffset::UTC);
    [
        format!("Signed by: {}", opts.signer_name),
        format!(
            "On: {} UTC",
            when.format(time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]"))
                .unwrap_or_default()
        ),
        format!("Case: {}", opts.case_id),
        if identity.is_self_signed() {
            "Sealed by Vouch kiosk (self-signed certificate)".to_string()
        } else {
            format!("Sealed by {}", identity.subject())
        },
    ]
}

/// The block's appearance stream: a frame, the picture scaled into the space above a rule, the text below it.
fn put_appearance(
    up: &mut Update,
    block: &Block,
    opts: &SignOptions<'_>,
    identity: &SigningIdentity,
    (image_id, (iw, ih)): (ObjectId, (u32, u32)),
    font_id: ObjectId,
) -> Result<ObjectId, PdfError> {
    let block_w = block.width;
    let text_h = 40.0;
    let (area_w, area_h) = (block_w - 12.0, BLOCK_HEIGHT - text_h - 8.0);
    let scale = (area_w / f64::from(iw)).min(area_h / f64::from(ih));
    let (dw, dh) = (f64::from(iw) * scale, f64::from(ih) * scale);
    let (dx, dy) = (6.0 + (area_w - dw) / 2.0, text_h + 2.0 + (area_h - dh) / 2.0);
    let max_chars = (block_w / 3.6) as usize;
    let mut content = Vec::new();
    let r = write::real;
    content.extend_from_slice(
        format!(
            "q 0.25 0.3 0.5 RG 0.6 w 0.3 0.3 {} {} re S Q\nq {} 0 0 {} {} {} cm /Im1 Do Q\n0.25 0.3 0.5 RG {} {} m {} {} l S\nBT 0.1 0.1 0.2 rg /F1 7 Tf 8.4 TL 6 {} Td\n",
            r(block_w - 0.6),
            r(BLOCK_HEIGHT - 0.6),
            r(dw),
            r(dh),
            r(dx),
            r(dy),
            r(6.0),
            r(text_h),
            r(block_w - 6.0),
            r(text_h),
            r(text_h - 9.0),
        )
        .as_bytes(),
    );
    for line in &block_lines(opts, identity) {
        let mut s = Vec::new();
        write::literal(&win_ansi(&fit_line(line, max_chars)), &mut s);
        content.extend_from_slice(&s);
        content.extend_from_slice(b" Tj T*\n");
    }
    content.extend_from_slice(b"ET\n");
    let ap_id = up.alloc();
    let mut ap = Dictionary::new();
    ap.set("Type", name("XObject"));
    ap.set("Subtype", name("Form"));
    ap.set(
        "BBox",
        Object::Array(vec![0.into(), 0.into(), Object::Real(block_w as f32), Object::Real(BLOCK_HEIGHT as f32)]),
    );
    let mut xobjects = Dictionary::new();
    xobjects.set("Im1", Object::Reference(image_id));
    let mut fonts = Dictionary::new();
    fonts.set("F1", Object::Reference(font_id));
    let mut resources = Dictionary::new();
    resources.set("XObject", Object::Dictionary(xobjects));
    resources.set("Font", Object::Dictionary(fonts));
    ap.set("Resources", Object::Dictionary(resources));
    ap.set("Filter", name("FlateDecode"));
    up.put_stream(ap_id, ap, &deflate(&content)?);
    Ok(ap_id)
}

/// The escrowed pen data as an embedded file and its file specification; returns the specification's id.
fn put_attachment(up: &mut Update, file_name: &str, bytes: &[u8], opts: &SignOptions<'_>) -> ObjectId {
    let ef_id = up.alloc();
    let mut ef = Dictionary::new();
    ef.set("Type", name("EmbeddedFile"));
    ef.set("Subtype", name("application/pkcs7-mime"));
    let mut params = Dictionary::new();
    params.set("Size", Object::Integer(bytes.len() as i64));
    params.set("ModDate", Object::String(pdf_date(opts.signed_at).into_bytes(), StringFormat::Literal));
    ef.set("Params", Object::Dictionary(params));
    up.put_stream(ef_id, ef, bytes);
    let fs_id = up.alloc();
    let mut fs = Dictionary::new();
    fs.set("Type", name("Filespec"));
    fs.set("F", text_string(file_name));
    fs.set("UF", text_string(file_name));
    fs.set("Desc", text_string("Handwritten signature pen data (ISO/IEC 19794-7), encrypted to the escrow key"));
    fs.set("AFRelationship", name("Supplement"));
    let mut efd = Dictionary::new();
    efd.set("F", Object::Reference(ef_id));
    fs.set("EF", Object::Dictionary(efd));
    up.put(fs_id, &Object::Dictionary(fs));
    fs_id
}

/// The signature dictionary, with placeholders for `/ByteRange` and `/Contents` that [`seal`] fills once the
/// file's length is known.
struct SignaturePlaceholder {
    id: ObjectId,
    /// Offsets of the two placeholders inside the object's body.
    byte_range_at: usize,
    contents_at: usize,
    /// Bytes reserved for the CMS signature.
    capacity: usize,
}

fn put_signature_placeholder(
    up: &mut Update,
    opts: &SignOptions<'_>,
    identity: &SigningIdentity,
) -> SignaturePlaceholder {
    let id = up.alloc();
    let capacity = CMS_RESERVE + identity.certificate_der().len() * 2;
    let mut body = Vec::new();
    body.extend_from_slice(b"<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached /M ");
    write::literal(pdf_date(opts.signed_at).as_bytes(), &mut body);
    body.extend_from_slice(b" /Name ");
    write::object(&text_string(opts.signer_name), &mut body);
    body.extend_from_slice(b" /Reason ");
    write::object(&text_string(opts.reason), &mut body);
    if let Some(location) = opts.location {
        body.extend_from_slice(b" /Location ");
        write::object(&text_string(location), &mut body);
    }
    body.extend_from_slice(b" /ByteRange ");
    let byte_range_at = body.len();
    body.extend_from_slice(format!("[0 {0:10} {0:10} {0:10}]", "").as_bytes());
    body.extend_from_slice(b" /Contents ");
    let contents_at = body.len();
    body.push(b'<');
    body.extend(std::iter::repeat_n(b'0', capacity * 2));
    body.extend_from_slice(b"> >>");
    up.objects.push((id, body));
    SignaturePlaceholder { id, byte_range_at, contents_at, capacity }
}

/// The signature field's widget: locked, printed, showing the block.
fn put_widget(
    up: &mut Update,
    opts: &SignOptions<'_>,
    sig_id: ObjectId,
    block: &Block,
    page_id: ObjectId,
    ap_id: ObjectId,
) -> ObjectId {
    let widget_id = up.alloc();
    let mut widget = Dictionary::new();
    widget.set("Type", name("Annot"));
    widget.set("Subtype", name("Widget"));
    widget.set("FT", name("Sig"));
    widget.set("T", text_string(opts.field_name));
    widget.set("V", Object::Reference(sig_id));
    widget.set("Rect", Object::Array(block.rect.iter().map(|v| Object::Real(*v as f32)).collect()));
    widget.set("P", Object::Reference(page_id));
    // Print | Locked.
    widget.set("F", Object::Integer(132));
    let mut apd = Dictionary::new();
    apd.set("N", Object::Reference(ap_id));
    widget.set("AP", Object::Dictionary(apd));
    up.put(widget_id, &Object::Dictionary(widget));
    widget_id
}

/// The widget in the page's annotations, wherever the page keeps them.
fn add_to_page(doc: &Document, page_id: ObjectId, up: &mut Update, widget_id: ObjectId) -> Result<(), PdfError> {
    let mut page = doc.get_dictionary(page_id).map_err(|_| PdfError::Broken("a page is missing".into()))?.clone();
    match page.get(b"Annots").ok().cloned() {
        Some(Object::Reference(annots_id)) => {
            let mut annots = doc
                .get_object(annots_id)
                .ok()
                .and_then(|o| o.as_array().ok().cloned())
                .ok_or_else(|| unsupported("the page's annotation list is not an array"))?;
            annots.push(Object::Reference(widget_id));
            up.put(annots_id, &Object::Array(annots));
        }
        Some(Object::Array(mut annots)) => {
            annots.push(Object::Reference(widget_id));
            page.set("Annots", Object::Array(annots));
            up.put(page_id, &Object::Dictionary(page));
        }
        Some(_) => return Err(unsupported("the page's annotation list is not an array")),
        None => {
            page.set("Annots", Object::Array(vec![Object::Reference(widget_id)]));
            up.put(page_id, &Object::Dictionary(page));
        }
    }
    Ok(())
}

/// The widget in the interactive form's fields, the form made if there is none; returns whether the catalog
/// itself changed.
fn add_to_form(
    doc: &Document,
    catalog: &mut Dictionary,
    up: &mut Update,
    widget_id: ObjectId,
) -> Result<bool, PdfError> {
    let add_field = |form: &mut Dictionary, up: &mut Update| -> Result<(), PdfError> {
        match form.get(b"Fields").ok().cloned() {
            Some(Object::Reference(fields_id)) => {
                let mut fields = doc
                    .get_object(fields_id)
                    .ok()
                    .and_then(|o| o.as_array().ok().cloned())
                    .ok_or_else(|| unsupported("the form's field list is not an array"))?;
                fields.push(Object::Reference(widget_id));
                up.put(fields_id, &Object::Array(fields));
            }
            Some(Object::Array(mut fields)) => {
                fields.push(Object::Reference(widget_id));
                form.set("Fields", Object::Array(fields));
            }
            _ => form.set("Fields", Object::Array(vec![Object::Reference(widget_id)])),
        }
        // SignaturesExist | AppendOnly.
        form.set("SigFlags", Object::Integer(3));
        Ok(())
    };
    match catalog.get(b"AcroForm").ok().cloned() {
        Some(Object::Reference(form_id)) => {
            let mut form = doc
                .get_dictionary(form_id)
                .map_err(|_| unsupported("the interactive form is not a dictionary"))?
                .clone();
            add_field(&mut form, up)?;
            up.put(form_id, &Object::Dictionary(form));
            Ok(false)
        }
        Some(Object::Dictionary(mut form)) => {
            add_field(&mut form, up)?;
            catalog.set("AcroForm", Object::Dictionary(form));
            Ok(true)
        }
        _ => {
            let form_id = up.alloc();
            let mut form = Dictionary::new();
            add_field(&mut form, up)?;
            up.put(form_id, &Object::Dictionary(form));
            catalog.set("AcroForm", Object::Reference(form_id));
            Ok(true)
        }
    }
}

/// Where the placeholders landed in the written file.
struct PlaceholderOffsets {
    byte_range: usize,
    contents: usize,
}

/// The original, then the updated objects, then a cross-reference section in the original's style (a table
/// after a table, a stream after a stream) and its trailer.
fn write_update(
    original: &[u8],
    doc: &Document,
    mut up: Update,
    root_id: ObjectId,
    (prev_xref, classic_xref): (usize, bool),
    placeholder: &SignaturePlaceholder,
) -> Result<(Vec<u8>, PlaceholderOffsets), PdfError> {
    let mut out = original.to_vec();
    if !out.ends_with(b"\n") && !out.ends_with(b"\r") {
        out.push(b'\n');
    }
    let mut offsets: Vec<(ObjectId, usize)> = Vec::new();
    let mut at = PlaceholderOffsets { byte_range: 0, contents: 0 };
    for (id, body) in &up.objects {
        offsets.push((*id, out.len()));
        let header = format!("{} {} obj\n", id.0, id.1);
        out.extend_from_slice(header.as_bytes());
        if *id == placeholder.id {
            at = PlaceholderOffsets {
                byte_range: out.len() + placeholder.byte_range_at,
                contents: out.len() + placeholder.contents_at,
            };
        }
        out.extend_from_slice(body);
        out.extend_from_slice(b"\nendobj\n");
    }
    let mut trailer = update_trailer(doc, root_id, prev_xref);
    let xref_at;
    if classic_xref {
        trailer.set("Size", Object::Integer(i64::from(up.next_id)));
        xref_at = out.len();
        out.extend_from_slice(b"xref\n");
        offsets.sort();
        for run in runs(&offsets) {
            out.extend_from_slice(format!("{} {}\n", run.first().map(|r| r.0 .0).unwrap_or(0), run.len()).as_bytes());
            for ((_, generation), offset) in run {
                out.extend_from_slice(format!("{offset:010} {generation:05} n\r\n").as_bytes());
            }
        }
        out.extend_from_slice(b"trailer\n");
        write::object(&Object::Dictionary(trailer), &mut out);
        out.push(b'\n');
    } else {
        let xref_id = up.alloc();
        xref_at = out.len();
        offsets.push((xref_id, xref_at));
        offsets.sort();
        let mut data = Vec::new();
        let mut index = Vec::new();
        for run in runs(&offsets) {
            index.push(Object::Integer(i64::from(run.first().map(|r| r.0 .0).unwrap_or(0))));
            index.push(Object::Integer(run.len() as i64));
            for ((_, generation), offset) in run {
                data.push(1u8);
                data.extend_from_slice(&u32::try_from(*offset).map_err(|_| err("file too large"))?.to_be_bytes());
                data.extend_from_slice(&generation.to_be_bytes());
            }
        }
        trailer.set("Type", name("XRef"));
        trailer.set("Size", Object::Integer(i64::from(up.next_id)));
        trailer.set("W", Object::Array(vec![1.into(), 4.into(), 2.into()]));
        trailer.set("Index", Object::Array(index));
        trailer.set("Length", Object::Integer(data.len() as i64));
        out.extend_from_slice(format!("{} 0 obj\n", xref_id.0).as_bytes());
        write::object(&Object::Dictionary(trailer), &mut out);
        out.extend_from_slice(b"\nstream\n");
        out.extend_from_slice(&data);
        out.extend_from_slice(b"\nendstream\nendobj\n");
    }
    out.extend_from_slice(format!("startxref\n{xref_at}\n%%EOF\n").as_bytes());
    Ok((out, at))
}

/// The update's trailer: the catalog, the original's /Info, /Prev, and a new second /ID.
fn update_trailer(doc: &Document, root_id: ObjectId, prev_xref: usize) -> Dictionary {
    let mut trailer = Dictionary::new();
    trailer.set("Root", Object::Reference(root_id));
    if let Ok(info) = doc.trailer.get(b"Info") {
        trailer.set("Info", info.clone());
    }
    trailer.set("Prev", Object::Integer(prev_xref as i64));
    let mut new_id = [0u8; 16];
    rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut new_id);
    let first_id = doc
        .trailer
        .get(b"ID")
        .ok()
        .and_then(|o| o.as_array().ok())
        .and_then(|a| a.first().cloned())
        .unwrap_or_else(|| Object::String(new_id.to_vec(), StringFormat::Hexadecimal));
    trailer.set("ID", Object::Array(vec![first_id, Object::String(new_id.to_vec(), StringFormat::Hexadecimal)]));
    trailer
}

/// Patches the byte range, hashes everything but /Contents, signs the hash and fills /Contents.
fn seal(
    mut out: Vec<u8>,
    at: PlaceholderOffsets,
    capacity: usize,
    identity: &SigningIdentity,
) -> Result<Vec<u8>, PdfError> {
    let gap_start = at.contents;
    let gap_end = at.contents + 2 + capacity * 2;
    let range = format!("[0 {gap_start:<10} {gap_end:<10} {:<10}]", out.len() - gap_end);
    out.get_mut(at.byte_range..at.byte_range + range.len())
        .ok_or_else(|| err("byte range placeholder"))?
        .copy_from_slice(range.as_bytes());
    let mut hasher = Sha256::new();
    hasher.update(out.get(..gap_start).unwrap_or_default());
    hasher.update(out.get(gap_end..).unwrap_or_default());
    let digest: [u8; 32] = hasher.finalize().into();
    let cms = identity.sign_detached(&digest, None).map_err(|e| err(e.to_string()))?;
    if cms.len() > capacity {
        return Err(err("the signature is larger than the space reserved for it"));
    }
    let hex = hex::encode_upper(&cms);
    out.get_mut(gap_start + 1..gap_start + 1 + hex.len())
        .ok_or_else(|| err("contents placeholder"))?
        .copy_from_slice(hex.as_bytes());
    Ok(out)
}

/// Contiguous runs of object numbers, for xref subsections.
fn runs(sorted: &[(ObjectId, usize)]) -> Vec<&[(ObjectId, usize)]> {
    let mut out = Vec::new();
    let mut start = 0;
    for i in 1..=sorted.len() {
        let breaks = match (sorted.get(i - 1), sorted.get(i)) {
            (Some(a), Some(b)) => b.0 .0 != a.0 .0 + 1,
            _ => true,
        };
        if breaks {
            if let Some(run) = sorted.get(start..i) {
                out.push(run);
            }
            start = i;
        }
    }
    out
}

/// Lists the attachment in the catalog's associated files and, where the document's name tree is simple
/// enough to extend in place, in its embedded files.
fn attach(doc: &Document, catalog: &mut Dictionary, up: &mut Update, fs_id: ObjectId, file_name: &str) {
    let mut af = catalog
        .get(b"AF")
        .ok()
        .and_then(|o| doc.dereference(o).ok())
        .and_then(|(_, o)| o.as_array().ok().cloned())
        .unwrap_or_default();
    af.push(Object::Reference(fs_id));
    catalog.set("AF", Object::Array(af));

    let key = Object::String(file_name.as_bytes().to_vec(), StringFormat::Literal);
    let leaf = |names: &mut Vec<Object>| {
        let mut pairs: Vec<(Object, Object)> = names
            .chunks(2)
            .filter_map(|c| match c {
                [k, v] => Some((k.clone(), v.clone())),
                _ => None,
            })
            .collect();
        pairs.push((key.clone(), Object::Reference(fs_id)));
        pairs.sort_by(|a, b| a.0.as_str().unwrap_or_default().cmp(b.0.as_str().unwrap_or_default()));
        *names = pairs.into_iter().flat_map(|(k, v)| [k, v]).collect();
    };
    let new_tree = || {
        let mut tree = Dictionary::new();
        tree.set("Names", Object::Array(vec![key.clone(), Object::Reference(fs_id)]));
        tree
    };
    // Returns false where the tree has kids (the associated-file entry then stands alone).
    let extend = |names_dict: &mut Dictionary, up: &mut Update| -> bool {
        match names_dict.get(b"EmbeddedFiles").ok().cloned() {
            None => {
                names_dict.set("EmbeddedFiles", Object::Dictionary(new_tree()));
                true
            }
            Some(Object::Dictionary(mut tree)) if tree.has(b"Names") && !tree.has(b"Kids") => {
                if let Ok(Object::Array(mut names)) = tree.get(b"Names").cloned() {
                    leaf(&mut names);
                    tree.set("Names", Object::Array(names));
                    names_dict.set("EmbeddedFiles", Object::Dictionary(tree));
                    return true;
                }
                false
            }
            Some(Object::Reference(tree_id)) => {
                let Ok(mut tree) = doc.get_dictionary(tree_id).cloned() else { return false };
                match tree.get(b"Names").ok().cloned() {
                    Some(Object::Array(mut names)) if !tree.has(b"Kids") => {
                        leaf(&mut names);
                        tree.set("Names", Object::Array(names));
                        up.put(tree_id, &Object::Dictionary(tree));
                        true
                    }
                    _ => false,
                }
            }
            _ => false,
        }
    };
    match catalog.get(b"Names").ok().cloned() {
        None => {
            let mut names = Dictionary::new();
            names.set("EmbeddedFiles", Object::Dictionary(new_tree()));
            catalog.set("Names", Object::Dictionary(names));
        }
        Some(Object::Dictionary(mut names)) => {
            if extend(&mut names, up) {
                catalog.set("Names", Object::Dictionary(names));
            }
        }
        Some(Object::Reference(names_id)) => {
            if let Ok(mut names) = doc.get_dictionary(names_id).cloned() {
                if extend(&mut names, up) {
                    up.put(names_id, &Object::Dictionary(names));
                }
            }
        }
        Some(_) => {}
    }
}

//! Face-recognition collections and the persons enrolled in them, each owned by one API client. A person's
//! templates live in `gallery_templates` under two kinds of index: the client's whole gallery and each
//! collection the person is in. Every change here that touches templates returns what the in-memory index
//! must add and drop, and is one transaction with its audit event.

use time::OffsetDateTime;

use crate::audit;
use crate::db::{Conn, Row};
use crate::db_params;
use crate::error::{Result, StoreError};
use crate::{from_ms, now, to_ms, Store};

/// The audit chain of enrolments and removals.
pub const GALLERY_CHAIN: &str = "gallery";

/// The index that holds every person of a client.
pub fn client_index(client_id: &str) -> String {
    format!("client:{client_id}")
}

/// The index of one collection.
pub fn collection_index(collection_id: &str) -> String {
    format!("collection:{collection_id}")
}

#[derive(Debug, Clone, PartialEq)]
pub struct GalleryCollection {
    pub id: String,
    /// A UUID: the name some of Verifik's endpoints want instead of the id.
    pub code: String,
    pub client_id: String,
    pub name: String,
    pub description: String,
    pub project: Option<String>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Thumbnail {
    pub id: String,
    pub jpeg: Vec<u8>,
}

/// What is said of a person; every field but the name may be absent.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PersonFacts {
    pub name: String,
    pub gender: Option<String>,
    /// `YYYY-MM-DD`.
    pub date_of_birth: Option<String>,
    pub nationality: Option<String>,
    pub notes: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct GalleryPerson {
    pub id: String,
    pub client_id: String,
    pub facts: PersonFacts,
    pub status: String,
    /// The ids of the collections the person is in.
    pub collections: Vec<String>,
    pub thumbnails: Vec<Thumbnail>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

/// A person's face: its template (the face engine's encoding, opaque here) and its thumbnail.
#[derive(Debug, Clone, PartialEq)]
pub struct EnrolledFace {
    pub template: Vec<u8>,
    pub thumbnail_jpeg: Vec<u8>,
}

/// A template row the in-memory index must add: its key, its index and its subject (the person).
#[derive(Debug, Clone, PartialEq)]
pub struct IndexedTemplate {
    pub key: u64,
    pub index: String,
    pub subject: String,
    pub template: Vec<u8>,
}

/// What a change did to the stored templates.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IndexChange {
    pub added: Vec<IndexedTemplate>,
    pub removed: Vec<u64>,
}

/// Creating a person: created, or refused because a person of that name and birth date is already in one of
/// the collections (Verifik's `person_already_set`).
#[derive(Debug, Clone, PartialEq)]
pub enum PersonCreated {
    Created(GalleryPerson, IndexChange),
    AlreadySet(GalleryPerson),
}

/// A partial update: `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PersonChanges {
    pub name: Option<String>,
    pub gender: Option<String>,
    pub date_of_birth: Option<String>,
    pub nationality: Option<String>,
    pub notes: Option<String>,
    pub collections: Option<Vec<String>>,
    pub faces: Option<Vec<EnrolledFace>>,
}

fn new_object_id() -> String {
    // 24 hex digits, the shape of the ids Verifik's clients store.
    uuid::Uuid::new_v4().simple().to_string().chars().take(24).collect()
}

fn template_aad(key: i64) -> Vec<u8> {
    format!("gallery-template:{key}").into_bytes()
}

fn thumbnail_aad(id: &str) -> Vec<u8> {
    format!("gallery-thumbnail:{id}").into_bytes()
}

const COLLECTION_COLUMNS: &str = "id, code, client_id, name, description, project, created_at, updated_at";

fn collection_from_row(r: &Row) -> Result<GalleryCollection> {
    Ok(GalleryCollection {
        id: r.get(0)?,
        code: r.get(1)?,
        client_id: r.get(2)?,
        name: r.get(3)?,
        description: r.get(4)?,
        project: r.get(5)?,
        created_at: from_ms(r.get(6)?),
        updated_at: from_ms(r.get(7)?),
    })
}

const PERSON_COLUMNS: &str =
    "id, client_id, name, gender, date_of_birth, nationality, notes, status, created_at, updated_at";

fn person_from_row(r: &Row) -> Result<GalleryPerson> {
    Ok(GalleryPerson {
        id: r.get(0)?,
        client_id: r.get(1)?,
        facts: PersonFacts {
            name: r.get(2)?,
            gender: r.get(3)?,
            date_of_birth: r.get(4)?,
            nationality: r.get(5)?,
            notes: r.get(6)?,
        },
        status: r.get(7)?,
        collections: Vec::new(),
        thumbnails: Vec::new(),
        created_at: from_ms(r.get(8)?),
        updated_at: from_ms(r.get(9)?),
    })
}

/// Which persons a listing returns.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PersonQuery {
    /// Part of the name, any case.
    pub name_contains: Option<String>,
    pub collection: Option<String>,
    pub status: Option<String>,
    pub date_of_birth: Option<String>,
    /// Newest first when true.
    pub newest_first: bool,
    pub offset: u32,
    pub limit: u32,
}

impl Store {
    pub fn create_gallery_collection(
        &self,
        client_id: &str,
        name: &str,
        description: &str,
        project: Option<&str>,
    ) -> Result<GalleryCollection> {
        let at = now();
        let collection = GalleryCollection {
            id: new_object_id(),
            code: uuid::Uuid::new_v4().to_string(),
            client_id: client_id.to_string(),
            name: name.to_string(),
            description: description.to_string(),
            project: project.map(str::to_string),
            created_at: at,
            updated_at: at,
        };
        self.with(|conn| {
            conn.execute(
                &format!(
                    "INSERT INTO gallery_collections ({COLLECTION_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)"
                ),
                db_params![collection.id, collection.code, client_id, name, description, collection.project, to_ms(at)],
            )
        })?;
        Ok(collection)
    }

    /// A client's collection by its id or its code.
    pub fn gallery_collection(&self, client_id: &str, id_or_code: &str) -> Result<GalleryCollection> {
        self.with(|conn| find_collection(conn, client_id, id_or_code))
    }

    /// A client's collections, oldest first, those whose name contains `name_contains` (any case) when given.
    pub fn gallery_collections(&self, client_id: &str, name_contains: Option<&str>) -> Result<Vec<GalleryCollection>> {
        let rows = self.with(|conn| {
            let position = conn.position_fn();
            conn.query(
                &format!(
                    "SELECT {COLLECTION_COLUMNS} FROM gallery_collections WHERE client_id = ?1
                     AND (CAST(?2 AS TEXT) IS NULL OR {position}(lower(name), lower(?2)) > 0) ORDER BY created_at, id"
                ),
                db_params![client_id, name_contains],
            )
        })?;
        rows.iter().map(collection_from_row).collect()
    }

    /// Renames or re-describes a collection and, when `people` is given, makes its members exactly those
    /// persons (each must be the client's).
    pub fn update_gallery_collection(
        &self,
        client_id: &str,
        id_or_code: &str,
        name: Option<&str>,
        description: Option<&str>,
        people: Option<&[String]>,
    ) -> Result<(GalleryCollection, IndexChange)> {
        self.with(|conn| {
            conn.transaction(|tx| {
                self.announce(tx, crate::changes::GALLERY)?;
                let collection = find_collection(tx, client_id, id_or_code)?;
                tx.execute(
                    "UPDATE gallery_collections SET name = coalesce(?1, name), description = coalesce(?2, description),
                     updated_at = ?3 WHERE id = ?4",
                    db_params![name, description, to_ms(now()), collection.id],
                )?;
                let mut change = IndexChange::default();
                if let Some(people) = people {
                    let members = collection_members(tx, &collection.id)?;
                    for gone in members.iter().filter(|m| !people.contains(m)) {
                        change.removed.extend(self.leave_collection(tx, gone, &collection.id)?);
                    }
                    for person in people.iter().filter(|p| !members.contains(p)) {
                        find_person(tx, client_id, person)?;
                        change.added.extend(self.join_collection(tx, person, &collection.id)?);
                    }
                }
                let updated = find_collection(tx, client_id, &collection.id)?;
                Ok((updated, change))
            })
        })
    }

    /// Deletes a collection; its persons stay, in their other collections.
    pub fn delete_gallery_collection(
        &self,
        client_id: &str,
        id_or_code: &str,
        actor: &str,
    ) -> Result<(GalleryCollection, IndexChange)> {
        self.with(|conn| {
            conn.transaction(|tx| {
                self.announce(tx, crate::changes::GALLERY)?;
                let collection = find_collection(tx, client_id, id_or_code)?;
                let removed = delete_templates(tx, "collection = ?1", &collection_index(&collection.id))?;
                tx.execute("DELETE FROM gallery_collections WHERE id = ?1", db_params![collection.id])?;
                let detail = serde_json::json!({"collection": collection.id, "templates": removed.len()});
                audit::append_event(tx, self.audit_key(), GALLERY_CHAIN, now(), actor, "collection_deleted", &detail)?;
                Ok((collection, IndexChange { added: Vec::new(), removed }))
            })
        })
    }

    /// Enrols a person with their faces in the client's gallery and in `collections` (ids or codes), unless
    /// a person of the same name (any case) and birth date is already in one of them, or in the client's
    /// gallery when no collection is named.
    pub fn create_gallery_person(
        &self,
        client_id: &str,
        facts: &PersonFacts,
        collections: &[String],
        faces: &[EnrolledFace],
        actor: &str,
    ) -> Result<PersonCreated> {
        self.create_person(None, client_id, facts, collections, faces, actor)
    }

    /// Enrols the person case `case_id` onboards, as [`Store::create_gallery_person`] does, and names them in
    /// the case's subject in the same transaction: a crash between the two would leave the case unaware of its
    /// own enrolment, and its next try would take that person for a duplicate. `NotFound` when the case has no
    /// subject, or one that names an enrolled person already.
    pub fn create_gallery_person_for_case(
        &self,
        case_id: vouch_core::CaseId,
        client_id: &str,
        facts: &PersonFacts,
        collections: &[String],
        faces: &[EnrolledFace],
        actor: &str,
    ) -> Result<PersonCreated> {
        self.create_person(Some(case_id), client_id, facts, collections, faces, actor)
    }

    fn create_person(
        &self,
        for_case: Option<vouch_core::CaseId>,
        client_id: &str,
        facts: &PersonFacts,
        collections: &[String],
        faces: &[EnrolledFace],
        actor: &str,
    ) -> Result<PersonCreated> {
        self.with(|conn| {
            conn.transaction(|tx| {
                self.announce(tx, crate::changes::GALLERY)?;
                let collection_ids =
                    collections.iter().map(|c| find_collection(tx, client_id, c).map(|c| c.id)).collect::<Result<Vec<_>>>()?;
                if let Some(existing) = same_person(tx, client_id, facts, &collection_ids)? {
                    let existing = self.complete_person(tx, existing)?;
                    return Ok(PersonCreated::AlreadySet(existing));
                }
                let id = new_object_id();
                let at = to_ms(now());
                tx.execute(
                    &format!(
                        "INSERT INTO gallery_persons ({PERSON_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'active', ?8, ?8)"
                    ),
                    db_params![id, client_id, facts.name, facts.gender, facts.date_of_birth, facts.nationality, facts.notes, at],
                )?;
                let mut change = IndexChange::default();
                change.added.extend(self.store_faces(tx, &id, &client_index(client_id), faces)?);
                for collection in &collection_ids {
                    change.added.extend(self.join_collection(tx, &id, collection)?);
                }
                let detail = serde_json::json!({"person": id, "collections": collection_ids, "faces": faces.len()});
                audit::append_event(tx, self.audit_key(), GALLERY_CHAIN, now(), actor, "person_enrolled", &detail)?;
                if let Some(case_id) = for_case {
                    crate::case_subjects::name_enrolled_person(tx, case_id, &id)?;
                }
                let person = self.complete_person(tx, find_person(tx, client_id, &id)?)?;
                Ok(PersonCreated::Created(person, change))
            })
        })
    }

    pub fn gallery_person(&self, client_id: &str, id: &str) -> Result<GalleryPerson> {
        self.with(|conn| {
            let person = find_person(conn, client_id, id)?;
            self.complete_person(conn, person)
        })
    }

    /// A page of the client's persons, and how many match in all.
    pub fn gallery_persons(&self, client_id: &str, query: &PersonQuery) -> Result<(Vec<GalleryPerson>, u64)> {
        self.with(|conn| {
            let position = conn.position_fn();
            let filter = format!(
                "FROM gallery_persons p WHERE p.client_id = ?1
                 AND (CAST(?2 AS TEXT) IS NULL OR {position}(lower(p.name), lower(?2)) > 0)
                 AND (CAST(?3 AS TEXT) IS NULL OR EXISTS (SELECT 1 FROM gallery_memberships m WHERE m.person_id = p.id
                      AND m.collection_id = ?3))
                 AND (CAST(?4 AS TEXT) IS NULL OR p.status = ?4)
                 AND (CAST(?5 AS TEXT) IS NULL OR p.date_of_birth = ?5)"
            );
            let collection = match &query.collection {
                Some(c) => Some(find_collection(conn, client_id, c)?.id),
                None => None,
            };
            let total: i64 = conn
                .query_one(
                    &format!("SELECT count(*) {filter}"),
                    db_params![client_id, query.name_contains, collection, query.status, query.date_of_birth],
                )?
                .get(0)?;
            let order = if query.newest_first { "DESC" } else { "ASC" };
            let page = conn.query(
                &format!(
                    "SELECT {PERSON_COLUMNS} {filter} ORDER BY p.created_at {order}, p.id {order} LIMIT ?6 OFFSET ?7"
                ),
                db_params![
                    client_id,
                    query.name_contains,
                    collection,
                    query.status,
                    query.date_of_birth,
                    query.limit,
                    query.offset
                ],
            )?;
            let page = page
                .iter()
                .map(|r| person_from_row(r).and_then(|p| self.complete_person(conn, p)))
                .collect::<Result<Vec<_>>>()?;
            Ok((page, u64::try_from(total).unwrap_or(0)))
        })
    }

    /// Changes what is said of a person, their collections, or their faces (all replaced).
    pub fn update_gallery_person(
        &self,
        client_id: &str,
        id: &str,
        changes: &PersonChanges,
    ) -> Result<(GalleryPerson, IndexChange)> {
        self.with(|conn| {
            conn.transaction(|tx| {
                self.announce(tx, crate::changes::GALLERY)?;
                let person = find_person(tx, client_id, id)?;
                tx.execute(
                    "UPDATE gallery_persons SET name = coalesce(?1, name), gender = coalesce(?2, gender),
                     date_of_birth = coalesce(?3, date_of_birth), nationality = coalesce(?4, nationality),
                     notes = coalesce(?5, notes), updated_at = ?6 WHERE id = ?7",
                    db_params![
                        changes.name,
                        changes.gender,
                        changes.date_of_birth,
                        changes.nationality,
                        changes.notes,
                        to_ms(now()),
                        person.id
                    ],
                )?;
                let mut change = IndexChange::default();
                if let Some(faces) = &changes.faces {
                    let members = person_collections(tx, &person.id)?;
                    change.removed.extend(delete_templates(tx, "subject = ?1", &person.id)?);
                    tx.execute("DELETE FROM gallery_thumbnails WHERE person_id = ?1", db_params![person.id])?;
                    change.added.extend(self.store_faces(tx, &person.id, &client_index(client_id), faces)?);
                    for collection in &members {
                        change.added.extend(self.copy_templates(tx, &person.id, client_id, collection)?);
                    }
                }
                if let Some(wanted) = &changes.collections {
                    let wanted = wanted
                        .iter()
                        .map(|c| find_collection(tx, client_id, c).map(|c| c.id))
                        .collect::<Result<Vec<_>>>()?;
                    let members = person_collections(tx, &person.id)?;
                    for gone in members.iter().filter(|m| !wanted.contains(m)) {
                        change.removed.extend(self.leave_collection(tx, &person.id, gone)?);
                    }
                    for collection in wanted.iter().filter(|w| !members.contains(w)) {
                        change.added.extend(self.join_collection(tx, &person.id, collection)?);
                    }
                }
                let updated = self.complete_person(tx, find_person(tx, client_id, &person.id)?)?;
                Ok((updated, change))
            })
        })
    }

    /// Removes a person from one collection (`Some`), or deletes the person with their faces (`None`).
    pub fn delete_gallery_person(
        &self,
        client_id: &str,
        id: &str,
        collection: Option<&str>,
        actor: &str,
    ) -> Result<(GalleryPerson, IndexChange)> {
        self.with(|conn| {
            conn.transaction(|tx| {
                self.announce(tx, crate::changes::GALLERY)?;
                let person = self.complete_person(tx, find_person(tx, client_id, id)?)?;
                let removed = match collection {
                    Some(collection) => {
                        let collection = find_collection(tx, client_id, collection)?;
                        self.leave_collection(tx, &person.id, &collection.id)?
                    }
                    None => {
                        let removed = delete_templates(tx, "subject = ?1", &person.id)?;
                        tx.execute("DELETE FROM gallery_persons WHERE id = ?1", db_params![person.id])?;
                        removed
                    }
                };
                let detail =
                    serde_json::json!({"person": person.id, "collection": collection, "templates": removed.len()});
                audit::append_event(tx, self.audit_key(), GALLERY_CHAIN, now(), actor, "person_removed", &detail)?;
                Ok((person, IndexChange { added: Vec::new(), removed }))
            })
        })
    }

    /// A person's own templates (those of the client's gallery), opened.
    pub fn gallery_person_templates(&self, client_id: &str, id: &str) -> Result<Vec<Vec<u8>>> {
        let rows = self.with(|conn| {
            find_person(conn, client_id, id)?;
            conn.query(
                "SELECT key, template FROM gallery_templates WHERE subject = ?1 AND collection = ?2",
                db_params![id, client_index(client_id)],
            )
        })?;
        rows.iter().map(|r| self.key().open(&r.get::<Vec<u8>>(1)?, &template_aad(r.get(0)?))).collect()
    }

    fn store_faces(
        &self,
        tx: &Conn<'_>,
        person: &str,
        index: &str,
        faces: &[EnrolledFace],
    ) -> Result<Vec<IndexedTemplate>> {
        let templates: Vec<Vec<u8>> = faces.iter().map(|f| f.template.clone()).collect();
        for (seq, face) in faces.iter().enumerate() {
            let id = new_object_id();
            let sealed = self.key().seal(&face.thumbnail_jpeg, &thumbnail_aad(&id))?;
            tx.execute(
                "INSERT INTO gallery_thumbnails (id, person_id, seq, jpeg) VALUES (?1, ?2, ?3, ?4)",
                db_params![id, person, seq as i64, sealed],
            )?;
        }
        self.insert_templates(tx, person, index, &templates)
    }

    fn insert_templates(
        &self,
        tx: &Conn<'_>,
        person: &str,
        index: &str,
        templates: &[Vec<u8>],
    ) -> Result<Vec<IndexedTemplate>> {
        let mut added = Vec::with_capacity(templates.len());
        for template in templates {
            let key = crate::gallery::insert_sealed_template(tx, self.key(), index, person, template)?;
            let key = u64::try_from(key).map_err(|_| StoreError::corrupt("a negative template key"))?;
            added.push(IndexedTemplate {
                key,
                index: index.to_string(),
                subject: person.to_string(),
                template: template.clone(),
            });
        }
        Ok(added)
    }

    /// Copies a person's own templates into a collection's index.
    fn copy_templates(
        &self,
        tx: &Conn<'_>,
        person: &str,
        client_id: &str,
        collection: &str,
    ) -> Result<Vec<IndexedTemplate>> {
        let templates = tx
            .query(
                "SELECT key, template FROM gallery_templates WHERE subject = ?1 AND collection = ?2",
                db_params![person, client_index(client_id)],
            )?
            .iter()
            .map(|r| self.key().open(&r.get::<Vec<u8>>(1)?, &template_aad(r.get(0)?)))
            .collect::<Result<Vec<_>>>()?;
        self.insert_templates(tx, person, &collection_index(collection), &templates)
    }

    fn join_collection(&self, tx: &Conn<'_>, person: &str, collection: &str) -> Result<Vec<IndexedTemplate>> {
        let client_id: String =
            tx.query_one("SELECT client_id FROM gallery_persons WHERE id = ?1", db_params![person])?.get(0)?;
        let inserted = tx.execute(
            "INSERT INTO gallery_memberships (person_id, collection_id) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
            db_params![person, collection],
        )?;
        if inserted == 0 {
            return Ok(Vec::new());
        }
        self.copy_templates(tx, person, &client_id, collection)
    }

    fn leave_collection(&self, tx: &Conn<'_>, person: &str, collection: &str) -> Result<Vec<u64>> {
        tx.execute(
            "DELETE FROM gallery_memberships WHERE person_id = ?1 AND collection_id = ?2",
            db_params![person, collection],
        )?;
        let keys = tx
            .query(
                "SELECT key FROM gallery_templates WHERE subject = ?1 AND collection = ?2",
                db_params![person, collection_index(collection)],
            )?
            .iter()
            .map(|r| r.get::<i64>(0))
            .collect::<Result<Vec<_>>>()?;
        tx.execute(
            "DELETE FROM gallery_templates WHERE subject = ?1 AND collection = ?2",
            db_params![person, collection_index(collection)],
        )?;
        Ok(keys.into_iter().filter_map(|k| u64::try_from(k).ok()).collect())
    }

    /// Fills in a person's collections and thumbnails.
    fn complete_person(&self, conn: &Conn<'_>, mut person: GalleryPerson) -> Result<GalleryPerson> {
        person.collections = person_collections(conn, &person.id)?;
        let rows = conn.query(
            "SELECT id, jpeg FROM gallery_thumbnails WHERE person_id = ?1 ORDER BY seq",
            db_params![person.id],
        )?;
        person.thumbnails = rows
            .iter()
            .map(|r| {
                let id: String = r.get(0)?;
                let jpeg = self.key().open(&r.get::<Vec<u8>>(1)?, &thumbnail_aad(&id))?;
                Ok(Thumbnail { id, jpeg })
            })
            .collect::<Result<_>>()?;
        Ok(person)
    }
}

fn find_collection(conn: &Conn<'_>, client_id: &str, id_or_code: &str) -> Result<GalleryCollection> {
    let sql =
        format!("SELECT {COLLECTION_COLUMNS} FROM gallery_collections WHERE client_id = ?1 AND (id = ?2 OR code = ?2)");
    collection_from_row(&conn.query_one(&sql, db_params![client_id, id_or_code])?)
}

fn find_person(conn: &Conn<'_>, client_id: &str, id: &str) -> Result<GalleryPerson> {
    let sql = format!("SELECT {PERSON_COLUMNS} FROM gallery_persons WHERE client_id = ?1 AND id = ?2");
    person_from_row(&conn.query_one(&sql, db_params![client_id, id])?)
}

fn texts(rows: Vec<Row>) -> Result<Vec<String>> {
    rows.iter().map(|r| r.get(0)).collect()
}

/// The person's collections in the order they joined (PostgreSQL's `rowid` column, migration 0003, stands for
/// SQLite's implicit one).
fn person_collections(conn: &Conn<'_>, person: &str) -> Result<Vec<String>> {
    texts(conn.query(
        "SELECT collection_id FROM gallery_memberships WHERE person_id = ?1 ORDER BY rowid",
        db_params![person],
    )?)
}

fn collection_members(conn: &Conn<'_>, collection: &str) -> Result<Vec<String>> {
    texts(conn.query("SELECT person_id FROM gallery_memberships WHERE collection_id = ?1", db_params![collection])?)
}

/// The client's person of the same name and birth date, in one of `collections` (in the client's gallery when
/// there are none).
fn same_person(
    conn: &Conn<'_>,
    client_id: &str,
    facts: &PersonFacts,
    collections: &[String],
) -> Result<Option<GalleryPerson>> {
    let candidates = conn.query(
        &format!(
            "SELECT {PERSON_COLUMNS} FROM gallery_persons WHERE client_id = ?1 AND lower(name) = lower(?2)
             AND date_of_birth IS NOT DISTINCT FROM ?3 ORDER BY created_at"
        ),
        db_params![client_id, facts.name.trim(), facts.date_of_birth],
    )?;
    for row in &candidates {
        let candidate = person_from_row(row)?;
        if collections.is_empty() || person_collections(conn, &candidate.id)?.iter().any(|c| collections.contains(c)) {
            return Ok(Some(candidate));
        }
    }
    Ok(None)
}

/// Deletes the templates `where_clause` (with `?1` bound to `value`) selects; their keys.
fn delete_templates(tx: &Conn<'_>, where_clause: &str, value: &str) -> Result<Vec<u64>> {
    let keys = tx
        .query(&format!("SELECT key FROM gallery_templates WHERE {where_clause}"), db_params![value])?
        .iter()
        .map(|r| r.get::<i64>(0))
        .collect::<Result<Vec<_>>>()?;
    tx.execute(&format!("DELETE FROM gallery_templates WHERE {where_clause}"), db_params![value])?;
    Ok(keys.into_iter().filter_map(|k| u64::try_from(k).ok()).collect())
}

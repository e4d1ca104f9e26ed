#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::cloned_ref_to_slice_refs
)]
//! Persons and collections on a real SQLite file: what each change does to the stored templates and tells the
//! index, the same-person rule, clients kept apart, and biometrics sealed at rest.

use rusqlite::Connection;
use vouch_store::gallery_persons::{
    client_index, collection_index, EnrolledFace, IndexChange, PersonChanges, PersonCreated, PersonFacts,
};
use vouch_store::{Store, StoreError, DB_FILE};

fn face(tag: &str) -> EnrolledFace {
    EnrolledFace {
        template: format!("template of {tag}").into_bytes(),
        thumbnail_jpeg: format!("jpeg of {tag}").into_bytes(),
    }
}

fn facts(name: &str, born: &str) -> PersonFacts {
    PersonFacts { name: name.into(), date_of_birth: Some(born.into()), ..PersonFacts::default() }
}

fn created(result: PersonCreated) -> (String, IndexChange) {
    match result {
        PersonCreated::Created(person, change) => (person.id, change),
        PersonCreated::AlreadySet(person) => panic!("{} was already set", person.id),
    }
}

/// (index, subject) of every stored template, sorted.
fn stored(store: &Store) -> Vec<(String, String)> {
    let mut rows: Vec<_> = store.gallery_templates().unwrap().into_iter().map(|t| (t.collection, t.subject)).collect();
    rows.sort();
    rows
}

#[test]
fn enrolment_moves_and_removal_keep_templates_and_the_index_in_step() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let a = store.create_gallery_collection("c1", "A", "", None).unwrap();
    let b = store.create_gallery_collection("c1", "B", "", Some("project-1")).unwrap();

    // Two faces, in A (named by its code): each face once for the client's gallery and once for A.
    let (ann, change) = created(
        store
            .create_gallery_person(
                "c1",
                &facts("Ann Lee", "1980-02-03"),
                &[a.code.clone()],
                &[face("a1"), face("a2")],
                "t",
            )
            .unwrap(),
    );
    assert_eq!(change.added.len(), 4);
    assert!(change.removed.is_empty());
    let ann_rows =
        vec![(client_index("c1"), ann.clone()); 2].into_iter().chain(vec![(collection_index(&a.id), ann.clone()); 2]);
    let mut want: Vec<_> = ann_rows.collect();
    want.sort();
    assert_eq!(stored(&store), want);

    // The same name in another case and the same birth date in A is the same person; in B it is not.
    match store
        .create_gallery_person("c1", &facts("ANN LEE", "1980-02-03"), &[a.id.clone()], &[face("x")], "t")
        .unwrap()
    {
        PersonCreated::AlreadySet(p) => assert_eq!(p.id, ann),
        PersonCreated::Created(..) => panic!("the same person twice in A"),
    }
    let (other_ann, _) = created(
        store.create_gallery_person("c1", &facts("Ann Lee", "1980-02-03"), &[b.id.clone()], &[face("y")], "t").unwrap(),
    );
    assert_ne!(other_ann, ann);

    // Moved from A to B: A's templates go, B gets copies of her own two.
    let (moved, change) = store
        .update_gallery_person(
            "c1",
            &ann,
            &PersonChanges { collections: Some(vec![b.code.clone()]), ..PersonChanges::default() },
        )
        .unwrap();
    assert_eq!(moved.collections, vec![b.id.clone()]);
    assert_eq!((change.removed.len(), change.added.len()), (2, 2));
    assert!(change.added.iter().all(|t| t.index == collection_index(&b.id) && t.subject == ann));

    // New faces replace the old ones everywhere, and the index is told which keys went.
    let before: Vec<u64> =
        store.gallery_templates().unwrap().iter().filter(|t| t.subject == ann).map(|t| t.key).collect();
    let (_, change) = store
        .update_gallery_person("c1", &ann, &PersonChanges { faces: Some(vec![face("a3")]), ..PersonChanges::default() })
        .unwrap();
    let mut removed = change.removed.clone();
    removed.sort_unstable();
    assert_eq!(removed, before);
    assert_eq!(
        change.added.iter().map(|t| t.template.clone()).collect::<Vec<_>>(),
        vec![b"template of a3".to_vec(); 2]
    );
    assert_eq!(store.gallery_person_templates("c1", &ann).unwrap(), vec![b"template of a3".to_vec()]);
    assert_eq!(store.gallery_person("c1", &ann).unwrap().thumbnails.len(), 1);

    // A collection's members set at once; then the collection deleted: its templates go, the persons stay.
    let (_, change) = store
        .update_gallery_collection("c1", &a.id, Some("A2"), None, Some(&[ann.clone(), other_ann.clone()]))
        .unwrap();
    assert_eq!(change.added.len(), 2);
    let (_, change) = store.delete_gallery_collection("c1", &a.code, "t").unwrap();
    assert_eq!(change.removed.len(), 2);
    assert!(stored(&store).iter().all(|(index, _)| *index != collection_index(&a.id)));
    assert_eq!(store.gallery_person("c1", &ann).unwrap().collections, vec![b.id.clone()]);

    // Out of B only, then deleted with every face.
    let (_, change) = store.delete_gallery_person("c1", &ann, Some(&b.id), "t").unwrap();
    assert_eq!(change.removed.len(), 1);
    let (_, change) = store.delete_gallery_person("c1", &ann, None, "t").unwrap();
    assert_eq!(change.removed.len(), 1, "her own template in the client's gallery");
    assert!(matches!(store.gallery_person("c1", &ann), Err(StoreError::NotFound)));
    assert!(stored(&store).iter().all(|(_, subject)| *subject != ann));
    let actions: Vec<String> = store.audit_events("gallery").unwrap().into_iter().map(|e| e.action).collect();
    assert_eq!(actions.iter().filter(|a| *a == "person_enrolled").count(), 2, "{actions:?}");
    assert_eq!(actions.iter().filter(|a| *a == "person_removed").count(), 2, "{actions:?}");
    assert!(actions.contains(&"collection_deleted".to_string()));
    assert!(store.verify_audit(Some("gallery")).unwrap().is_intact(), "the gallery chain verifies");
}

#[test]
fn another_clients_persons_and_collections_are_not_found_and_faces_are_sealed() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let a = store.create_gallery_collection("c1", "A", "", None).unwrap();
    let (ann, _) = created(
        store.create_gallery_person("c1", &facts("Ann", "1990-01-01"), &[a.id.clone()], &[face("a")], "t").unwrap(),
    );
    assert!(matches!(store.gallery_collection("c2", &a.id), Err(StoreError::NotFound)));
    assert!(matches!(store.gallery_person("c2", &ann), Err(StoreError::NotFound)));
    assert!(matches!(store.delete_gallery_person("c2", &ann, None, "t"), Err(StoreError::NotFound)));
    assert!(matches!(
        store.create_gallery_person("c2", &facts("Bo", "1990-01-01"), &[a.code.clone()], &[face("b")], "t"),
        Err(StoreError::NotFound)
    ));
    assert!(store.gallery_collections("c2", None).unwrap().is_empty());

    let db = Connection::open(dir.path().join(DB_FILE)).unwrap();
    let raw: Vec<Vec<u8>> = db
        .prepare("SELECT jpeg FROM gallery_thumbnails UNION ALL SELECT template FROM gallery_templates")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(raw.len(), 3);
    for sealed in raw {
        assert!(!sealed.windows(5).any(|w| w == b"jpeg " || w == b"templ"), "a biometric stored in clear");
    }
}

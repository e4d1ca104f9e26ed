//! Persons in collections, searched 1:N with the real models on real photos (the labelled `face_dev` set): each
//! person found by another photo of them, strangers refused, one person not enrolled twice under one name and
//! birth date, and a restart that keeps it all.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::sync::Arc;

use vouch_app::faces::FaceService;
use vouch_app::gallery::{IndexKind, SketchParams};
use vouch_app::recognition::Recognition;
use vouch_store::gallery_persons::{PersonCreated, PersonFacts};
use vouch_store::Store;

/// Identities of `face_dev` with at least two photos: (name, first photo, second photo).
fn labelled(limit: usize) -> Vec<(String, Vec<u8>, Vec<u8>)> {
    let root = vouch_testkit::shared_testdata("face_dev");
    let mut names: Vec<String> =
        std::fs::read_dir(&root).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
        .into_iter()
        .filter_map(|name| {
            let photo = |i: u32| std::fs::read(root.join(&name).join(format!("{name}_{i:04}.jpg"))).ok();
            Some((name.clone(), photo(1)?, photo(2)?))
        })
        .take(limit)
        .collect()
}

fn facts(name: &str) -> PersonFacts {
    PersonFacts { name: name.replace('_', " "), date_of_birth: Some("1970-01-01".into()), ..PersonFacts::default() }
}

fn recognition(dir: &std::path::Path) -> Recognition {
    recognition_with(dir, IndexKind::Exact)
}

fn recognition_with(dir: &std::path::Path, index: IndexKind) -> Recognition {
    let faces = Arc::new(FaceService::new(Some(vouch_testkit::models_dir()), 1));
    Recognition::with_index(Store::open(dir).unwrap(), faces, 2, index)
}

#[tokio::test]
async fn labelled_people_are_found_by_another_photo_strangers_refused_and_a_restart_keeps_them() {
    let dir = tempfile::tempdir().unwrap();
    let people = labelled(24);
    assert!(people.len() >= 20, "face_dev has identities with two photos");
    let (enrolled, strangers) = people.split_at(16);
    let ids = {
        let faces = recognition(dir.path());
        let collection = faces.create_collection("client-1", "branch".into(), String::new(), None).await.unwrap();
        let mut ids = Vec::new();
        for (name, first, _) in enrolled {
            match faces
                .enrol_person("client-1", facts(name), vec![collection.code.clone()], vec![first.clone()], "test")
                .await
                .unwrap()
            {
                PersonCreated::Created(person, _) => ids.push(person.id),
                PersonCreated::AlreadySet(_) => panic!("{name} is new"),
            }
        }
        // The same name and birth date in the same collection is the same person.
        let (name, first, _) = &enrolled[0];
        let again = faces
            .enrol_person("client-1", facts(name), vec![collection.id.clone()], vec![first.clone()], "test")
            .await
            .unwrap();
        assert!(matches!(again, PersonCreated::AlreadySet(p) if p.id == ids[0]));
        ids
    };

    // After a restart: every enrolled person is found first by their second photo, at the 1:1 match point, by
    // the exact scan and by the approximate index (a shortlist by sketches) alike.
    let approximate = IndexKind::Approximate(SketchParams { bits: 256, shortlist: 8 });
    for kind in [approximate, IndexKind::Exact] {
        let faces = recognition_with(dir.path(), kind);
        let collection = faces.collections("client-1", None).await.unwrap().remove(0);
        let mut first_right = 0;
        for ((name, _, second), id) in enrolled.iter().zip(&ids) {
            let found = faces.search("client-1", Some(&collection.code), vec![second.clone()], 3, 0.5).await.unwrap();
            if found.first().map(|m| &m.person.id) == Some(id) {
                first_right += 1;
            } else {
                eprintln!("{name}: {:?}", found.iter().map(|m| (&m.person.facts.name, m.score)).collect::<Vec<_>>());
            }
        }
        assert!(first_right >= enrolled.len() - 1, "{kind:?}: {first_right} of {} found first", enrolled.len());
        let mut false_matches = 0;
        for (_, first, second) in strangers {
            for photo in [first, second] {
                false_matches += faces.search("client-1", None, vec![photo.clone()], 3, 0.5).await.unwrap().len();
            }
        }
        assert_eq!(false_matches, 0, "{kind:?}: strangers are refused at the match point");
    }
    let faces = recognition(dir.path());
    let collection = faces.collections("client-1", None).await.unwrap().remove(0);
    assert!(
        faces.search("client-2", None, vec![enrolled[0].2.clone()], 3, 0.5).await.unwrap().is_empty(),
        "another client's gallery is its own"
    );

    // Deleted, a person is gone from every index at once, and stays gone after another restart.
    faces.delete_person("client-1", &ids[0], None, "test").await.unwrap();
    assert!(faces
        .search("client-1", None, vec![enrolled[0].2.clone()], 3, 0.5)
        .await
        .unwrap()
        .iter()
        .all(|m| m.person.id != ids[0]));
    let faces = recognition(dir.path());
    assert!(faces
        .search("client-1", Some(&collection.id), vec![enrolled[0].2.clone()], 3, 0.5)
        .await
        .unwrap()
        .iter()
        .all(|m| m.person.id != ids[0]));
    assert_eq!(faces.verify("client-1", &ids[1], vec![enrolled[1].2.clone()]).await.unwrap().person.id, ids[1]);
}

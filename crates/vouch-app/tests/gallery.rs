//! The gallery with real templates of real photos among synthetic identities: the right person first, a stranger
//! refused, removal, and a restart that keeps what was enrolled.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::sync::Arc;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use vouch_app::faces::{Enrolment, FaceService, Pick};
use vouch_app::gallery::GalleryService;
use vouch_store::Store;
use vouch_vision::FaceTemplate;

async fn template(faces: &FaceService, name: &str) -> Vec<u8> {
    match faces.enrol(vouch_testkit::fixture(&format!("faces/{name}")), Pick::OnlyOne).await.unwrap().0 {
        Enrolment::Face { template, .. } => template,
        _ => panic!("{name} shows one face"),
    }
}

/// An invented identity's template, in the engine's encoding.
fn synthetic(tag: [u8; 8], rng: &mut StdRng) -> Vec<u8> {
    FaceTemplate::new(tag, (0..512).map(|_| rng.gen_range(-1.0f32..1.0)).collect()).to_bytes()
}

async fn gallery(store: &Store, faces: &FaceService) -> Arc<GalleryService> {
    GalleryService::new(store.clone(), faces.engine().await.unwrap().template_tag(), 2)
}

#[tokio::test]
async fn search_finds_the_person_refuses_a_stranger_and_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let faces = FaceService::new(Some(vouch_testkit::models_dir()), 1);
    let tag = faces.engine().await.unwrap().template_tag();
    let store = Store::open(dir.path()).unwrap();
    let people = gallery(&store, &faces).await;
    let mut rng = StdRng::seed_from_u64(5);
    for i in 0..2_000 {
        people.enrol("branch", &format!("synthetic-{i}"), vec![synthetic(tag, &mut rng)]).await.unwrap();
    }
    let obama = template(&faces, "fr_obama.jpg").await;
    people.enrol("branch", "obama", vec![obama]).await.unwrap();
    people.enrol("branch", "biden", vec![template(&faces, "fr_biden.jpg").await]).await.unwrap();
    people.enrol("elsewhere", "biden-too", vec![template(&faces, "fr_biden.jpg").await]).await.unwrap();

    // Another photo of Obama finds him first, in his collection only.
    let probe = template(&faces, "fr_obama2.jpg").await;
    let found = people.search("branch", &probe, 5, 0.5).await.unwrap();
    assert_eq!(found.first().map(|m| m.subject.as_str()), Some("obama"), "{found:?}");
    assert_eq!(found.len(), 1, "nobody else passes 0.5: {found:?}");
    assert!(people.search("elsewhere", &probe, 5, 0.5).await.unwrap().is_empty());
    // A stranger (the astronaut, never enrolled) is refused at the match point.
    let stranger = template(&faces, "skimage_astronaut.png").await;
    assert!(people.search("branch", &stranger, 5, 0.5).await.unwrap().is_empty());

    // Removed, Obama is no longer found; Biden in the other collection stays.
    assert_eq!(people.remove(Some("branch"), "obama").await.unwrap(), 1);
    assert!(people.search("branch", &probe, 5, 0.5).await.unwrap().is_empty());

    // A restart (a new store handle and gallery on the same folder) keeps what was enrolled and removed.
    drop(people);
    drop(store);
    let store = Store::open(dir.path()).unwrap();
    let people = gallery(&store, &faces).await;
    let biden = template(&faces, "fr_biden.jpg").await;
    let found = people.search("branch", &biden, 3, 0.5).await.unwrap();
    assert_eq!(found.first().map(|m| m.subject.as_str()), Some("biden"), "{found:?}");
    assert!(people.search("branch", &probe, 5, 0.5).await.unwrap().is_empty());
    assert_eq!(people.search("elsewhere", &biden, 3, 0.5).await.unwrap()[0].subject, "biden-too");
}

#[tokio::test]
async fn templates_are_sealed_at_rest_and_foreign_ones_refused() {
    let dir = tempfile::tempdir().unwrap();
    let faces = FaceService::new(Some(vouch_testkit::models_dir()), 1);
    let store = Store::open(dir.path()).unwrap();
    let people = gallery(&store, &faces).await;
    let obama = template(&faces, "fr_obama.jpg").await;
    people.enrol("branch", "obama", vec![obama.clone()]).await.unwrap();
    // The row holds no plaintext of the template.
    let db = rusqlite::Connection::open(dir.path().join(vouch_store::DB_FILE)).unwrap();
    let sealed: Vec<u8> = db.query_row("SELECT template FROM gallery_templates", [], |r| r.get(0)).unwrap();
    assert!(!sealed.windows(64).any(|w| obama.windows(64).any(|o| o == w)));
    // A template of another model is the caller's error, and nothing is stored.
    let foreign = FaceTemplate::new(*b"othermdl", vec![0.1; 512]).to_bytes();
    let err = people.enrol("branch", "someone", vec![foreign]).await.unwrap_err();
    assert_eq!(err.code, vouch_app::AppCode::IncompatibleTemplate);
    assert_eq!(store.gallery_templates().unwrap().len(), 1);
}

/// Two instances of a central service on one PostgreSQL: each searches its own in-memory index, and what one
/// enrols or removes the other finds, or no longer finds, once it hears of it (LISTEN/NOTIFY).
#[tokio::test]
async fn an_instance_finds_what_another_enrolled_and_not_what_it_removed() {
    let pg = vouch_testkit::postgres::Postgres::start();
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    let first = Store::open_postgres(&pg.url, &a, &vouch_store::BlobLocation::DataDir).unwrap();
    std::fs::create_dir_all(&b).unwrap();
    std::fs::copy(a.join("data.key"), b.join("data.key")).unwrap();
    let second = Store::open_postgres(&pg.url, &b, &vouch_store::BlobLocation::DataDir).unwrap();
    let faces = FaceService::new(Some(vouch_testkit::models_dir()), 1);
    let (one, two) = (gallery(&first, &faces).await, gallery(&second, &faces).await);
    let probe = template(&faces, "fr_obama2.jpg").await;
    assert!(two.search("branch", &probe, 5, 0.5).await.unwrap().is_empty(), "the second builds its index, empty");

    one.enrol("branch", "obama", vec![template(&faces, "fr_obama.jpg").await]).await.unwrap();
    let found = async {
        for _ in 0..100 {
            let found = two.search("branch", &probe, 5, 0.5).await.unwrap();
            if !found.is_empty() {
                return found;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        Vec::new()
    };
    assert_eq!(found.await.first().map(|m| m.subject.as_str()), Some("obama"), "the second heard of the enrolment");

    assert_eq!(two.remove(Some("branch"), "obama").await.unwrap(), 1);
    let mut gone = false;
    for _ in 0..100 {
        if one.search("branch", &probe, 5, 0.5).await.unwrap().is_empty() {
            gone = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(gone, "the first heard of the removal");
}

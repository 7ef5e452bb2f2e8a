//! Galleries for benches/gallery.rs and benches/gallery_report.rs: a few real people (encodings
//! of the photos under .cache/media, computed once by the real pipeline and kept in
//! .cache/gallery/real-encodings.json) padded with synthetic people drawn to match them
//! (facegate::face::matching::synthetic; docs/benchmarks.md, "Gallery at a million").

#![allow(dead_code)] // each bench uses part of it

use std::path::{Path, PathBuf};

use facegate::face::{
    Encoding, FacePipeline, FaceSettings, ImageInput,
    matching::synthetic::{Model, Rng},
};
use serde::{Deserialize, Serialize};

/// Encodings per synthetic user: what a registration keeps (5 moments of the live check).
pub const PER_USER: usize = 5;
/// Real photos per real person enrolled; the others are held out as genuine queries.
pub const REAL_ENROLLED: usize = 5;

#[derive(Serialize, Deserialize, Clone)]
pub struct RealSample {
    pub person: String,
    /// "eval" (labelled photos, also what the model is fitted to) or "frames" (video frames).
    pub source: String,
    pub file: String,
    pub encoding: Vec<f32>,
}

impl RealSample {
    pub fn encoding(&self) -> Option<Encoding> {
        Encoding::from_slice(&self.encoding)
    }
}

fn repo(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

const CACHE: &str = ".cache/gallery/real-encodings.json";
/// Video frames used as extra real queries, of people enrolled from eval/ and of people who
/// are not (`NOT_ENROLLED`).
const FRAME_DIRS: [(&str, &str); 5] = [
    ("franck", "frames/franck"),
    ("cap", "frames/cap12_edit"),
    ("cap", "frames/cap13_edit2"),
    ("biden", "frames/attack_biden_zoom"),
    ("obama", "frames/attack_obama_zoom"),
];
/// People who are never enrolled: their photos and frames are the real impostor queries.
const NOT_ENROLLED: [&str; 2] = ["biden", "obama"];
/// Every n-th frame: neighbouring frames are near copies.
const FRAME_STEP: usize = 10;

/// The real encodings, from the cache file or (first run, or after deleting it) computed from
/// .cache/media with the app's own pipeline. `None` without the media (scripts/fetch-media.sh).
pub fn real_samples() -> Option<Vec<RealSample>> {
    let cache = repo(CACHE);
    if let Ok(text) = std::fs::read_to_string(&cache)
        && let Ok(samples) = serde_json::from_str(&text)
    {
        return Some(samples);
    }
    let media = repo(".cache/media");
    let eval = media.join("eval");
    if !eval.is_dir() {
        eprintln!("no {}: synthetic galleries only", eval.display());
        return None;
    }
    let pipeline = FacePipeline::load(&repo("models"), &FaceSettings::default())
        .unwrap_or_else(|e| panic!("models: {e}"));
    let mut samples = Vec::new();
    let mut encode = |person: &str, source: &str, file: &Path| {
        let picture = file
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| matches!(e.to_ascii_lowercase().as_str(), "jpg" | "jpeg" | "png"));
        let Ok(bytes) = std::fs::read(file) else { return };
        if !picture {
            return;
        }
        match pipeline.analyze(ImageInput::Bytes(bytes)) {
            Ok(analysis) => samples.push(RealSample {
                person: person.into(),
                source: source.into(),
                file: file.strip_prefix(&media).unwrap_or(file).display().to_string(),
                encoding: analysis.encoding.0.to_vec(),
            }),
            Err(e) => eprintln!("{}: {e}", file.display()),
        }
    };
    for person in sorted(&eval) {
        let name = person
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        for file in sorted(&person) {
            encode(&name, "eval", &file);
        }
    }
    for (person, dir) in FRAME_DIRS {
        for file in sorted(&media.join(dir)).into_iter().step_by(FRAME_STEP) {
            encode(person, "frames", &file);
        }
    }
    if let Some(parent) = cache.parent() {
        let _ = std::fs::create_dir_all(parent);
    }
    let json = serde_json::to_string(&samples).unwrap_or_default();
    if let Err(e) = std::fs::write(&cache, json) {
        eprintln!("cannot write {}: {e}", cache.display());
    }
    Some(samples)
}

fn sorted(dir: &Path) -> Vec<PathBuf> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    entries.sort();
    entries
}

/// The labelled photos (eval/), as the model fit wants them.
pub fn labelled(samples: &[RealSample]) -> Vec<(String, Encoding)> {
    samples
        .iter()
        .filter(|s| s.source == "eval")
        .filter_map(|s| Some((s.person.clone(), s.encoding()?)))
        .collect()
}

/// The synthetic model: fitted to the real photos when there are any, else a stand-in with
/// dlib's usual distances (0.4 between photos of one person, 0.8 between people).
pub fn model(samples: Option<&[RealSample]>) -> Model {
    samples
        .and_then(|s| Model::fit(&labelled(s)))
        .unwrap_or_else(|| Model::isotropic(0.8, 0.4))
}

/// A query and what it is.
pub struct Query {
    pub kind: &'static str,
    /// The enrolled user it belongs to (genuine), `None` for someone not enrolled.
    pub owner: Option<u32>,
    pub encoding: Encoding,
}

/// A gallery of about `rows` encodings: the real people first (ids 0..), each with up to
/// `REAL_ENROLLED` eval photos, then synthetic users with `PER_USER` photos each.
pub struct Drawn {
    pub users: Vec<(u32, Vec<Encoding>)>,
    pub queries: Vec<Query>,
    pub real_users: usize,
}

pub fn draw(rows: usize, samples: Option<&[RealSample]>, model: &Model, queries: usize, seed: u64) -> Drawn {
    let mut rng = Rng::new(seed);
    let mut users: Vec<(u32, Vec<Encoding>)> = Vec::new();
    let mut query_list = Vec::new();
    let mut enrolled_people: Vec<(String, u32)> = Vec::new();
    if let Some(samples) = samples {
        let labelled = labelled(samples);
        let mut people: Vec<&String> = labelled.iter().map(|(p, _)| p).collect();
        people.dedup();
        for person in people {
            let photos: Vec<&Encoding> = labelled
                .iter()
                .filter(|(p, _)| p == person)
                .map(|(_, e)| e)
                .collect();
            // One photo cannot be both enrolled and a held-out query: such a person stays out
            // of the gallery too.
            if photos.len() < 2 || NOT_ENROLLED.contains(&person.as_str()) {
                continue;
            }
            let enrolled = photos.len().min(REAL_ENROLLED).min(photos.len() - 1);
            let id = users.len() as u32;
            users.push((id, photos[..enrolled].iter().map(|e| (*e).clone()).collect()));
            for held_out in &photos[enrolled..] {
                query_list.push(Query {
                    kind: "real genuine",
                    owner: Some(id),
                    encoding: (*held_out).clone(),
                });
            }
            enrolled_people.push((person.clone(), id));
        }
        for sample in samples {
            let Some(encoding) = sample.encoding() else {
                continue;
            };
            let owner = enrolled_people
                .iter()
                .find(|(p, _)| *p == sample.person)
                .map(|(_, id)| *id);
            let enrolled_photo = users.iter().any(|(_, photos)| photos.contains(&encoding));
            if enrolled_photo || (sample.source == "eval" && owner.is_some()) {
                continue; // enrolled, or already a held-out query above
            }
            let kind = if owner.is_some() {
                "real genuine"
            } else {
                "real impostor"
            };
            query_list.push(Query {
                kind,
                owner,
                encoding,
            });
        }
    }
    let real_users = users.len();
    let real_rows: usize = users.iter().map(|(_, e)| e.len()).sum();
    let synthetic_users = rows.saturating_sub(real_rows) / PER_USER;
    let mut centres = Vec::with_capacity(synthetic_users);
    for _ in 0..synthetic_users {
        let centre = model.person(&mut rng);
        let photos = (0..PER_USER).map(|_| model.photo(&centre, &mut rng)).collect();
        users.push((users.len() as u32, photos));
        centres.push(centre);
    }
    for _ in 0..queries {
        let user = rng.below(centres.len().max(1));
        if let Some(centre) = centres.get(user) {
            let encoding = model.photo(centre, &mut rng);
            query_list.push(Query {
                kind: "synthetic genuine",
                owner: Some((real_users + user) as u32),
                encoding,
            });
        }
    }
    for _ in 0..queries {
        let centre = model.person(&mut rng);
        query_list.push(Query {
            kind: "synthetic impostor",
            owner: None,
            encoding: model.photo(&centre, &mut rng),
        });
    }
    Drawn {
        users,
        queries: query_list,
        real_users,
    }
}

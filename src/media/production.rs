//! Production facts of a clip (scene, take, tape, project, circled, track names, note,
//! recorder, shoot date) from BWF iXML and bext chunks (camera-cards.md §3.14, §10), each
//! with the file and chunk it came from, so the preview and the registered metadata can say
//! where a value was read.

use super::ClipMetadata;
use super::sidecar::Sidecar;
use super::sidecar::bwf::{BwfInfo, description_value};
use std::path::{Path, PathBuf};

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Sets `field` to `value` unless already set, recording `source`.
fn put(m: &mut ClipMetadata, field: &'static str, value: Option<String>, source: String) {
    let Some(value) = value.filter(|v| !v.trim().is_empty()) else {
        return;
    };
    let slot = match field {
        "scene" => &mut m.scene,
        "take" => &mut m.take,
        "tape" => &mut m.tape,
        "project" => &mut m.project,
        "circled" => &mut m.circled,
        "track_names" => &mut m.track_names,
        "note" => &mut m.note,
        "recorder" => &mut m.recorder,
        "shoot_date" => &mut m.shoot_date,
        "shoot_date_local" => &mut m.shoot_date_local,
        "time_reference" => &mut m.time_reference,
        _ => return,
    };
    if slot.is_none() {
        *slot = Some(value);
        m.sources.insert(field.to_owned(), source);
    }
}

/// Fills the production fields of `m` from the clip's BWF files, first file first: iXML
/// before the bext Description (`sSCENE=`…), which recorders fill from the same settings.
pub fn fill_from_bwf(m: &mut ClipMetadata, sidecars: &[(PathBuf, Sidecar)]) {
    let bwfs: Vec<(&PathBuf, &BwfInfo)> = sidecars
        .iter()
        .filter_map(|(p, s)| match s {
            Sidecar::Bwf(b) => Some((p, b.as_ref())),
            _ => None,
        })
        .collect();
    for (path, b) in &bwfs {
        let name = file_name(path);
        if let Some(x) = &b.ixml {
            let src = |el: &str| format!("{name} iXML {el}");
            put(m, "scene", x.scene.clone(), src("SCENE"));
            put(m, "take", x.take.clone(), src("TAKE"));
            put(m, "tape", x.tape.clone(), src("TAPE"));
            put(m, "project", x.project.clone(), src("PROJECT"));
            put(
                m,
                "circled",
                x.circled.map(|c| c.to_string()),
                src("CIRCLED"),
            );
            put(m, "note", x.note.clone(), src("NOTE"));
        }
        if let Some(bext) = &b.bext {
            let src = |k: &str| format!("{name} bext Description {k}=");
            for (field, key) in [("scene", "SCENE"), ("take", "TAKE"), ("tape", "TAPE")] {
                put(
                    m,
                    field,
                    description_value(&bext.description, key),
                    src(key),
                );
            }
            put(
                m,
                "note",
                description_value(&bext.description, "NOTE"),
                src("NOTE"),
            );
            put(
                m,
                "recorder",
                Some(bext.originator.clone()),
                format!("{name} bext Originator"),
            );
            if let Some(local) = local_date_time(&bext.origination_date, &bext.origination_time) {
                let zone = b.ixml.as_ref().and_then(|x| x.time_zone.clone());
                let src = format!("{name} bext OriginationDate/Time");
                match zone {
                    Some(z) => put(
                        m,
                        "shoot_date",
                        super::dates::to_rfc3339(&format!("{local}{z}")),
                        format!("{src} + iXML time zone"),
                    ),
                    None => put(m, "shoot_date_local", Some(local), src),
                }
            }
        }
        if b.start_timecode().is_none() {
            put(
                m,
                "time_reference",
                b.time_reference_text(),
                format!("{name} bext TimeReference"),
            );
        }
    }
    // Track names in member order: a poly file lists all its channels, each mono file of a
    // split its own one; files that all repeat one list give it once.
    let lists: Vec<(String, Vec<String>)> = bwfs
        .iter()
        .filter_map(|(p, b)| {
            let names: Vec<String> = b
                .ixml
                .as_ref()?
                .tracks
                .iter()
                .filter_map(|t| t.name.clone())
                .collect();
            (!names.is_empty()).then(|| (file_name(p), names))
        })
        .collect();
    if let Some((first_file, first)) = lists.first() {
        let (names, src) = if lists.iter().all(|(_, l)| l == first) {
            (first.clone(), format!("{first_file} iXML TRACK_LIST"))
        } else {
            let files: Vec<&str> = lists.iter().map(|(f, _)| f.as_str()).collect();
            (
                lists.iter().flat_map(|(_, l)| l.clone()).collect(),
                format!("{} iXML TRACK_LIST", files.join(", ")),
            )
        };
        put(m, "track_names", Some(names.join(", ")), src);
    }
}

/// bext `2024-05-14` + `10:00:00` → `2024-05-14T10:00:00`; recorders write `:`, `-`, `.` or
/// `/` as separators (Metacorder `2019:01:01`).
fn local_date_time(date: &str, time: &str) -> Option<String> {
    let digits = |s: &str| -> Vec<u32> {
        s.split(|c: char| !c.is_ascii_digit())
            .filter(|p| !p.is_empty())
            .filter_map(|p| p.parse().ok())
            .collect()
    };
    let (d, t) = (digits(date), digits(time));
    let [y, mo, da] = <[u32; 3]>::try_from(d).ok()?;
    let [h, mi, se] = <[u32; 3]>::try_from(t).ok()?;
    let ok = (1980..=2100).contains(&y) && (1..=12).contains(&mo) && (1..=31).contains(&da);
    (ok && h < 24 && mi < 60 && se < 61)
        .then(|| format!("{y:04}-{mo:02}-{da:02}T{h:02}:{mi:02}:{se:02}"))
}

/// Sets `m.extra[key]` unless set, recording `source`.
fn put_extra(m: &mut ClipMetadata, key: &str, value: &str, source: String) {
    if value.trim().is_empty() || m.extra.contains_key(key) {
        return;
    }
    m.extra.insert(key.to_owned(), value.trim().to_owned());
    m.sources.insert(key.to_owned(), source);
}

/// Fills camera facts from an ALE row beside the clip (ARRI/RED dailies), a RED `.RMD` and a
/// Blackmagic `.sidecar`: Scene/Take/Reel go to the production fields, ISO, white balance,
/// tint, lens and look (and any other ALE column, by its lowercase name) to `extra`, each with
/// its file and column/element. Names a RAW sidecar held but nobody reads are recorded under
/// `sources["unread <file>"]`, so the preview says what was left out.
pub fn fill_from_camera_sidecars(m: &mut ClipMetadata, sidecars: &[(PathBuf, Sidecar)]) {
    use super::sidecar::raw_looks::field_of;
    for (path, s) in sidecars {
        let name = file_name(path);
        match s {
            Sidecar::AleRow(row) => {
                for (col, value) in row {
                    let src = format!("{name} ALE column {col}");
                    let lower = col.to_ascii_lowercase();
                    // Identity and timing columns are the clip's own facts, read elsewhere.
                    if matches!(
                        lower.as_str(),
                        "name" | "start" | "end" | "duration" | "tracks"
                    ) {
                        continue;
                    }
                    match field_of(col) {
                        Some(f @ ("scene" | "take" | "tape" | "circled")) => {
                            put(m, f, Some(value.clone()), src);
                        }
                        Some(f) => put_extra(m, f, value, src),
                        None => put_extra(m, &lower, value, src),
                    }
                }
            }
            Sidecar::RawLook(look) => {
                let kind = if name.to_ascii_lowercase().ends_with(".rmd") {
                    "RED RMD"
                } else {
                    "BRAW sidecar"
                };
                for (field, value, at) in &look.values {
                    let src = format!("{name} {kind} {at}");
                    match *field {
                        "scene" | "take" | "tape" | "circled" => {
                            put(m, field, Some(value.clone()), src);
                        }
                        f => put_extra(m, f, value, src),
                    }
                }
                if !look.left_out.is_empty() {
                    m.sources.insert(
                        format!("unread {name}"),
                        format!(
                            "not read (format not known well enough): {}",
                            look.left_out.join(", ")
                        ),
                    );
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_dates() {
        assert_eq!(
            local_date_time("2024-05-14", "10:00:00").as_deref(),
            Some("2024-05-14T10:00:00")
        );
        assert_eq!(
            local_date_time("2019:01:01", "00.00.07").as_deref(),
            Some("2019-01-01T00:00:07")
        );
        assert_eq!(local_date_time("", "10:00:00"), None);
        assert_eq!(local_date_time("0000-00-00", "00:00:00"), None);
    }
}

//! The safe-to-erase line of a `--cloud-copy`: per cloud storage any clip of the card was
//! copied to, whether every clip's originals are there with the MD5 the storage reported
//! matching the card's. Pure: reads the clips' journal records.

use super::erase::Evidence;
use super::record::ClipRecord;
use std::collections::BTreeSet;

/// One line per cloud storage named in the clips' records (none without a cloud copy).
/// Clips skipped as already in iconik have nothing to copy and do not count.
pub fn evidence(clips: &[&ClipRecord]) -> Vec<Evidence> {
    let storages: BTreeSet<&str> = clips
        .iter()
        .flat_map(|c| c.cloud_copies.iter().map(|k| k.storage.as_str()))
        .collect();
    let counted: Vec<&&ClipRecord> = clips.iter().filter(|c| c.duplicate_of.is_none()).collect();
    storages
        .into_iter()
        .map(|storage| {
            let missing: Vec<&str> = counted
                .iter()
                .filter(|c| {
                    !c.cloud_copies
                        .iter()
                        .any(|k| k.storage == storage && k.verified)
                })
                .map(|c| c.name.as_str())
                .collect();
            let files: usize = counted
                .iter()
                .flat_map(|c| c.cloud_copies.iter().filter(|k| k.storage == storage))
                .map(|k| k.files)
                .sum();
            Evidence {
                met: missing.is_empty(),
                text: if missing.is_empty() {
                    format!(
                        "cloud copy on {storage}: {files} files uploaded, each MD5 as the storage reports it matched the card"
                    )
                } else {
                    format!(
                        "cloud copy on {storage}: not verified for {} of {} clips: {}",
                        missing.len(),
                        counted.len(),
                        missing.join(", ")
                    )
                },
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::record::CloudCopy;

    fn clip(name: &str, copies: &[(&str, bool)]) -> ClipRecord {
        let mut c = ClipRecord::new(name, name);
        c.cloud_copies = copies
            .iter()
            .map(|(s, v)| CloudCopy {
                storage: (*s).to_owned(),
                files: 5,
                verified: *v,
            })
            .collect();
        c
    }

    #[test]
    fn every_clip_must_have_a_verified_copy_on_the_storage() {
        let a = clip("A", &[("GCS", true)]);
        let b = clip("B", &[("GCS", true)]);
        assert!(evidence(&[&clip("A", &[])]).is_empty());
        let lines = evidence(&[&a, &b]);
        assert_eq!(lines.len(), 1);
        assert!(lines[0].met);
        assert!(lines[0].text.contains("10 files"), "{}", lines[0].text);
        let unverified = clip("B", &[("GCS", false)]);
        let missing = clip("C", &[]);
        let lines = evidence(&[&a, &unverified, &missing]);
        assert!(!lines[0].met);
        assert_eq!(
            lines[0].text,
            "cloud copy on GCS: not verified for 2 of 3 clips: B, C"
        );
        let mut dup = clip("D", &[]);
        dup.duplicate_of = Some("already there".into());
        assert!(evidence(&[&a, &dup])[0].met);
    }
}

//! Worker-side helpers for "resume unfinished cards" and the transcript viewer: finds the
//! journals of earlier runs that still have clips to do, and reads the end of a transcript.

use crate::ingest::CardRecord;
use crate::ingest::journal::JournalStore;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A loopback server that does not answer this fast is a built-in sandbox of an earlier session.
const LOOPBACK_PROBE: Duration = Duration::from_millis(300);

/// A card with clips left to do in its journal.
#[derive(Debug, Clone, PartialEq)]
pub struct UnfinishedCard {
    pub card_root: PathBuf,
    /// The iconik base URL the journal's ids belong to.
    pub server: String,
    /// Clips not yet complete (failed, stopped, or never started).
    pub clip_ids: Vec<String>,
    pub clips_total: usize,
    /// The other cards those clips continue on (a P2 shot spanning cards): scanned with
    /// `card_root`, or the spanning clip is incomplete and cannot be resumed.
    pub span_roots: Vec<PathBuf>,
}

/// Card roots other than `record.card_root` holding a member of the clips `left`, found by
/// the member's place in its card: a file at `CONTENTS/VIDEO/x.MXF` below its root has that
/// root three folders up, as the clip's members on `card_root` show. Only existing folders.
pub fn span_roots(record: &CardRecord, left: &[String]) -> Vec<PathBuf> {
    let own = &record.card_root;
    let mut out: Vec<PathBuf> = Vec::new();
    for clip in left.iter().filter_map(|id| record.clips.get(id)) {
        // How deep a member lies below its card root, from one on this card.
        let Some(depth) = clip
            .files
            .iter()
            .find_map(|f| f.source.strip_prefix(own).ok())
            .map(|rel| rel.components().count())
        else {
            continue;
        };
        for f in clip.files.iter().filter(|f| !f.source.starts_with(own)) {
            if let Some(root) = f.source.ancestors().nth(depth)
                && root.is_dir()
                && !out.iter().any(|r| r == root)
            {
                out.push(root.to_path_buf());
            }
        }
    }
    out
}

/// Clips of `record` that are neither complete nor skipped on purpose.
pub fn clips_left(record: &CardRecord) -> Vec<String> {
    record
        .clips
        .values()
        .filter(|c| c.has_work_left())
        .map(|c| c.clip_id.clone())
        .collect()
}

/// Journals in `dir` with clips left whose card folder is still there. Journals of a built-in
/// sandbox that no longer runs are left out: its ids are gone with it.
pub async fn find_unfinished(dir: &Path) -> Vec<UnfinishedCard> {
    let store = JournalStore::at(dir);
    let records = match tokio::task::spawn_blocking(move || store.list::<CardRecord>()).await {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!("journal listing interrupted: {e}");
            return Vec::new();
        }
    };
    let mut out = Vec::new();
    for (path, record) in records {
        let left = clips_left(&record);
        if left.is_empty() {
            continue;
        }
        if tokio::fs::metadata(&record.card_root).await.is_err() {
            tracing::info!(
                journal = %path.display(),
                "unfinished card {} is not mounted; not offered for resume",
                record.card_root.display()
            );
            continue;
        }
        if !server_may_answer(&record.server).await {
            tracing::info!(
                journal = %path.display(),
                "unfinished card {} belongs to a sandbox that has ended; not offered",
                record.card_root.display()
            );
            continue;
        }
        out.push(UnfinishedCard {
            card_root: record.card_root.clone(),
            // The client's base URL ends with '/'; the window's server URLs don't.
            server: record.server.trim_end_matches('/').to_owned(),
            span_roots: span_roots(&record, &left),
            clip_ids: left,
            clips_total: record.clips.len(),
        });
    }
    out
}

/// Remote servers are assumed up (no network call at start); a loopback one must accept a TCP
/// connection.
async fn server_may_answer(server: &str) -> bool {
    let Ok(url) = url::Url::parse(server) else {
        return false;
    };
    let host = url.host_str().unwrap_or_default();
    let loopback = host == "localhost"
        || host
            .trim_matches(|c| c == '[' || c == ']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    if !loopback {
        return true;
    }
    let Some(port) = url.port_or_known_default() else {
        return false;
    };
    let addr = format!("{}:{port}", host.trim_matches(|c| c == '[' || c == ']'));
    matches!(
        tokio::time::timeout(LOOPBACK_PROBE, tokio::net::TcpStream::connect(addr)).await,
        Ok(Ok(_))
    )
}

/// The last `max` bytes of `path` as text (from the first full line when cut).
pub fn read_tail(path: &Path, max: u64) -> std::io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    let len = file.metadata()?.len();
    let start = len.saturating_sub(max);
    file.seek(SeekFrom::Start(start))?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)?;
    let text = String::from_utf8_lossy(&bytes).into_owned();
    Ok(match (start > 0, text.find('\n')) {
        (true, Some(i)) => format!(
            "# … {start} earlier bytes not shown (open the file for all of it)\n{}",
            &text[i + 1..]
        ),
        _ => text,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_of_a_long_file_starts_at_a_line() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("t.sh");
        let text: String = (0..100).map(|i| format!("curl call {i}\n")).collect();
        std::fs::write(&path, &text).expect("write");
        assert_eq!(read_tail(&path, 10_000).expect("read"), text);
        let tail = read_tail(&path, 40).expect("read");
        let mut lines = tail.lines();
        assert!(lines.next().is_some_and(|l| l.contains("earlier bytes")));
        assert_eq!(lines.clone().last(), Some("curl call 99"));
        assert!(lines.all(|l| l.starts_with("curl call ")), "{tail}");
    }

    #[test]
    fn a_clip_left_that_spans_cards_brings_the_other_card_root() {
        use crate::ingest::record::{ClipRecord, FileRecord};
        let dir = tempfile::tempdir().expect("tempdir");
        let cards = dir.path().join("cards");
        for card in ["CARD_A", "CARD_B"] {
            std::fs::create_dir_all(cards.join(card).join("CONTENTS/VIDEO")).unwrap();
        }
        let file = |card: &str, name: &str| FileRecord {
            source: cards.join(card).join("CONTENTS/VIDEO").join(name),
            ..FileRecord::default()
        };
        let mut record = CardRecord {
            card_root: cards.join("CARD_A"),
            ..CardRecord::default()
        };
        let mut spanning = ClipRecord::new("span", "0001AB");
        spanning.files = vec![file("CARD_A", "0001AB.MXF"), file("CARD_B", "0002AB.MXF")];
        let mut own = ClipRecord::new("own", "0003CD");
        own.files = vec![file("CARD_A", "0003CD.MXF")];
        record.clips.insert("span".into(), spanning);
        record.clips.insert("own".into(), own);
        assert_eq!(
            span_roots(&record, &["span".to_owned()]),
            vec![cards.join("CARD_B")]
        );
        assert!(span_roots(&record, &["own".to_owned()]).is_empty());
        // A card no longer mounted is not offered to the scan.
        std::fs::remove_dir_all(cards.join("CARD_B")).unwrap();
        assert!(span_roots(&record, &["span".to_owned()]).is_empty());
    }

    #[tokio::test]
    async fn loopback_servers_must_answer_remote_ones_are_assumed_up() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("addr").port();
        assert!(server_may_answer(&format!("http://127.0.0.1:{port}")).await);
        drop(listener);
        assert!(!server_may_answer(&format!("http://127.0.0.1:{port}")).await);
        assert!(server_may_answer("https://app.iconik.io").await);
        assert!(!server_may_answer("not a url").await);
    }
}

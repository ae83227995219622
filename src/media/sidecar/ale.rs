//! Avid Log Exchange (`.ALE`, camera-cards.md §3.10, §10): `Heading` (key TAB value lines,
//! `FIELD_DELIM TABS`, `FPS`), `Column` (one line of TAB-separated column names) and `Data`
//! (one TAB-separated row per clip). Blank lines may be absent, single or doubled; CRLF or LF.
//! ARRI and RED dailies tools write them beside the clips; a clip finds its row by `Name`.

/// A parsed ALE: heading pairs, column names and rows (each as long as `columns`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Ale {
    pub heading: Vec<(String, String)>,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum AleError {
    #[error("not an ALE file: no `Column` section followed by a `Data` section")]
    NoSections,
    #[error("ALE has no `Name` column, so no row can be matched to a clip")]
    NoNameColumn,
}

#[derive(PartialEq)]
enum Section {
    Start,
    Heading,
    Column,
    Data,
}

/// Parses ALE text (a UTF-8 BOM is ignored).
pub fn parse(text: &str) -> Result<Ale, AleError> {
    let mut ale = Ale::default();
    let mut section = Section::Start;
    for line in text.trim_start_matches('\u{feff}').lines() {
        let line = line.trim_end_matches('\r');
        match line.trim() {
            "Heading" => section = Section::Heading,
            "Column" => section = Section::Column,
            "Data" => section = Section::Data,
            "" => {}
            _ => match section {
                Section::Heading => {
                    let (k, v) = line.split_once('\t').unwrap_or((line, ""));
                    ale.heading
                        .push((k.trim().to_string(), v.trim().to_string()));
                }
                Section::Column if ale.columns.is_empty() => {
                    ale.columns = line.split('\t').map(|c| c.trim().to_string()).collect();
                }
                Section::Data => {
                    let mut row: Vec<String> =
                        line.split('\t').map(|c| c.trim().to_string()).collect();
                    row.resize(ale.columns.len(), String::new());
                    ale.rows.push(row);
                }
                _ => {}
            },
        }
    }
    if ale.columns.is_empty() || section != Section::Data {
        return Err(AleError::NoSections);
    }
    if ale.name_index().is_none() {
        return Err(AleError::NoNameColumn);
    }
    Ok(ale)
}

impl Ale {
    fn name_index(&self) -> Option<usize> {
        self.columns
            .iter()
            .position(|c| c.eq_ignore_ascii_case("Name"))
    }

    /// The row whose `Name` is `clip` (case-insensitive), or names a file of it: ALEs list
    /// ARRI clips as `A007C001_140720_R2E4` (sometimes with `.mxf`), RED clips as their first
    /// segment `A118_C029_1102JR_001`. Returns (column, value) pairs with a value.
    pub fn row_for(&self, clip: &str) -> Option<Vec<(String, String)>> {
        let ni = self.name_index()?;
        let clip = clip.to_ascii_uppercase();
        let row = self.rows.iter().find(|r| {
            let n = r[ni].to_ascii_uppercase();
            let stem = n.rsplit_once('.').map_or(n.as_str(), |(s, _)| s);
            stem == clip || stem.strip_prefix(&clip).is_some_and(|rest| rest == "_001")
        })?;
        Some(
            self.columns
                .iter()
                .zip(row)
                .filter(|(_, v)| !v.is_empty())
                .map(|(c, v)| (c.clone(), v.clone()))
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // As ARRI Reference Tool / dailies tools write it: CRLF, no blank line before `Data`.
    const ARRI: &str = "Heading\r\nFIELD_DELIM\tTABS\r\nVIDEO_FORMAT\t1080\r\nFPS\t23.976\r\n\r\nColumn\r\nName\tStart\tEnd\tDuration\tReel_Name\tScene\tTake\tCamera_SN\tExposure_Index\tWhite_Balance\tLens_Type\tLook_Name\tSensor_FPS\tShutter_Angle\r\nData\r\nA007C001_140720_R2E4\t10:00:00:00\t10:00:10:00\t00:00:10:00\tA007R2E4\t12\t3\t60123\t800\t5600\tARRI Signature Prime 35mm\tARRI 709\t23.976\t172.8\r\nA007C002_140720_R2E4\t10:01:00:00\t10:01:05:00\t00:00:05:00\tA007R2E4\t12\t4\t60123\t1280\t3200\t\tARRI 709\t23.976\t180\r\n";

    #[test]
    fn rows_are_found_by_name_with_their_columns() {
        let ale = parse(ARRI).expect("parse");
        assert_eq!(ale.heading[2], ("FPS".to_string(), "23.976".to_string()));
        assert_eq!(ale.rows.len(), 2);
        let row = ale.row_for("a007c002_140720_r2e4").expect("row");
        assert!(row.contains(&("Exposure_Index".to_string(), "1280".to_string())));
        // Empty cells are left out.
        assert!(!row.iter().any(|(c, _)| c == "Lens_Type"));
        assert_eq!(ale.row_for("A007C003_140720_R2E4"), None);
        let red = "Heading\nFIELD_DELIM\tTABS\n\n\nColumn\nName\tISO\n\n\nData\nA118_C029_1102JR_001\t800\n";
        let ale = parse(red).expect("parse red");
        assert_eq!(
            ale.row_for("A118_C029_1102JR"),
            Some(vec![
                ("Name".to_string(), "A118_C029_1102JR_001".to_string()),
                ("ISO".to_string(), "800".to_string())
            ])
        );
    }

    #[test]
    fn not_an_ale_says_why() {
        assert_eq!(parse("hello\nworld\n"), Err(AleError::NoSections));
        assert_eq!(
            parse("Heading\nFPS\t24\nColumn\nStart\tEnd\nData\n1\t2\n"),
            Err(AleError::NoNameColumn)
        );
    }
}

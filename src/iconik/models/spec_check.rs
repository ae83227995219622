//! Test-only: every field a request struct can emit must be a property of the spec schema it is
//! sent as (iconik's OpenAPI files as embedded from `assets/iconik-spec/`).

use super::*;
use chrono::{TimeZone, Utc};
use std::collections::BTreeMap;

fn schema_props(file: &str, schema: &str) -> Vec<String> {
    let text = crate::sandbox::spec::embedded_document(file)
        .unwrap_or_else(|| panic!("{file} is not one of the embedded iconik documents"));
    let doc: serde_json::Value = serde_json::from_str(text).unwrap();
    let props = doc["components"]["schemas"][schema]["properties"]
        .as_object()
        .unwrap_or_else(|| panic!("{file}: schema {schema} has no properties"));
    props.keys().cloned().collect()
}

/// Asserts the object's keys ⊆ the schema's properties; returns the object for nested checks.
fn assert_fields(value: &serde_json::Value, file: &str, schema: &str) {
    let props = schema_props(file, schema);
    let obj = value
        .as_object()
        .unwrap_or_else(|| panic!("{schema}: not an object: {value}"));
    assert!(!obj.is_empty(), "{schema}: nothing emitted");
    for key in obj.keys() {
        assert!(
            props.contains(key),
            "{schema} has no property {key:?} (emitted by the client)"
        );
    }
}

fn when() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 5, 6, 7, 8, 9).unwrap()
}

#[test]
fn asset_requests_use_spec_field_names() {
    let body = AssetCreate {
        title: "A001C002".into(),
        asset_type: Some(AssetType::Asset),
        status: Some(ActiveStatus::Active),
        is_online: Some(true),
        external_id: Some("card:clip".into()),
        external_link: Some("https://example.invalid/x".into()),
        category: Some("c".into()),
        collection_id: Some(CollectionId::new_v4()),
        date_created: Some(when()),
        site_name: Some("s".into()),
    };
    let v = serde_json::to_value(&body).unwrap();
    assert_fields(&v, "assets.json", "AssetCreateSchema");
    assert_eq!(v["date_created"], "2024-05-06T07:08:09+00:00");
    assert_eq!(v["type"], "ASSET");
    let patch = AssetPatch {
        title: Some("t".into()),
        external_id: Some("e".into()),
        external_link: Some("https://example.invalid".into()),
        category: Some("c".into()),
        status: Some(ActiveStatus::Active),
        is_online: Some(true),
        site_name: Some("s".into()),
    };
    assert_fields(
        &serde_json::to_value(&patch).unwrap(),
        "assets.json",
        "AssetSchema",
    );
    let hist = AssetHistoryCreate {
        operation_type: "CUSTOM".into(),
        operation_description: Some("d".into()),
        job_id: Some(JobId::new_v4()),
    };
    assert_fields(
        &serde_json::to_value(&hist).unwrap(),
        "assets.json",
        "AssetHistorySchema",
    );
    let coll = CollectionCreate {
        title: "t".into(),
        parent_id: Some(CollectionId::new_v4()),
        external_id: Some("e".into()),
        category: Some("c".into()),
    };
    assert_fields(
        &serde_json::to_value(&coll).unwrap(),
        "assets.json",
        "CollectionInputSchema",
    );
    let add = CollectionContentAdd::asset(AssetId::new_v4());
    let v = serde_json::to_value(&add).unwrap();
    assert_fields(&v, "assets.json", "CollectionContentSchema");
    assert_eq!(v["object_type"], "assets");
    // Minimal: nothing but the four documented fields.
    let v = serde_json::to_value(AssetCreate::new("x")).unwrap();
    assert_eq!(
        v,
        serde_json::json!({"title":"x","type":"ASSET","status":"ACTIVE","is_online":true})
    );
}

#[test]
fn format_and_file_set_requests_use_spec_field_names() {
    let mut md = BTreeMap::new();
    md.insert("width".to_owned(), "1920".to_owned());
    let body = FormatCreate {
        name: "ORIGINAL".into(),
        status: Some(ActiveStatus::Active),
        version_id: Some(VersionId::new_v4()),
        storage_methods: vec!["FILE".into()],
        is_online: Some(true),
        metadata: vec![md.clone()],
        components: vec![ComponentCreate {
            name: "VIDEO".into(),
            component_type: ComponentType::Video,
            metadata: md,
        }],
    };
    let v = serde_json::to_value(&body).unwrap();
    assert_fields(&v, "files.json", "FormatSchema");
    assert_fields(&v["components"][0], "files.json", "ComponentSchema");
    assert_eq!(v["components"][0]["metadata"]["width"], "1920");
    let fs = FileSetCreate {
        format_id: FormatId::new_v4(),
        name: "0002EM.MXF".into(),
        base_dir: "CONTENTS".into(),
        component_ids: vec![ComponentId::new_v4()],
        storage_id: Some(StorageId::new_v4()),
        status: Some(FileSetStatus::Active),
        version_id: Some(VersionId::new_v4()),
        is_archive: Some(false),
        original_storage_id: Some(StorageId::new_v4()),
    };
    assert_fields(
        &serde_json::to_value(&fs).unwrap(),
        "files.json",
        "FileSetSchema",
    );
}

#[test]
fn file_proxy_keyframe_requests_use_spec_field_names() {
    let f = FileCreate {
        name: Some("0002EM.MXF".into()),
        size: Some(264_032_992),
        checksum: Some("d41d8cd98f00b204e9800998ecf8427e".into()),
        file_date_created: Some(when()),
        file_date_modified: Some(when()),
        file_set_id: Some(FileSetId::new_v4()),
        format_id: Some(FormatId::new_v4()),
        storage_id: Some(StorageId::new_v4()),
        status: Some(ObjectStatus::Closed),
        version_id: Some(VersionId::new_v4()),
        parent_id: Some(FileId::new_v4()),
        ..FileCreate::new("CONTENTS/VIDEO", "0002EM.MXF")
    };
    let v = serde_json::to_value(&f).unwrap();
    assert_fields(&v, "files.json", "FileCreateSchema");
    assert!(v["size"].is_u64(), "size must be a JSON integer");
    assert_eq!(v["file_date_modified"], "2024-05-06T07:08:09+00:00");
    let patch = FilePatch {
        status: Some(ObjectStatus::Closed),
        size: Some(1),
        checksum: Some("x".into()),
    };
    assert_fields(
        &serde_json::to_value(&patch).unwrap(),
        "files.json",
        "FileSchema",
    );
    let p = ProxyCreate {
        name: Some("p".into()),
        filename: Some("p.mp4".into()),
        format: Some("mp4".into()),
        codec: Some("h264".into()),
        frame_rate: Some("25".into()),
        resolution: Some(Resolution {
            width: 1280,
            height: 720,
        }),
        bit_rate: Some(3_000_000),
        audio_bitrate: Some(128_000),
        is_drop_frame: Some(false),
        start_time_code: Some("01:00:00:00".into()),
        rotation: Some(0),
        size: Some(10),
        status: Some(ObjectStatus::Open),
        storage_id: Some(StorageId::new_v4()),
        version_id: Some(VersionId::new_v4()),
    };
    let v = serde_json::to_value(&p).unwrap();
    assert_fields(&v, "files.json", "ProxySchema");
    assert_fields(&v["resolution"], "files.json", "ResolutionType");
    let u = ProxyUpdate {
        status: Some(ObjectStatus::Closed),
        size: Some(1),
        resolution: Some(Resolution {
            width: 1,
            height: 1,
        }),
        storage_id: Some(StorageId::new_v4()),
    };
    assert_fields(
        &serde_json::to_value(&u).unwrap(),
        "files.json",
        "ProxyUpdateSchema",
    );
    assert_eq!(
        serde_json::to_value(ProxyUpdate::closed()).unwrap(),
        serde_json::json!({"status":"CLOSED"})
    );
    let k = KeyframeRequest {
        priority: Some(5),
        set_as_custom_keyframe: Some(true),
        update_proxy_mediainfo: Some(true),
        use_storage_transcode_ignore_pattern: Some(true),
    };
    assert_fields(
        &serde_json::to_value(&k).unwrap(),
        "files.json",
        "TranscodeRequestSchema",
    );
    assert_eq!(
        serde_json::to_value(KeyframeRequest::default()).unwrap(),
        serde_json::json!({})
    );
    let c = MultipartCleanup {
        upload_id: "u".into(),
        abort_upload: true,
    };
    assert_fields(
        &serde_json::to_value(&c).unwrap(),
        "files.json",
        "MultipartUploadProxyCleanupSchema",
    );
}

#[test]
fn metadata_and_search_requests_use_spec_field_names() {
    let mut m = MetadataValues::from_strings([("scene", "12"), ("take", "3")]);
    m.version_id = Some(VersionId::new_v4());
    let v = serde_json::to_value(&m).unwrap();
    assert_fields(&v, "metadata.json", "MetadataValuesSchema");
    assert_fields(
        &v["metadata_values"]["scene"],
        "metadata.json",
        "MetadataFieldValueSchema",
    );
    assert_eq!(
        v["metadata_values"]["scene"]["field_values"][0]["value"],
        "12"
    );
    let s = SearchRequest {
        query: Some("q".into()),
        ..SearchRequest::assets_by_external_id("card:clip")
    };
    let v = serde_json::to_value(&s).unwrap();
    assert_fields(&v, "search.json", "SearchCriteriaSchema");
    assert_fields(&v["filter"], "search.json", "CriteriaFilterSchema");
    assert_fields(
        &v["filter"]["terms"][0],
        "search.json",
        "CriteriaTermSchema",
    );
    assert_eq!(v["filter"]["terms"][0]["value"], "card:clip");
}

#[test]
fn responses_are_lenient_and_parse_both_date_styles() {
    let a: Asset = serde_json::from_str(
        r#"{"id":"2b8f1c4e-3a5d-4e6f-8a9b-0c1d2e3f4a5b","title":"t","type":"ASSET",
            "date_created":"2021-07-30T15:16:54.406403","date_modified":"2021-07-30T15:16:54.406403+00:00",
            "versions":[{"id":"7f0c7a52-7c40-4c1d-9a0e-3cf0a6a1b1d2","status":"ACTIVE"}],
            "brand_new_field":{"x":1}}"#,
    )
    .unwrap();
    assert_eq!(a.date_created, a.date_modified);
    assert_eq!(
        a.version_id().unwrap().to_string(),
        "7f0c7a52-7c40-4c1d-9a0e-3cf0a6a1b1d2"
    );
    let f: File = serde_json::from_str(
        r#"{"id":"2b8f1c4e-3a5d-4e6f-8a9b-0c1d2e3f4a5b","size":264032992,"status":"CLOSED","type":"FILE"}"#,
    )
    .unwrap();
    assert_eq!(f.size, Some(264_032_992));
    assert_eq!(f.status, Some(ObjectStatus::Closed));
}

#[test]
fn segment_requests_use_spec_field_names() {
    let m = SegmentCreate::marker(1500, "HiLight");
    let v = serde_json::to_value(&m).unwrap();
    assert_fields(&v, "assets.json", "Segment");
    assert_eq!(v["segment_type"], "MARKER");
    assert_eq!(v["time_end_milliseconds"], 1500);
    let bulk = serde_json::to_value(BulkSegmentsCreate { objects: vec![m] }).unwrap();
    assert_fields(&bulk, "assets.json", "BulkCreateSegmentsSchema");
}

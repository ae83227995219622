//! Pure parsers for camera sidecar files (P2 clip XML, Sony NonRealTimeMeta, Canon XML,
//! BWF bext/iXML chunks). No process spawning; callers hand in bytes or a path.

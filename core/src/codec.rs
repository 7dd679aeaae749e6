//! SKELETON: versioned binary wire format (postcard behind a header).

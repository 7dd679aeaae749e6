//! SKELETON: the collaborative log the web app shows: append-only `{author, text, at}` entries.
pub struct SharedLog;

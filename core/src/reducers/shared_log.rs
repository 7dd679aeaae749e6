//! The collaborative log the web app shows: an append-only list of `{author, text, at}` posts.
//! The method refuses empty or oversized posts against the provisional state; `reduce` checks
//! the same rules again, because a log entry may come from a peer running other code, and every
//! node must then skip it the same way.
use crate::{Millis, Reducer};
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use serde::{Deserialize, Serialize};

/// Longest accepted post text, in bytes: a post must fit comfortably in one data-channel message.
pub const MAX_TEXT_BYTES: usize = 2000;
/// Longest accepted author name, in bytes.
pub const MAX_AUTHOR_BYTES: usize = 64;

/// One post. `at` is the author's wall clock in milliseconds, supplied with the intent: the
/// reducer is pure and reads no clock.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Post {
    pub author: String,
    pub text: String,
    pub at: Millis,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharedLogState {
    pub posts: Vec<Post>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SharedLogRejection {
    EmptyText,
    TextTooLong { bytes: usize },
    EmptyAuthor,
    AuthorTooLong { bytes: usize },
}

impl fmt::Display for SharedLogRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::EmptyText => write!(f, "the post has no text"),
            Self::TextTooLong { bytes } => {
                write!(f, "the post text is {bytes} bytes, more than {MAX_TEXT_BYTES}")
            }
            Self::EmptyAuthor => write!(f, "the post has no author"),
            Self::AuthorTooLong { bytes } => {
                write!(f, "the author name is {bytes} bytes, more than {MAX_AUTHOR_BYTES}")
            }
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for SharedLogRejection {}

/// The rules a post must follow, shared by the method and the reducer.
fn validate(post: &Post) -> Result<(), SharedLogRejection> {
    if post.text.trim().is_empty() {
        return Err(SharedLogRejection::EmptyText);
    }
    if post.text.len() > MAX_TEXT_BYTES {
        return Err(SharedLogRejection::TextTooLong { bytes: post.text.len() });
    }
    if post.author.trim().is_empty() {
        return Err(SharedLogRejection::EmptyAuthor);
    }
    if post.author.len() > MAX_AUTHOR_BYTES {
        return Err(SharedLogRejection::AuthorTooLong { bytes: post.author.len() });
    }
    Ok(())
}

#[derive(Clone, Copy, Debug)]
pub struct SharedLog;

impl Reducer for SharedLog {
    type State = SharedLogState;
    type Action = Post;
    type Intent = Post;
    type Rejection = SharedLogRejection;
    /// The position of the post in the shared log, or why it was skipped.
    type Output = Result<usize, SharedLogRejection>;

    fn reduce(state: &mut SharedLogState, post: &Post) -> Self::Output {
        validate(post)?;
        state.posts.push(post.clone());
        Ok(state.posts.len() - 1)
    }

    fn method(_: &SharedLogState, post: Post) -> Result<Post, SharedLogRejection> {
        validate(&post)?;
        Ok(post)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    fn post(author: &str, text: &str) -> Post {
        Post { author: author.to_string(), text: text.to_string(), at: 42 }
    }

    #[test]
    fn accepts_a_normal_post_and_appends_it() {
        let mut state = SharedLogState::default();
        let action = SharedLog::method(&state, post("ada", "hello")).unwrap();
        assert_eq!(SharedLog::reduce(&mut state, &action), Ok(0));
        assert_eq!(state.posts, [post("ada", "hello")]);
    }

    #[test]
    fn refuses_empty_and_oversized_posts() {
        let state = SharedLogState::default();
        let long = "x".repeat(MAX_TEXT_BYTES + 1);
        assert_eq!(
            SharedLog::method(&state, post("ada", "  ")),
            Err(SharedLogRejection::EmptyText)
        );
        assert_eq!(
            SharedLog::method(&state, post("ada", &long)),
            Err(SharedLogRejection::TextTooLong { bytes: MAX_TEXT_BYTES + 1 })
        );
        assert_eq!(SharedLog::method(&state, post("", "hi")), Err(SharedLogRejection::EmptyAuthor));
    }

    #[test]
    fn reduce_skips_an_invalid_post_that_reached_the_log() {
        let mut state = SharedLogState::default();
        assert_eq!(
            SharedLog::reduce(&mut state, &post("ada", "")),
            Err(SharedLogRejection::EmptyText)
        );
        assert!(state.posts.is_empty());
    }
}

//! The application's state machine, in the spirit of the npm package conflux: a pure reducer over
//! serde actions, plus a "method" that turns what a caller wants (an intent) into an action, or
//! refuses it, by looking at the provisional state (committed plus still pending).
use core::fmt::{Debug, Display};
use serde::{de::DeserializeOwned, Serialize};

pub trait Reducer {
    /// The replicated state. Serde, so that a snapshot can carry it.
    type State: Clone + Default + Debug + Serialize + DeserializeOwned;
    /// What the log carries.
    type Action: Clone + Debug + PartialEq + Serialize + DeserializeOwned;
    /// What a caller asks for; a method turns it into an Action or refuses it.
    type Intent;
    /// Why a method refused an intent.
    type Rejection: Clone + Debug + Display;
    /// What applying an action returns to its proposer (e.g. whether a compare-and-set won).
    /// Serde, because the deduplication table keeps recent outputs in the replicated state.
    type Output: Clone + Debug + Serialize + DeserializeOwned;

    /// Pure and deterministic: every node applies the same actions in the same order.
    fn reduce(state: &mut Self::State, action: &Self::Action) -> Self::Output;
    /// The "method": validates an intent against the provisional state.
    fn method(state: &Self::State, intent: Self::Intent) -> Result<Self::Action, Self::Rejection>;
}

//! SKELETON: the application's state machine, in the spirit of the npm package conflux.
use core::fmt::Debug;
use serde::{de::DeserializeOwned, Serialize};

pub trait Reducer {
    type State: Clone + Default + Debug;
    /// What the log carries.
    type Action: Clone + Debug + PartialEq + Serialize + DeserializeOwned;
    /// What a caller asks for; a method turns it into an Action or refuses it.
    type Intent;
    /// Why a method refused an intent.
    type Rejection: Clone + Debug;
    /// What applying an action returns to its proposer (e.g. whether a compare-and-set won).
    type Output: Clone + Debug;

    /// Pure and deterministic: every node applies the same actions in the same order.
    fn reduce(state: &mut Self::State, action: &Self::Action) -> Self::Output;
    /// The "method": validates an intent against the provisional state.
    fn method(state: &Self::State, intent: Self::Intent) -> Result<Self::Action, Self::Rejection>;
}

//! The page's root component: it holds the latest [`ClusterView`] and renders the
//! [`Dashboard`] from it, sending the dashboard's [`Command`]s back to where the view came from.
//!
//! - By default that is this tab's Raft node: the runtime ([`Runtime::start`]) pushes a view at
//!   most once per animation frame and takes the commands.
//! - With `?demo` (or `?demo=election`) it is a made-up cluster ([`DemoCluster`]) that moves with
//!   the clock, to look at the UI without opening tabs; `&t=MS` freezes its clock at `MS`, for
//!   screenshots that come out the same every time.
use std::rc::Rc;

use gloo::timers::callback::Interval;
use yew::prelude::*;

use crate::components::dashboard::Dashboard;
use crate::components::demo::{DemoCluster, DemoPhase};
use crate::runtime::{Runtime, RuntimeHandle};
use crate::view::{ClusterView, Command, Millis};

/// The demo's frame interval: smooth enough for dots moving along links.
const DEMO_FRAME_MS: u32 = 40;

/// A query parameter of the page's URL (`Some("")` for a bare `?demo`).
fn query(name: &str) -> Option<String> {
    let search = web_sys::window()?.location().search().ok()?;
    web_sys::UrlSearchParams::new_with_str(&search).ok()?.get(name)
}

fn page_now() -> Millis {
    web_sys::window().and_then(|w| w.performance()).map_or(0.0, |p| p.now())
}

#[component]
pub fn App() -> Html {
    match query("demo") {
        Some(phase) => {
            let frozen_at = query("t").and_then(|t| crate::components::format::parse_f64(&t));
            html! { <Demo phase={DemoPhase::from_query(&phase)} {frozen_at} /> }
        }
        None => html! { <Live /> },
    }
}

/// This tab's node, through the runtime.
#[component]
fn Live() -> Html {
    let view = use_state(|| Rc::new(ClusterView::default()));
    let runtime = use_mut_ref(|| None::<RuntimeHandle>);
    {
        let view = view.setter();
        let runtime = runtime.clone();
        use_effect_with((), move |_| {
            let on_view = Callback::from(move |next: ClusterView| view.set(Rc::new(next)));
            *runtime.borrow_mut() = Some(Runtime::start(on_view));
            // Dropping the last handle stops the node and leaves the room.
            move || drop(runtime.borrow_mut().take())
        });
    }
    let on_command = use_callback(runtime, |command: Command, runtime| {
        if let Some(handle) = runtime.borrow().as_ref() {
            handle.command(command);
        }
    });
    html! { <Dashboard view={(*view).clone()} {on_command} /> }
}

#[derive(Properties, PartialEq)]
struct DemoProps {
    phase: DemoPhase,
    /// A fixed clock, for repeatable screenshots.
    frozen_at: Option<Millis>,
}

/// The made-up cluster, redrawn every frame.
#[component]
fn Demo(props: &DemoProps) -> Html {
    let frozen_at = props.frozen_at;
    let clock = move || frozen_at.unwrap_or_else(page_now);
    let cluster = {
        let phase = props.phase;
        use_mut_ref(move || DemoCluster::new(phase, js_sys::Date::now() - page_now()))
    };
    let now = use_state(clock);
    {
        let now = now.setter();
        use_effect_with(frozen_at, move |frozen_at| {
            let frame = frozen_at
                .is_none()
                .then(|| Interval::new(DEMO_FRAME_MS, move || now.set(page_now())));
            move || drop(frame)
        });
    }
    let on_command = {
        let cluster = cluster.clone();
        let now = now.setter();
        use_callback((), move |command: Command, ()| {
            let at = clock();
            cluster.borrow_mut().apply(command, at);
            now.set(at);
        })
    };
    let view = Rc::new(cluster.borrow().view(*now));
    html! { <Dashboard {view} {on_command} /> }
}

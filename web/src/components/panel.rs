//! The card every section of the dashboard sits in: a titled header with optional actions on
//! the right, then the body. One component so that every panel has the same frame.
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct PanelProps {
    pub title: AttrValue,
    /// Extra classes, e.g. the panel's grid area (`panel-ring`).
    #[prop_or_default]
    pub class: Classes,
    /// Shown at the right of the title: a legend, a count, a button.
    #[prop_or_default]
    pub aside: Html,
    #[prop_or_default]
    pub children: Html,
}

#[component]
pub fn Panel(props: &PanelProps) -> Html {
    html! {
        <section class={classes!("panel", props.class.clone())}>
            <header class="panel-head">
                <h2>{ props.title.clone() }</h2>
                <div class="panel-aside">{ props.aside.clone() }</div>
            </header>
            <div class="panel-body">{ props.children.clone() }</div>
        </section>
    }
}

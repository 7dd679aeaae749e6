//! The web app's entry point: mounts the root component on the page's body.
fn main() {
    yew::Renderer::<flotilla_web::app::App>::new().render();
}

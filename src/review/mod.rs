//! The restricted face for the programme team. It listens on its own address
//! (loopback by default) and shares no route with the intake.

use axum::Router;
use axum::response::IntoResponse;
use axum::routing::get;
use maud::{DOCTYPE, html};

use crate::web;

/// What the review face's handlers share.
#[derive(Clone)]
pub struct ReviewState {
    /// Whether demo keys are in use (shown on every page).
    pub demo: bool,
}

/// The review face's routes.
pub fn router(state: ReviewState) -> Router {
    Router::new()
        .route("/", get(home))
        .route_layer(axum::middleware::from_fn(web::log_request))
        .layer(axum::middleware::from_fn(web::security_headers))
        .with_state(state)
}

async fn home(axum::extract::State(state): axum::extract::State<ReviewState>) -> impl IntoResponse {
    (
        [("x-robots-tag", "noindex, nofollow")],
        html! {
            (DOCTYPE)
            html lang="nl" {
                head { meta charset="utf-8"; title { "signaal — review" } }
                body {
                    @if state.demo { p { strong { "DEMO — demo keys, not for real signals" } } }
                    h1 { "signaal — review" }
                }
            }
        },
    )
}

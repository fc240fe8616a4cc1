//! Fetch a relay's current multiaddrs over HTTP, with a deadline.

use futures::{future::Either, pin_mut};
use js_sys::{Function, Promise, Reflect};
use libp2p::Multiaddr;
use meshwork_core::{CoreError, ErrorCode};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use super::js::describe;
use meshwork_core::discovery::relay_http::AddressesBody;

/// How long the fetch may take, in milliseconds.
const FETCH_TIMEOUT_MS: u32 = 10_000;

fn failed(url: &str, why: impl std::fmt::Display) -> CoreError {
    CoreError::new(ErrorCode::FetchFailed, format!("fetching {url}: {why}"))
}

async fn call_promise(promise: JsValue, url: &str) -> Result<JsValue, CoreError> {
    let promise: Promise = promise
        .dyn_into()
        .map_err(|_| failed(url, "not a promise"))?;
    JsFuture::from(promise)
        .await
        .map_err(|e| failed(url, describe(&e)))
}

async fn fetch_json(url: &str) -> Result<JsValue, CoreError> {
    // `fetch` is a global in windows and workers alike.
    let global = js_sys::global();
    let fetch: Function = Reflect::get(&global, &"fetch".into())
        .ok()
        .and_then(|f| f.dyn_into().ok())
        .ok_or_else(|| failed(url, "no fetch() in this context"))?;
    let response = call_promise(
        fetch
            .call1(&global, &JsValue::from_str(url))
            .map_err(|e| failed(url, describe(&e)))?,
        url,
    )
    .await?;
    let response: web_sys::Response = response
        .dyn_into()
        .map_err(|_| failed(url, "not a Response"))?;
    if !response.ok() {
        return Err(failed(url, format!("HTTP {}", response.status())));
    }
    call_promise(
        response
            .json()
            .map_err(|e| failed(url, describe(&e)))?
            .into(),
        url,
    )
    .await
}

/// GET `url` and return the relay's multiaddrs.
pub async fn relay_addresses(url: &str) -> Result<Vec<Multiaddr>, CoreError> {
    let fetch = fetch_json(url);
    let timeout = gloo_timers::future::TimeoutFuture::new(FETCH_TIMEOUT_MS);
    pin_mut!(fetch);
    let json = match futures::future::select(fetch, timeout).await {
        Either::Left((result, _)) => result?,
        Either::Right(_) => {
            return Err(failed(
                url,
                format!("no answer within {FETCH_TIMEOUT_MS} ms"),
            ))
        }
    };
    let body: AddressesBody = serde_wasm_bindgen::from_value(json)
        .map_err(|e| failed(url, format!("unexpected body: {e}")))?;
    body.into_multiaddrs()
}

//! A JS function as a topic's message validator: called with `{ topic, from, via, data }`, it
//! returns (or resolves to) `'accept'`, `'reject'` or `'ignore'`. Anything else, a throw or a
//! rejection counts as `'ignore'` and is logged; the core applies the deadline.

use futures::{future::BoxFuture, FutureExt};
use js_sys::{Function, Promise};
use meshwork_core::gossip::validator::{Acceptance, InboundMessage, MessageValidator};
use send_wrapper::SendWrapper;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use super::js::{describe, object};

/// Wraps the page's function. `SendWrapper`: the core wants `Send + Sync` validators, and a
/// page's wasm runs on one thread, where this is never crossed.
pub struct JsValidator(SendWrapper<Function>);

impl JsValidator {
    /// Wrap `function`.
    pub fn new(function: Function) -> Self {
        Self(SendWrapper::new(function))
    }
}

fn verdict(value: &JsValue) -> Acceptance {
    match value.as_string().as_deref() {
        Some("accept") => Acceptance::Accept,
        Some("reject") => Acceptance::Reject,
        Some("ignore") => Acceptance::Ignore,
        _ => {
            web_sys::console::warn_2(
                &"meshwork: a validator returned something other than 'accept', 'reject' or 'ignore'; ignoring the message:".into(),
                value,
            );
            Acceptance::Ignore
        }
    }
}

impl MessageValidator for JsValidator {
    fn validate(&self, message: &InboundMessage) -> BoxFuture<'static, Acceptance> {
        let s = |v: &dyn std::fmt::Display| JsValue::from_str(&v.to_string());
        let argument = object(&[
            ("topic", JsValue::from_str(&message.topic)),
            (
                "from",
                message.author.map(|a| s(&a)).unwrap_or(JsValue::NULL),
            ),
            ("via", s(&message.propagation_source)),
            (
                "data",
                js_sys::Uint8Array::from(message.data.as_slice()).into(),
            ),
        ]);
        let returned = self.0.call1(&JsValue::NULL, &argument);
        let future = async move {
            let value = match returned {
                Ok(v) => match v.dyn_into::<Promise>() {
                    Ok(promise) => JsFuture::from(promise).await,
                    Err(v) => Ok(v),
                },
                Err(e) => Err(e),
            };
            match value {
                Ok(v) => verdict(&v),
                Err(e) => {
                    web_sys::console::warn_1(
                        &format!(
                            "meshwork: a validator threw; ignoring the message: {}",
                            describe(&e)
                        )
                        .into(),
                    );
                    Acceptance::Ignore
                }
            }
        };
        SendWrapper::new(future).boxed()
    }
}

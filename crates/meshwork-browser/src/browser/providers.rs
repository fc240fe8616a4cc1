//! Kademlia provider records on `WasmNode`: `provide`, `stopProviding`, `findProviders`.

use js_sys::Promise;
use meshwork_core::ErrorCode;
use wasm_bindgen::prelude::*;

use super::{
    js,
    node::{promise, WasmNode},
};

/// `findProviders`' options: `{ limit }` (1 to 20, default 20).
#[derive(Debug, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
struct FindProvidersOptions {
    limit: usize,
}

impl Default for FindProvidersOptions {
    fn default() -> Self {
        Self { limit: 20 }
    }
}

fn key_arg(key: &JsValue) -> Result<Vec<u8>, meshwork_core::CoreError> {
    Ok(js::string_arg(key, "key", ErrorCode::InvalidOptions)?.into_bytes())
}

#[wasm_bindgen]
impl WasmNode {
    /// Announce in the DHT that this page provides `key` (a string of 1 to 256 bytes, not under
    /// a reserved prefix); republished while the node runs.
    pub fn provide(&self, key: JsValue) -> Promise {
        let handle = self.handle.clone();
        promise(async move {
            handle.provide(key_arg(&key)?).await?;
            Ok(JsValue::UNDEFINED)
        })
    }

    /// Stop announcing `key`; resolves `true` if this page provided it.
    #[wasm_bindgen(js_name = stopProviding)]
    pub fn stop_providing(&self, key: JsValue) -> Promise {
        let handle = self.handle.clone();
        promise(async move {
            Ok(JsValue::from_bool(
                handle.stop_providing(key_arg(&key)?).await?,
            ))
        })
    }

    /// The providers of `key` other than this page: `[{ peerId, addresses }]` (at most
    /// `options.limit`, default 20).
    #[wasm_bindgen(js_name = findProviders)]
    pub fn find_providers(&self, key: JsValue, options: JsValue) -> Promise {
        let handle = self.handle.clone();
        promise(async move {
            let key = key_arg(&key)?;
            let options: FindProvidersOptions = js::options_arg(options, "findProviders options")?;
            let providers = handle.find_providers(key, options.limit).await?;
            let views: Vec<_> = providers.iter().map(|p| p.view()).collect();
            js::to_js(&views)
        })
    }
}

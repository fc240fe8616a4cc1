//! The service registry on `WasmNode`: `registerService`, `unregisterService`, `findService`.

use js_sys::Promise;
use meshwork_core::{ErrorCode, Registration};
use wasm_bindgen::prelude::*;

use super::{
    js,
    node::{promise, WasmNode},
};

fn service_id_arg(value: &JsValue) -> Result<String, meshwork_core::CoreError> {
    let id = js::string_arg(value, "serviceId", ErrorCode::InvalidOptions)?;
    meshwork_core::services::validate_service_id(&id)?;
    Ok(id)
}

#[wasm_bindgen]
impl WasmNode {
    /// Register (or update) a service this node provides. `options`: `{ type, metadata,
    /// ttlSecs }` (`type` 1 to 64 bytes, required; `metadata` an object of up to 16 string
    /// values, 2 KiB in all; `ttlSecs` 30 to 86,400, default 600). The signed record goes into
    /// the DHT and out on gossip, and is refreshed until `unregisterService`. Resolves with the
    /// record: `{ serviceId, type, provider, addresses, metadata, issuedAtMs, expiresAtMs }`.
    #[wasm_bindgen(js_name = registerService)]
    pub fn register_service(&self, service_id: JsValue, options: JsValue) -> Promise {
        let handle = self.handle.clone();
        promise(async move {
            let service = service_id_arg(&service_id)?;
            let registration: Registration = js::options_arg(options, "registerService options")?;
            registration.validate()?;
            js::to_js(&handle.register_service(service, registration).await?)
        })
    }

    /// Stop providing a service: a signed departure replaces the record. Resolves `true` if it
    /// was registered.
    #[wasm_bindgen(js_name = unregisterService)]
    pub fn unregister_service(&self, service_id: JsValue) -> Promise {
        let handle = self.handle.clone();
        promise(async move {
            let service = service_id_arg(&service_id)?;
            Ok(JsValue::from_bool(
                handle.unregister_service(service).await?,
            ))
        })
    }

    /// The freshest live record of a service (rejects with `NOT_FOUND`).
    #[wasm_bindgen(js_name = findService)]
    pub fn find_service(&self, service_id: JsValue) -> Promise {
        let handle = self.handle.clone();
        promise(async move {
            let service = service_id_arg(&service_id)?;
            js::to_js(&handle.find_service(service).await?)
        })
    }
}

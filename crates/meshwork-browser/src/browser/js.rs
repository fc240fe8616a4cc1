//! Small conversions between Rust values and JS values.

use js_sys::{Object, Reflect};
use meshwork_core::{CoreError, ErrorCode};
use wasm_bindgen::{JsCast, JsValue};

/// A JS `Error` named `MeshworkError` with a stable `code` property.
pub fn error(e: &CoreError) -> JsValue {
    let err = js_sys::Error::new(&e.message);
    err.set_name("MeshworkError");
    let _ = Reflect::set(&err, &"code".into(), &e.code.as_str().into());
    err.into()
}

/// A plain object from key/value pairs.
pub fn object(fields: &[(&str, JsValue)]) -> JsValue {
    let o = Object::new();
    for (k, v) in fields {
        let _ = Reflect::set(&o, &(*k).into(), v);
    }
    o.into()
}

/// A JS string argument, or an error with `code` if it is anything else.
pub fn string_arg(value: &JsValue, what: &str, code: ErrorCode) -> Result<String, CoreError> {
    value
        .as_string()
        .ok_or_else(|| CoreError::new(code, format!("{what} must be a string")))
}

/// A `Uint8Array` argument, checked against `max` before it is copied into wasm memory.
pub fn bytes_arg(value: &JsValue, max: usize) -> Result<Vec<u8>, CoreError> {
    let array = value
        .dyn_ref::<js_sys::Uint8Array>()
        .ok_or_else(|| CoreError::new(ErrorCode::InvalidPayload, "data must be a Uint8Array"))?;
    meshwork_core::validate::payload(array.length() as usize, max)?;
    Ok(array.to_vec())
}

/// A human-readable text for a thrown JS value.
pub fn describe(value: &JsValue) -> String {
    if let Some(e) = value.dyn_ref::<js_sys::Error>() {
        return String::from(e.message());
    }
    value.as_string().unwrap_or_else(|| format!("{value:?}"))
}

/// An options object (or `undefined`/`null` for the defaults). Read through a JSON value:
/// serde-wasm-bindgen ignores unknown keys, serde_json honours `deny_unknown_fields`, so a
/// misspelt option is an error, not a no-op.
pub fn options_arg<T>(value: JsValue, what: &str) -> Result<T, CoreError>
where
    T: serde::de::DeserializeOwned + Default,
{
    if value.is_undefined() || value.is_null() {
        return Ok(T::default());
    }
    let invalid = |e: &dyn std::fmt::Display| {
        CoreError::new(ErrorCode::InvalidOptions, format!("{what}: {e}"))
    };
    let json: serde_json::Value = serde_wasm_bindgen::from_value(value).map_err(|e| invalid(&e))?;
    serde_json::from_value(json).map_err(|e| invalid(&e))
}

/// A Rust value as a plain JS object (maps as objects, not `Map`s).
pub fn to_js<T: serde::Serialize>(value: &T) -> Result<JsValue, CoreError> {
    let serializer = serde_wasm_bindgen::Serializer::json_compatible();
    value.serialize(&serializer).map_err(|e| {
        CoreError::new(
            ErrorCode::StartFailed,
            format!("cannot encode a result: {e}"),
        )
    })
}

//! A panic is a bug, but it must not vanish: the hook reports it as an `error` event (code
//! `PANIC`) to every live node and to the console. With `panic = "abort"` the module is unusable
//! afterwards; the npm layer then rejects every call.

use std::{cell::RefCell, sync::Once};

use js_sys::Function;
use meshwork_core::{CoreError, ErrorCode, Event};

use super::events;

/// Most nodes whose callbacks the hook remembers (one page rarely runs more than a few).
const MAX_LISTENERS: usize = 64;

thread_local! {
    static LISTENERS: RefCell<Vec<(u32, Function)>> = const { RefCell::new(Vec::new()) };
}

static INSTALL: Once = Once::new();

/// Install the hook once per module.
pub fn install() {
    INSTALL.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            let error = CoreError::new(ErrorCode::Panic, format!("meshwork panicked: {info}"));
            web_sys::console::error_1(&error.message.clone().into());
            let event = events::to_js(&Event::Error { error });
            // `try_with`/`try_borrow`: a panic while the list is borrowed must not panic again.
            let _ = LISTENERS.try_with(|l| {
                if let Ok(list) = l.try_borrow() {
                    for (_, f) in list.iter() {
                        let _ = f.call1(&wasm_bindgen::JsValue::NULL, &event);
                    }
                }
            });
        }));
    });
}

/// Register a node's event callback; returns false when the list is full.
pub fn register(id: u32, callback: Function) -> bool {
    LISTENERS.with(|l| {
        let mut list = l.borrow_mut();
        if list.len() >= MAX_LISTENERS {
            return false;
        }
        list.push((id, callback));
        true
    })
}

/// Forget a stopped node's callback.
pub fn unregister(id: u32) {
    LISTENERS.with(|l| l.borrow_mut().retain(|(i, _)| *i != id));
}

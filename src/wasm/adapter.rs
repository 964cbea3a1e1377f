//! `streamChat({ adapter })`: a preset by name, or the caller's own
//! `Adapter` object. The facade wraps the object's `event` (js/api.js,
//! `customAdapter`) so that it is called as `event(type, data, id)` and
//! gives back an array of protocol events in JS form (`{ type, data }`,
//! `data` the event's payload as the protocol's JSON has it), or
//! `{ threw }` when the caller's function threw.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Array, Function, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use super::convert::EngineJson;
use crate::core::adapter::{Adapter, AdapterError, ForeignEvent, Format, Preset, Problem};
use crate::core::protocol::{read_payload, ChatEvent, EventKind};

/// What a caller's adapter threw, for the stream to fail with.
pub(crate) type Thrown = Rc<RefCell<Option<JsValue>>>;

/// The adapter `streamChat` was given: `undefined` for none, a preset's
/// name (checked by the facade), or the facade's wrapped `event` function.
pub(crate) fn adapter_of(value: &JsValue, thrown: &Thrown) -> Option<Box<dyn Adapter>> {
    if let Some(name) = value.as_string() {
        let preset = Preset::<EngineJson>::new(Format::from_name(&name)?)?;
        return Some(Box::new(preset));
    }
    let event = value.dyn_ref::<Function>()?.clone();
    Some(Box::new(JsAdapter {
        event,
        thrown: Rc::clone(thrown),
        events: 0,
    }))
}

/// The caller's own adapter.
struct JsAdapter {
    event: Function,
    thrown: Thrown,
    events: u32,
}

impl JsAdapter {
    fn refused(&self, event: &str) -> AdapterError {
        AdapterError {
            format: Format::Custom,
            problem: Problem::Refused,
            index: self.events,
            event: event.into(),
        }
    }
}

fn member(value: &JsValue, name: &str) -> JsValue {
    Reflect::get(value, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED)
}

/// One event in JS form: `{ type, data }`.
fn chat_event(value: JsValue) -> Option<ChatEvent> {
    let kind = EventKind::from_type(&member(&value, "type").as_string()?)?;
    read_payload(kind, &EngineJson::of(member(&value, "data")))
}

impl Adapter for JsAdapter {
    fn format(&self) -> Format {
        Format::Custom
    }

    fn event(
        &mut self,
        event: ForeignEvent<'_>,
        out: &mut Vec<ChatEvent>,
    ) -> Result<(), AdapterError> {
        self.events = self.events.saturating_add(1);
        let made = self
            .event
            .call3(
                &JsValue::UNDEFINED,
                &event.event_type.into(),
                &event.data.into(),
                &event.id.into(),
            )
            .unwrap_or(JsValue::UNDEFINED);
        if !Array::is_array(&made) {
            let threw = member(&made, "threw");
            if made.is_object() && threw.is_truthy() {
                self.thrown.replace(Some(member(&made, "cause")));
            }
            return Err(self.refused(event.event_type));
        }
        for value in Array::from(&made).iter() {
            match chat_event(value) {
                Some(chat) => out.push(chat),
                None => return Err(self.refused(event.event_type)),
            }
        }
        Ok(())
    }
}

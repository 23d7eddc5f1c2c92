//! Layers: the menus, panels and dialogs that open over the chat. One stack
//! for the page, so that Esc closes the topmost only, Tab stays inside the
//! topmost, arrow keys move through a menu, and focus goes back where it was
//! when a layer closes.

use std::rc::Rc;
use std::time::Duration;

use leptos::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlElement, KeyboardEvent};

/// How a layer takes the keyboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Focus moves into it when it opens, and Tab cycles inside it.
    Dialog,
    /// Focus moves to its first item; arrow keys, Home and End move
    /// between items; Tab closes it (focus goes back to its button).
    Menu,
}

struct Layer {
    id: u64,
    kind: Kind,
    /// Its element, once rendered.
    root: Option<Element>,
    close: Rc<dyn Fn()>,
    /// What had focus when it opened.
    returns_to: Option<HtmlElement>,
}

/// The page's stack of open layers, provided by the chat page.
#[derive(Clone, Copy)]
pub struct Layers {
    stack: StoredValue<Vec<Layer>, LocalStorage>,
    next: StoredValue<u64>,
    /// Where the layer closed last would have put focus back: a layer
    /// opened by an item of one that closed (a menu's "Report") returns
    /// focus there too.
    handed_on: StoredValue<Option<HtmlElement>, LocalStorage>,
}

impl Layers {
    pub fn new() -> Self {
        Self {
            stack: StoredValue::new_local(Vec::new()),
            next: StoredValue::new(0),
            handed_on: StoredValue::new_local(None),
        }
    }

    /// Acts on a key pressed anywhere on the page; true when a layer took
    /// it (and nothing else should). Keys already handled where they were
    /// pressed (the composer's mention list) and keys that end an input
    /// method's composition are left alone.
    pub fn on_key(&self, ev: &KeyboardEvent) -> bool {
        if ev.default_prevented() || ev.is_composing() {
            return false;
        }
        // The topmost layer on screen: a phone hides the sidebar, and a
        // panel left open there, while a conversation is open.
        let top = self.stack.with_value(|stack| {
            stack
                .iter()
                .rev()
                .find(|layer| layer.root.as_ref().is_none_or(on_screen))
                .map(|layer| (layer.kind, layer.root.clone(), layer.close.clone()))
        });
        let Some((kind, root, close)) = top else {
            return false;
        };
        let key = ev.key();
        if key == "Escape" {
            ev.prevent_default();
            close();
            return true;
        }
        let Some(root) = root else {
            return false;
        };
        // Tab and arrows act on a layer only from inside it: a menu left
        // open, or a panel beside the chat, does not take the keys of the
        // place the person went to with the mouse.
        if !has_focus(&root) {
            return false;
        }
        let taken = match (key.as_str(), kind) {
            ("Tab", Kind::Menu) => {
                close();
                true
            }
            ("Tab", Kind::Dialog) => cycle(&root, ev.shift_key()),
            (key, Kind::Menu) => move_focus(&root, ITEMS, key),
            _ => false,
        };
        if taken {
            ev.prevent_default();
        }
        taken
    }

    fn push(&self, kind: Kind, close: Rc<dyn Fn()>) -> u64 {
        let id = self.next.get_value();
        self.next.set_value(id + 1);
        let returns_to =
            focused().or_else(|| self.handed_on.try_update_value(Option::take).flatten());
        self.stack.update_value(|stack| {
            stack.push(Layer {
                id,
                kind,
                root: None,
                close,
                returns_to,
            })
        });
        id
    }

    fn attach(&self, id: u64, root: Element) {
        self.stack.update_value(|stack| {
            if let Some(layer) = stack.iter_mut().find(|layer| layer.id == id) {
                layer.root = Some(root);
            }
        });
    }

    /// Takes the layer off the stack; what had focus before it opened gets
    /// it back, unless focus has gone somewhere on purpose since.
    fn remove(&self, id: u64) {
        let removed = self.stack.try_update_value(|stack| {
            let index = stack.iter().position(|layer| layer.id == id)?;
            Some(stack.remove(index))
        });
        let Some(Some(layer)) = removed else {
            return;
        };
        if let Some(target) = layer.returns_to {
            self.handed_on.try_set_value(Some(target.clone()));
            let handed_on = self.handed_on;
            // After the layer's elements have left the page (and any layer
            // it opened has taken what it hands on).
            set_timeout(
                move || {
                    handed_on.try_set_value(None);
                    if target.is_connected() && focus_is_lost() {
                        let _ = target.focus();
                    }
                },
                Duration::ZERO,
            );
        }
    }
}

impl Default for Layers {
    fn default() -> Self {
        Self::new()
    }
}

/// Makes the calling component a layer: `root` finds its element once
/// rendered, `close` closes it. It leaves the stack when the component goes.
pub fn use_layer(
    kind: Kind,
    root: impl Fn() -> Option<Element> + 'static,
    close: impl Fn() + 'static,
) {
    let Some(layers) = use_context::<Layers>() else {
        return;
    };
    let id = layers.push(kind, Rc::new(close));
    Effect::new(move |attached: Option<bool>| {
        if attached == Some(true) {
            return true;
        }
        let Some(element) = root() else {
            return false;
        };
        layers.attach(id, element.clone());
        focus_into(element, kind, WAIT_FRAMES, focused());
        true
    });
    on_cleanup(move || layers.remove(id));
}

/// How many frames (about two seconds) a layer waits for something to
/// focus: what it shows can come after it (what another app shared, read
/// from where the service worker keeps it).
const WAIT_FRAMES: u32 = 120;

/// Moves focus into a layer that just opened: a dialog's first control, a
/// menu's first item, else (once nothing came within `frames`) the layer.
/// `opener` is what had focus when it opened: while focus is still there
/// (or nowhere), the layer may take it; once the person moved it, not.
fn focus_into(element: Element, kind: Kind, frames: u32, opener: Option<HtmlElement>) {
    let first = match kind {
        Kind::Dialog => focusable(&element).into_iter().next(),
        Kind::Menu => shown(&element, ITEMS).into_iter().next(),
    };
    if let Some(first) = first {
        let _ = first.focus();
        return;
    }
    if frames > 0 {
        request_animation_frame(move || {
            let now = focused();
            if element.is_connected() && (now.is_none() || now == opener) {
                focus_into(element, kind, frames - 1, opener);
            }
        });
        return;
    }
    if let Some(own) = boxed(&element).and_then(|own| own.dyn_into::<HtmlElement>().ok()) {
        if !own.has_attribute("tabindex") {
            let _ = own.set_attribute("tabindex", "-1");
        }
        let _ = own.focus();
    }
}

/// The element with focus, when it is a real one (not the page's body).
fn focused() -> Option<HtmlElement> {
    let document = document();
    let active = document.active_element()?;
    let body = document.body()?;
    (active != *body.as_ref())
        .then(|| active.dyn_into::<HtmlElement>().ok())
        .flatten()
}

/// Whether nothing has focus (the page's body has it).
pub fn focus_is_lost() -> bool {
    focused().is_none()
}

const FOCUSABLE: &str =
    "a[href], button:not([disabled]), input:not([disabled]):not([type=hidden]), \
     select:not([disabled]), textarea:not([disabled]), iframe, audio[controls], video[controls], \
     [tabindex]:not([tabindex='-1'])";

/// What Tab can reach inside `root`, in order, leaving out what is hidden.
fn focusable(root: &Element) -> Vec<HtmlElement> {
    shown(root, FOCUSABLE)
}

/// A menu's items.
const ITEMS: &str = "[role=menuitem]:not([disabled])";

fn shown(root: &Element, selector: &str) -> Vec<HtmlElement> {
    let Ok(found) = root.query_selector_all(selector) else {
        return Vec::new();
    };
    (0..found.length())
        .filter_map(|index| found.item(index))
        .filter_map(|node| node.dyn_into::<HtmlElement>().ok())
        .filter(|element| has_box(element))
        .filter(|element| {
            element
                .closest("[aria-hidden=true], [inert]")
                .ok()
                .flatten()
                .is_none()
        })
        .collect()
}

/// Tab inside a dialog: from its last element to its first, and back.
/// False when the browser's own move stays inside.
fn cycle(root: &Element, backwards: bool) -> bool {
    let elements = focusable(root);
    // Nothing to hold focus: no trap.
    let (Some(first), Some(last)) = (elements.first(), elements.last()) else {
        return false;
    };
    let at = focused().and_then(|active| elements.iter().position(|element| *element == active));
    let target = match (at, backwards) {
        // On the layer itself, or something Tab does not reach.
        (None, false) => first,
        (None, true) => last,
        (Some(0), true) => last,
        (Some(at), false) if at + 1 == elements.len() => first,
        _ => return false,
    };
    let _ = target.focus();
    true
}

/// Whether focus is inside `root`.
fn has_focus(root: &Element) -> bool {
    focused().is_some_and(|active| root.contains(Some(active.as_ref())))
}

/// Whether a layer is on screen.
fn on_screen(root: &Element) -> bool {
    boxed(root).is_some_and(|element| has_box(&element))
}

/// The element that stands for a layer on the page: a `Layer`'s own
/// element has no box (`display: contents`), its child has.
fn boxed(root: &Element) -> Option<Element> {
    if root.class_list().contains("layer") {
        root.first_element_child()
    } else {
        Some(root.clone())
    }
}

/// Whether `element` takes up room on the page (not `display: none`).
fn has_box(element: &Element) -> bool {
    let rect = element.get_bounding_client_rect();
    rect.width() > 0.0 || rect.height() > 0.0
}

/// Arrow keys, Home and End through the elements `selector` finds in
/// `root` (a menu's items, the chat list's rows); false for other keys.
pub fn move_focus(root: &Element, selector: &str, key: &str) -> bool {
    if !matches!(key, "ArrowDown" | "ArrowUp" | "Home" | "End") {
        return false;
    }
    let items = shown(root, selector);
    if items.is_empty() {
        return true;
    }
    let current = focused().and_then(|active| items.iter().position(|item| *item == active));
    let last = items.len() - 1;
    let next = match (key, current) {
        ("Home", _) | ("ArrowDown", None) => 0,
        ("ArrowDown", Some(at)) => (at + 1) % items.len(),
        ("ArrowUp", Some(at)) => at.checked_sub(1).unwrap_or(last),
        // End, or up from outside the items.
        _ => last,
    };
    let _ = items[next].focus();
    true
}

/// Wraps `children` as one layer. Its element takes no box of its own
/// (`display: contents`), so the children lay out as they would without it.
#[component]
pub fn Layer(kind: Kind, #[prop(into)] close: Callback<()>, children: Children) -> impl IntoView {
    let root = NodeRef::<leptos::html::Div>::new();
    use_layer(
        kind,
        move || root.get().map(Element::from),
        move || close.run(()),
    );
    view! {
        <div class="layer" node_ref=root>
            {children()}
        </div>
    }
}

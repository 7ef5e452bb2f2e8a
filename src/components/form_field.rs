//! A labelled text input with its error below it, wired for screen readers: the error is the
//! input's description and flips `aria-invalid`.

use leptos::prelude::*;

/// What kind of text a field takes: the input's `type`, `autocomplete` and `inputmode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldKind {
    Username,
    Email,
    /// A PIN being chosen (password managers offer to save it).
    NewPin,
}

impl FieldKind {
    fn input_type(self) -> &'static str {
        match self {
            Self::Username => "text",
            Self::Email => "email",
            Self::NewPin => "password",
        }
    }

    fn autocomplete(self) -> &'static str {
        match self {
            Self::Username => "username",
            Self::Email => "email",
            Self::NewPin => "new-password",
        }
    }

    fn inputmode(self) -> Option<&'static str> {
        (self == Self::NewPin).then_some("numeric")
    }
}

#[component]
pub fn FormField(
    label: String,
    /// The input's `name` (also the base of its error's id).
    name: &'static str,
    kind: FieldKind,
    value: RwSignal<String>,
    #[prop(into)] error: Signal<Option<String>>,
    /// Set when the field is left: errors show from then on, not while typing first.
    touched: RwSignal<bool>,
    #[prop(optional)] max_length: Option<usize>,
) -> impl IntoView {
    let error_id = format!("{name}-error");
    view! {
        <label>
            {label}
            <input
                type=kind.input_type()
                name=name
                autocomplete=kind.autocomplete()
                inputmode=kind.inputmode()
                required=true
                maxlength=max_length.map(|n| n.to_string())
                prop:value=move || value.get()
                on:input=move |ev| value.set(event_target_value(&ev))
                on:blur=move |_| touched.set(true)
                aria-invalid=move || error.get().is_some().to_string()
                aria-describedby=error_id.clone()
            />
            <span id=error_id class="field-error">{move || error.get()}</span>
        </label>
    }
}

//! Files the person picked, pasted or dropped.

use leptos::html::Input;
use leptos::prelude::*;
use web_sys::{File, FileList};

/// The files in a file list, in order.
pub fn files_of(list: Option<FileList>) -> Vec<File> {
    let Some(list) = list else {
        return Vec::new();
    };
    (0..list.length()).filter_map(|i| list.get(i)).collect()
}

/// The first file picked with the file input `picker`, if any.
pub fn first_picked(picker: NodeRef<Input>) -> Option<File> {
    picker
        .get_untracked()
        .and_then(|input| files_of(input.files()).into_iter().next())
}

//! Scene templates (JSON documents, like cue lists).

super::documents::named_documents! {
    /// A stored scene template (its `TemplateSpec` as JSON).
    TemplateRecord in templates, "template":
    insert insert_template, update update_template, list list_templates, get template,
    delete delete_template
}

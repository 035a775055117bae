//! Inputs (JSON documents, like templates).

super::documents::named_documents! {
    /// A stored input (its `InputSpec` as JSON, password included).
    InputRecord in inputs, "input":
    insert insert_input, update update_input, list list_inputs, get input,
    delete delete_input
}

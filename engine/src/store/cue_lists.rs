//! Cue lists (JSON documents, like schedule entries).

super::documents::named_documents! {
    /// A stored cue list (its `CueListSpec` as JSON).
    CueListRecord in cue_lists, "cue list":
    insert insert_cue_list, update update_cue_list, list list_cue_lists, get cue_list,
    delete delete_cue_list
}

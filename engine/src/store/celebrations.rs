//! Celebrations (JSON documents, like inputs).

super::documents::named_documents! {
    /// A stored celebration (its `CelebrationSpec` as JSON).
    CelebrationRecord in celebrations, "celebration":
    insert insert_celebration, update update_celebration, list list_celebrations,
    get celebration, delete delete_celebration
}

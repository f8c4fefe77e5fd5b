//! For tests: struct layouts as naga reads them from WGSL, compared with their Rust mirrors.

/// Size and `(name, offset)` of each member of the struct `name` in the WGSL module `source`.
///
/// # Panics
/// When `source` does not parse or has no struct called `name`.
pub(crate) fn wgsl_struct(source: &str, name: &str) -> (u32, Vec<(String, u32)>) {
    let module = naga::front::wgsl::parse_str(source).unwrap_or_else(|e| panic!("{}", e.emit_to_string(source)));
    module
        .types
        .iter()
        .find_map(|(_, ty)| match &ty.inner {
            naga::TypeInner::Struct { members, span } if ty.name.as_deref() == Some(name) => {
                let members = members
                    .iter()
                    .map(|m| (m.name.clone().unwrap_or_default(), m.offset))
                    .collect();
                Some((*span, members))
            }
            _ => None,
        })
        .unwrap_or_else(|| panic!("no struct {name} in the WGSL"))
}

/// Assert that the WGSL struct `$wgsl` of module `$source` has the size of the Rust struct
/// `$rust` and the members `$field`s, in this order, with the same names and offsets. The list
/// must name every field of `$rust` (checked by destructuring), so a member added, removed or
/// moved on either side fails.
macro_rules! assert_wgsl_layout {
    ($source:expr, $wgsl:literal, $rust:ident { $($field:ident),* $(,)? }) => {{
        let _every_field_listed = |value: $rust| {
            let $rust { $($field: _),* } = value;
        };
        let rust = (
            std::mem::size_of::<$rust>() as u32,
            vec![$((stringify!($field).to_owned(), std::mem::offset_of!($rust, $field) as u32)),*],
        );
        assert_eq!(
            $crate::wgsl_layout::wgsl_struct($source, $wgsl),
            rust,
            "WGSL struct {} vs {} (size, members)",
            $wgsl,
            stringify!($rust)
        );
    }};
}
pub(crate) use assert_wgsl_layout;
